"""Run the inventory service: `python -m services.inventory`."""

from services.inventory.app import build

if __name__ == "__main__":
    build().run()
