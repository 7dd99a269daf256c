#!/usr/bin/env bash
# Stop the local infrastructure started by up.sh (Kafka and PostgreSQL), in parallel. Data is kept
# in .local/; remove that folder for a clean slate.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="${DABBA_PYTHON:-$ROOT/.venv/bin/python}"

bash deploy/local/kafka.sh stop &
kafka=$!
pg=""
if [[ -x "$PY" ]]; then
  "$PY" deploy/local/postgres.py stop &
  pg=$!
else
  echo "down: no virtualenv ($PY), cannot stop postgres" >&2
fi

rc=0
wait "$kafka" || rc=1
if [[ -n "$pg" ]]; then wait "$pg" || rc=1; fi
exit "$rc"
