"""Wiring for the sandbox: one FastAPI app serving every simulated provider and the control API.
State lives in memory on the app, so run a single process (no workers) per sandbox."""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox import (
    amazon,
    control,
    courier_delhivery,
    courier_shiprocket,
    courier_sim,
    courier_xpressbees,
    flipkart,
    irp,
    razorpay,
    shopify,
    slack,
    sms_msg91,
    sqs,
    whatsapp,
    whatsapp_callbacks,
    woocommerce,
)
from sandbox.errors import ProviderError
from sandbox.settings import SandboxSettings
from sandbox.state import SandboxState


async def provider_error(request: Request, exc: Exception) -> JSONResponse:
    """Answer a ProviderError in the body the provider route built."""
    assert isinstance(exc, ProviderError)
    return JSONResponse(exc.body, status_code=exc.status_code, headers=exc.headers)


def create_app(settings: SandboxSettings | None = None) -> FastAPI:
    """Build a sandbox with empty state; each call gets its own, so tests stay isolated."""
    app = FastAPI(title="Dabba provider sandbox", version="0.1.0")
    app.state.settings = settings or SandboxSettings()
    app.state.sandbox = state = SandboxState()
    sim = state.simulation
    sim.shipping_url = app.state.settings.shipping_url
    sim.recorders |= {
        "delhivery": courier_delhivery.make_recorder(state.courier),
        "shiprocket": courier_shiprocket.make_recorder(state),
        "xpressbees": courier_xpressbees.make_recorder(state),
    }
    sim.renderers |= {
        "delhivery": courier_delhivery.make_renderer(app.state.settings),
        "shiprocket": courier_shiprocket.make_renderer(app.state.settings, state),
        "xpressbees": courier_xpressbees.make_renderer(app.state.settings),
    }
    app.state.razorpay = razorpay.RazorpayState()
    app.state.razorpay_settings = razorpay.RazorpaySandboxSettings()
    app.state.shopify = shopify.ShopifyState()
    app.state.woocommerce = woocommerce.WooState()
    app.state.sqs = sqs.SqsState()
    app.state.amazon = amazon.AmazonState(sqs=app.state.sqs)
    app.state.flipkart = flipkart.FlipkartState()
    app.state.irp = irp.IrpState()
    app.add_exception_handler(ProviderError, provider_error)
    # Control routes first: /_sandbox/whatsapp/messages also fits WhatsApp's
    # /{version}/{phone_number_id}/messages pattern.
    app.include_router(control.router)
    app.include_router(courier_sim.router)
    app.include_router(whatsapp_callbacks.router)
    app.include_router(courier_delhivery.router)
    app.include_router(courier_shiprocket.router)
    app.include_router(courier_xpressbees.router)
    app.include_router(razorpay.control)
    app.include_router(shopify.control)
    app.include_router(woocommerce.control)
    app.include_router(amazon.control)
    app.include_router(flipkart.control)
    app.include_router(irp.control)
    app.include_router(shopify.router)
    app.include_router(woocommerce.router)
    app.include_router(amazon.router)
    app.include_router(sqs.router)
    app.include_router(flipkart.router)
    app.include_router(razorpay.router)
    app.include_router(irp.router)
    app.include_router(whatsapp.router)
    app.include_router(sms_msg91.router)
    app.include_router(slack.router)
    return app
