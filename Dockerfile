# One image for every Dabba process: `python -m services.<name>`, `python -m sandbox`,
# `python -m chassis.topics`. Dependencies come from the committed uv.lock (no dev, no local group).
# The console's fonts come from npm, pinned by services/console/assets/package-lock.json.
FROM node:22-slim AS console-assets
WORKDIR /assets
COPY services/console/assets/package.json services/console/assets/package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_PYTHON_DOWNLOADS=never

RUN pip install uv
# Labels, manifests, invoices and credit notes set India's scripts in Noto (ADR 390).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# Dependencies first, in their own layer, so code changes do not reinstall them.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-group local --no-install-project

COPY contracts/ contracts/
COPY chassis/ chassis/
COPY services/ services/
COPY sandbox/ sandbox/
COPY --from=console-assets /assets/node_modules services/console/assets/node_modules
RUN uv sync --frozen --no-dev --no-group local --no-editable \
    && useradd --system --uid 10001 --no-create-home --home-dir /app dabba

ENV PATH="/app/.venv/bin:$PATH"
USER dabba

EXPOSE 8001 8002 8003 8004 8005 8006 8010
CMD ["python", "-m", "sandbox"]
