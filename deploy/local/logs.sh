#!/usr/bin/env bash
# Follow the local logs: Kafka (.local/kafka/server.log), PostgreSQL (.local/postgres/postgres.log)
# and the services (.local/services/*.log, written by the service runner).
#   deploy/local/logs.sh                  all of them
#   deploy/local/logs.sh kafka orders     only those (kafka, postgres, or a service log name)
# LINES_BACK (default 20) sets how many earlier lines of each file to show first.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

files=()
add() { [[ -e "$1" ]] && files+=("$1") || true; }

if (($# == 0)); then
  add .local/kafka/server.log
  add .local/postgres/postgres.log
  for f in .local/services/*.log; do add "$f"; done
else
  for name in "$@"; do
    case "$name" in
      kafka) add .local/kafka/server.log ;;
      postgres) add .local/postgres/postgres.log ;;
      *) add ".local/services/$name.log" ;;
    esac
  done
fi

if ((${#files[@]} == 0)); then
  echo "logs: no log files yet under .local/ (start things with deploy/local/up.sh)" >&2
  exit 1
fi
exec tail -n "${LINES_BACK:-20}" -F "${files[@]}"
