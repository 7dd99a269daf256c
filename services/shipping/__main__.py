"""Run the shipping service: `python -m services.shipping`."""

from services.shipping.app import build

if __name__ == "__main__":
    build().run()
