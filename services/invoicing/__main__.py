"""Run the invoicing service: `python -m services.invoicing`."""

from services.invoicing.app import build

if __name__ == "__main__":
    build().run()
