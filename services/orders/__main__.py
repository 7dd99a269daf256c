"""Run the orders service: `python -m services.orders`."""

from services.orders.app import build

if __name__ == "__main__":
    build().run()
