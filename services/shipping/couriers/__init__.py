"""Courier adapters: one Protocol (interface.py) and one httpx client per courier's own API."""
