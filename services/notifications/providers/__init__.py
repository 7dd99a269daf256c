"""Message providers: one Protocol (interface.py) and one httpx client per provider's own API."""
