"""Run the sandbox: `python -m sandbox` serves every simulated provider on 0.0.0.0:HTTP_PORT.
One process only, because all provider state is held in this process's memory."""

import uvicorn

from sandbox.app import create_app
from sandbox.settings import SandboxSettings


def main() -> None:
    settings = SandboxSettings()
    # No access log: a line per simulated provider call costs more CPU than the call itself.
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.http_port, access_log=False)


if __name__ == "__main__":
    main()
