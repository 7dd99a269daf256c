"""Run the notifications service: `python -m services.notifications`."""

from services.notifications.app import build

if __name__ == "__main__":
    build().run()
