"""The live-tutorial pages at 320 px in a real Chromium: no axe-core violations, the schedule form gets the
browser's time zone from the static script (no inline script needed)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import axe_violations
from tests.live_sessions.conftest import LiveEnv

pytestmark = pytest.mark.browser


def test_live_pages_are_accessible_at_320px(live: LiveEnv, browser: Any) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, record="1", capacity="1", wait_for_moderator="1")
    volunteer = live.person("volunteer", name=None)
    volunteer.post(f"/{sid}/signup")
    live.person("volunteer").post(f"/{sid}/signup")  # on the waitlist

    from lms.core.extensions import db
    from lms.live_sessions import services
    from lms.live_sessions.models import LiveSession

    with live.app.app_context():
        left = f"{live.tool.url}/live-left/{sid}/{services.left_signature(db.session.get(LiveSession, sid))}"

    context = browser.new_context(viewport={"width": 320, "height": 640}, timezone_id="America/New_York")
    page = context.new_page()
    page.goto(trainer.base + "/new")
    page.wait_for_function("document.getElementById('tz').value !== ''")
    assert page.input_value("#tz") == "America/New_York"
    pages = [
        trainer.base + "/new",
        trainer.base + "/",
        f"{trainer.base}/{sid}",
        f"{trainer.base}/{sid}/attendance",
        f"{trainer.base}/{sid}/recordings",
        f"{trainer.base}/{sid}/edit",
        volunteer.base + "/",
        f"{volunteer.base}/{sid}",
        f"{volunteer.base}/{sid}/waiting",
        volunteer.base + "/calendar",
        left,  # where BBB sends people who leave the room
    ]
    problems = {}
    for url in pages:
        page.goto(url)
        found = axe_violations(page)
        if found:
            problems[url.rsplit("/live", 1)[-1]] = found
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, (url, width)
    assert problems == {}
    context.close()
