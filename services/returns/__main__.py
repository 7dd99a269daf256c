"""Run the returns service: `python -m services.returns`."""

from services.returns.app import build

if __name__ == "__main__":
    build().run()
