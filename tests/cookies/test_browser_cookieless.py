"""Both cookie-less launch paths in real Chromium with third-party cookies blocked (method: see conftest)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cookies.conftest import CrossSite, block_frame_cookies

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("target", ["_parent", "lti-storage"])
def test_platform_storage_keeps_the_state_in_the_iframe(cross_site: CrossSite, browser: Any, target: str) -> None:
    """``_parent``: the course page answers; ``lti-storage``: a named frame of the course page does."""
    cross_site.double.storage_target = target
    context = browser.new_context()
    page = context.new_page()
    seen: list[dict[str, Any]] = []
    block_frame_cookies(page, cross_site.tool.url, seen)
    page.goto(cross_site.platform_url + "/")
    page.get_by_role("link", name="Botschafterin Lena (Lernende)").click()
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_text("Hallo Lena Schreiner!").first.wait_for(timeout=15000)
    tool_frame = next(f for f in page.frames if f.name == "tool")
    assert "/t/" in tool_frame.url and tool_frame.url.startswith(cross_site.tool.url)
    launches = [r for r in seen if r["url"].endswith("/lti/launch") and r["method"] == "POST"]
    assert len(launches) == 2, launches  # the platform's POST, then our re-post with the state read back
    assert "lti_storage_check" in launches[1]["post"] and "lti_storage_state" in launches[1]["post"]
    assert all(r["frame"] for r in seen)
    assert not any(r["stripped"] for r in seen)  # Chromium itself sent the tool no cookie in the frame
    context.close()


def test_new_window_path_when_the_platform_offers_no_storage(cross_site: CrossSite, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    seen: list[dict[str, Any]] = []
    block_frame_cookies(page, cross_site.tool.url, seen)
    page.goto(cross_site.platform_url + "/")
    page.get_by_role("link", name="Botschafterin Lena (Lernende)").click()
    frame = page.frame_locator("iframe[name=tool]")
    button = frame.get_by_role("link", name="medienwerk in neuem Fenster öffnen")
    frame.get_by_text("Dein Browser blockiert Cookies").wait_for(timeout=15000)
    with context.expect_page() as popup_info:
        button.click()
    popup = popup_info.value
    popup.get_by_text("Hallo Lena Schreiner!").first.wait_for(timeout=15000)
    assert popup.url.startswith(cross_site.tool.url + "/t/")
    context.close()


def _axe(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    return [f"{v['id']}: {v['help']}" for v in Axe().run(page).response["violations"]]


def test_picker_and_registration_pages_have_no_axe_violations(cross_site: CrossSite, browser: Any) -> None:
    import requests

    from lms.registrations.services import create_invitation
    from tests.conftest import form_fields

    session = requests.Session()
    login = session.get(
        cross_site.tool.url + "/lti/login",
        params=cross_site.double.login_params("trainer", deep_linking=True),
        timeout=10,
    )
    action, fields = form_fields(login.text)
    picker = session.post(action, data=fields, timeout=10)
    assert picker.status_code == 200
    with cross_site.app.app_context():
        from lms.core.extensions import db

        _, token = create_invitation(name="HWK Axe", chamber_slug=None)
        db.session.commit()
    register = f"{cross_site.tool.url}/lti/register?invitation={token}"
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for url in (
        picker.url,
        register + "&openid_configuration=" + cross_site.platform_url + "/openid-configuration",
        register,
        cross_site.tool.url + "/lti/register?invitation=nope",
    ):
        page.goto(url)
        assert _axe(page) == [], url
    context.close()
