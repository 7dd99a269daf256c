"""Idle cost: CPU per second of the whole stack with no orders flowing.

`python -m bench.idle --seconds 60` (Kafka and PostgreSQL up first) restarts every process, lets
them settle, then reads user+sys per group from /proc over the window. What it prints is paid every
second whether orders come or not: at 40 orders/s, 400 ms of CPU per second is 10 ms per order.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from bench.run import RESULTS, cpu_seconds, process_roots, say, start_stack
from deploy.local.ports import export_defaults
from deploy.local.stack import ANY_HOUR, Stack


def main() -> int:
    export_defaults()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="the measured window (default 60)")
    parser.add_argument("--settle", type=float, default=20, help="seconds to wait after start (default 20)")
    args = parser.parse_args()
    stack = Stack(env=ANY_HOUR)
    try:
        up = start_stack(stack)
        say(f"idle: up: {', '.join(up)}; settling {args.settle:.0f}s, then measuring {args.seconds:.0f}s")
        time.sleep(args.settle)
        roots = process_roots(stack)
        before, started = cpu_seconds(roots), time.monotonic()
        time.sleep(args.seconds)
        after, elapsed = cpu_seconds(roots), time.monotonic() - started
    finally:
        stack.stop_all()
    per_s = {g: (after.get(g, 0.0) - before.get(g, 0.0)) / elapsed * 1000 for g in after}
    total = sum(per_s.values())
    say(
        f"idle: {total:.0f} ms CPU per second ("
        + ", ".join(f"{g} {v:.0f}" for g, v in sorted(per_s.items(), key=lambda kv: -kv[1]))
        + f"); at 40 orders/s that is {total / 40:.1f} ms per order"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"idle-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps({"seconds": elapsed, "ms_cpu_per_s": per_s, "total": total}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
