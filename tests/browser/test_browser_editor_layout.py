"""Where the editor's preview sits: beside the form on a wide screen, above it on a
phone when asked for without JavaScript - never a screen below the form."""

from __future__ import annotations

import pytest
from livesite import ARTIFACTS
from playwright.sync_api import expect

# Layout is the browser's and the stylesheet's: CI runs it once, on SQLite.
pytestmark = pytest.mark.db_independent

WIDTHS = {"phone": (390, 844), "desktop": (1280, 800)}
CASES = [(device, script) for device in sorted(WIDTHS) for script in ("js", "nojs")]


@pytest.fixture(params=CASES, ids=[f"{device}-{script}" for device, script in CASES])
def case(request):
    """The device and whether scripts run."""
    return request.param


@pytest.fixture
def context_options(case):
    """The device's viewport, with or without JavaScript."""
    device, script = case
    width, height = WIDTHS[device]
    return {"viewport": {"width": width, "height": height}, "java_script_enabled": script == "js"}


def box(locator) -> dict:
    """Where an element is on the page (page coordinates, not the viewport's)."""
    found = locator.bounding_box()
    assert found is not None, "not shown"
    return {**found, "y": found["y"] + locator.page.evaluate("window.scrollY")}


def test_the_preview_is_beside_the_form_or_above_it_never_a_screen_below(page, auth, case):
    device, script = case
    auth.register()
    auth.login()
    page.goto("/create")
    page.get_by_label("Title").fill("Where is the preview?")
    page.get_by_label("Body").fill("Some *emphasis*.\n\n" + "A longer paragraph. " * 40)
    if script == "nojs":
        # The answer is a new page: measured before its stylesheet has loaded, the
        # boxes were those of an unstyled page (seen once in CI).
        with page.expect_navigation(wait_until="load"):
            page.get_by_role("button", name="Preview").click()
    preview = page.locator("section#preview")
    expect(preview.locator("em")).to_have_text("emphasis")
    title, body, shown = (
        box(page.get_by_label("Title")),
        box(page.get_by_label("Body")),
        box(preview),
    )
    if device == "desktop":
        # Side by side: the preview starts right of the fields, level with the title.
        assert shown["x"] >= title["x"] + title["width"]
        assert shown["y"] <= title["y"] + title["height"]
    elif script == "nojs":
        # Asked for on a phone: the preview comes first, the form follows.
        assert shown["y"] + shown["height"] <= title["y"]
    else:
        # Live on a phone: the preview follows the form, below what is typed.
        assert body["y"] + body["height"] <= shown["y"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"editor-preview-{device}-{script}.png"))
