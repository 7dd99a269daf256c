"""Run the channels service: `python -m services.channels`."""

from services.channels.app import build

if __name__ == "__main__":
    build().run()
