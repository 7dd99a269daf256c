"""The settings screen in a real headless Chromium through the real stack (ADR 381): an ops operator
adds a warehouse and a routing rule and reads both back, the rule with themself as its author
(routing records them); a viewer is refused by routing and nothing is added; the Hindi templates
preview in Devanagari drawn with the console's own fonts."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, expect

from deploy.local.ports import dev_headers
from deploy.local.stack import Stack
from tests.e2e.test_console_browser import CONSOLE, SHOTS, browser, sign_in
from tests.helpers import unique, url

pytestmark = pytest.mark.e2e
__all__ = ["browser"]  # the browser fixture, shared with the console's other browser tests


async def rules_for(sku: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(timeout=10, headers=dev_headers("viewer")) as http:
        answer = await http.get(url("routing", "/rules"), params={"limit": 500})
    assert answer.status_code == 200, answer.text
    return [r for r in answer.json()["items"] if r["sku"] == sku]


async def test_an_operator_adds_a_routing_rule_and_reads_it_back_and_a_viewer_is_refused(
    stack: Stack, browser: Browser
) -> None:
    sku = unique("SET-PIN")
    warehouse = unique("TW")[:14]  # its own warehouse, inactive: routing never sends an order to it
    viewer = await sign_in(browser, "vikram")
    await viewer.goto(f"{CONSOLE}/settings")
    form = viewer.get_by_role("form", name="Add a rule")
    await form.get_by_label("Rule kind").select_option("pin_sku")
    await form.get_by_label("Rule warehouse").fill(warehouse)
    await form.get_by_label("Rule SKU").fill(sku)
    await form.get_by_role("button", name="Add rule").click()
    await expect(viewer.get_by_role("alert")).to_contain_text("forbidden")
    assert await rules_for(sku) == []  # routing refused it

    page = await sign_in(browser, "asha")
    await page.goto(f"{CONSOLE}/settings")
    await page.get_by_text("Add or change a warehouse").click()
    form = page.get_by_role("form", name="Warehouse")
    await form.get_by_label("Warehouse code").fill(warehouse)
    await form.get_by_label("Warehouse name").fill("Test shelf")
    await form.get_by_label("Warehouse pincode").fill("560058")
    await form.get_by_label("Cut-off (HH:MM)").fill("14:00")
    await form.get_by_label("active").uncheck()
    await form.get_by_role("button", name="Save warehouse").click()
    await expect(page.get_by_role("status")).to_contain_text(f"warehouse {warehouse} saved")
    await expect(page.locator(f"#warehouses tr[data-warehouse='{warehouse}']")).to_contain_text("Test shelf")

    form = page.get_by_role("form", name="Add a rule")
    await form.get_by_label("Rule kind").select_option("pin_sku")
    await form.get_by_label("Rule warehouse").fill(warehouse)
    await form.get_by_label("Rule SKU").fill(sku)
    await form.get_by_role("button", name="Add rule").click()
    await expect(page.get_by_role("status")).to_contain_text("added")
    [stored] = await rules_for(sku)
    row = page.locator(f"#rules tr[data-rule='{stored['id']}']")
    await expect(row).to_contain_text(f"SKU {sku}")
    await expect(row.locator("td.actor")).to_have_text("ops:asha")

    # Hindi previews: Devanagari drawn with the console's own web fonts, not a system font or boxes.
    preview = page.locator("#templates tr[data-template='order_confirmed'] td.preview")
    await expect(preview).to_contain_text("नमस्ते आशा वर्मा")
    await page.evaluate("document.fonts.ready.then(() => true)")
    await preview.evaluate("el => el.setAttribute('data-probe', 'hindi-template')")
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("DOM.enable")
    await cdp.send("CSS.enable")
    root = await cdp.send("DOM.getDocument", {"depth": -1})
    node = await cdp.send(
        "DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": "[data-probe=hindi-template]"}
    )
    used = (await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]}))["fonts"]
    assert used and all(f["isCustomFont"] for f in used), used
    # Noto Sans as the console serves it (fontsource) carries a Devanagari subset of its own.
    assert any("Devanagari" in f["familyName"] or f["familyName"] == "Noto Sans" for f in used), used
    assert await page.evaluate("t => document.fonts.check('15px \"Noto Sans\"', t)", "नमस्ते")
    await page.set_viewport_size({"width": 390, "height": 844})
    await page.screenshot(path=str(SHOTS / "settings-phone.png"), full_page=True)

    await row.get_by_role("button", name="Remove").click()  # leave routing as it was
    await expect(page.get_by_role("status")).to_contain_text(f"rule {stored['id']} removed")
    assert await rules_for(sku) == []

    # API keys: each service shows an administrator who may call it, never a key; ops is refused by it.
    await expect(page.locator("#api-keys tr[data-service='orders']")).to_contain_text("forbidden")
    admin = await sign_in(browser, "admin")
    await admin.goto(f"{CONSOLE}/settings")
    keys = admin.locator("#api-keys tr[data-service='orders'][data-key]")
    await expect(keys.first).to_be_visible()
    assert await keys.count() >= 4  # the development keys: admin, ops, warehouse, viewer, channel…
    html = await admin.content()
    assert "dev-admin-key-local" not in html and "dev-console-admin-local" not in html
