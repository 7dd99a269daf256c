"""Run the routing service: `python -m services.routing`."""

from services.routing.app import build

if __name__ == "__main__":
    build().run()
