#!/usr/bin/env bash
# Start the local infrastructure: Kafka (127.0.0.1:9092) and PostgreSQL (127.0.0.1:5432), in parallel.
# Idempotent; honours KAFKA_BOOTSTRAP_SERVERS / DATABASE_URL pointing at existing servers.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="${DABBA_PYTHON:-$ROOT/.venv/bin/python}"

if [[ ! -x "$PY" ]]; then
  echo "up: no virtualenv yet, running uv sync --frozen…"
  uv sync --frozen
fi

t0=$(date +%s%N)
bash deploy/local/kafka.sh start &
kafka=$!
"$PY" deploy/local/postgres.py start &
pg=$!

rc=0
wait "$kafka" || { rc=1; echo "up: kafka failed to start" >&2; }
wait "$pg" || { rc=1; echo "up: postgres failed to start" >&2; }
ms=$((($(date +%s%N) - t0) / 1000000))
if ((rc == 0)); then
  echo "up: infrastructure ready in $((ms / 1000)).$(((ms % 1000) / 100))s"
fi
exit "$rc"
