"""The seller's courier accounts as adapters, built from settings: one httpx client per courier."""

from __future__ import annotations

from chassis.service import Service
from services.shipping.couriers.delhivery import DelhiveryCourier
from services.shipping.couriers.interface import CourierAdapter
from services.shipping.couriers.shiprocket import ShiprocketCourier
from services.shipping.couriers.xpressbees import XpressbeesCourier
from services.shipping.settings import ShippingSettings


def build_adapters(service: Service, settings: ShippingSettings) -> dict[str, CourierAdapter]:
    """Adapters of the couriers named in COURIERS, keyed by courier code."""
    timeout = settings.courier_timeout_s
    known: dict[str, CourierAdapter] = {}
    for name in settings.courier_names:
        if name == "delhivery":
            known[name] = DelhiveryCourier(
                service.http_client(base_url=settings.courier_base_url, timeout=timeout),
                token=settings.delhivery_token,
                webhook_token=settings.delhivery_webhook_token,
            )
        elif name == "shiprocket":
            known[name] = ShiprocketCourier(
                service.http_client(base_url=settings.shiprocket_base_url, timeout=timeout),
                email=settings.shiprocket_email,
                password=settings.shiprocket_password,
                webhook_token=settings.shiprocket_webhook_token,
            )
        elif name == "xpressbees":
            known[name] = XpressbeesCourier(
                service.http_client(base_url=settings.xpressbees_base_url, timeout=timeout),
                email=settings.xpressbees_email,
                password=settings.xpressbees_password,
                webhook_secret=settings.xpressbees_webhook_secret,
            )
        else:
            raise ValueError(f"COURIERS names {name!r}; known couriers: delhivery, shiprocket, xpressbees")
    return known
