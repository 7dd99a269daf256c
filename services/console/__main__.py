"""Run the console: `python -m services.console`, or `python -m services.console rebuild` (ADR 81)."""

import asyncio
import sys

from services.console.app import build
from services.console.rebuild import rebuild_command

if __name__ == "__main__":
    if sys.argv[1:] == ["rebuild"]:
        sys.exit(asyncio.run(rebuild_command()))
    build().run()
