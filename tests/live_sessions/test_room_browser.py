"""The room in real Chromium: the BigBlueButton stand-in of the demo and the tests is a calm German page in the
tool's style (served by the double itself, no inline style), axe-core clean at 320 px and on a desktop; leaving it
leads back to the tool's page about the tutorial. Screenshots land in the git-ignored folder test-screenshots/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import axe_violations
from tests.live_sessions.conftest import LiveEnv

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"live-room-{name}.png"), full_page=True)


def _open_room(page: Any, button: str) -> Any:
    """Click the join button (it opens BigBlueButton in a new window) and return that window."""
    with page.context.expect_page() as opened:
        page.get_by_role("button", name=button).click()
    room = opened.value
    room.get_by_role("heading", level=1).wait_for()
    return room


def _looks_like_the_tool(room: Any) -> None:
    assert room.locator("html").get_attribute("lang") == "de"
    assert room.get_by_text("BigBlueButton-Attrappe", exact=True).is_visible()  # says it is a stand-in
    # the tool's style sheet is applied: the page's wash and the card, no browser defaults
    assert room.evaluate("getComputedStyle(document.documentElement).backgroundColor") == "rgb(243, 245, 247)"
    assert room.locator(".card").evaluate("el => getComputedStyle(el).borderRadius") == "6px"
    assert room.locator("[style]").count() == 0 and room.locator("style, script").count() == 0


@pytest.mark.parametrize("width", [1100, 320])
def test_the_room_stand_in_is_german_styled_and_leads_back(live: LiveEnv, browser: Any, width: int) -> None:
    trainer = live.person("trainer", name="Jonas Becker")
    sid = live.schedule(trainer, title="Phishing erkennen", record="1", wait_for_moderator=None)
    volunteer = live.person("volunteer", name="Lena Schreiner")
    assert volunteer.post(f"/{sid}/signup", allow_redirects=False).status_code == 303

    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    page.goto(f"{trainer.base}/{sid}")
    room = _open_room(page, "Raum öffnen und moderieren")
    _looks_like_the_tool(room)
    assert room.get_by_role("heading", level=1, name="Phishing erkennen").is_visible()
    assert room.get_by_text("Du bist im Raum.").is_visible()
    assert room.locator("dd").all_inner_texts() == ["Jonas Becker", "Moderator*in"]
    assert axe_violations(room) == []
    assert room.evaluate("document.documentElement.scrollWidth") <= width
    _shot(room, f"trainer-{width}")

    page.goto(f"{volunteer.base}/{sid}")
    room = _open_room(page, "Jetzt beitreten")
    assert room.locator("dd").all_inner_texts() == ["Lena Schreiner", "Teilnehmer*in"]
    assert axe_violations(room) == []
    _shot(room, f"volunteer-{width}")

    # "Raum verlassen" follows the logoutURL: the tool's page about the tutorial, not BigBlueButton's own
    with room.expect_navigation():
        room.get_by_role("button", name="Raum verlassen").click()
    assert room.url.startswith(f"{live.tool.url}/live-left/{sid}/")
    room.get_by_text("Du hast den Raum verlassen").first.wait_for()
    assert room.get_by_text("Phishing erkennen").first.is_visible()
    assert axe_violations(room) == []
    _shot(room, f"left-{width}")
    context.close()


def test_the_stand_in_says_in_german_when_a_link_is_no_longer_valid(live: LiveEnv, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    response = page.goto(live.bbb.url + "_double/client?sessionToken=abgelaufen")
    assert response is not None and response.status == 404
    _looks_like_the_tool(page)
    assert page.get_by_role("heading", level=1, name="Link ungültig").is_visible()
    assert page.get_by_text("Tritt bitte noch einmal aus medienwerk bei.").is_visible()
    assert axe_violations(page) == []
    context.close()


def test_a_volunteer_without_a_name_chooses_the_one_the_room_shows(live: LiveEnv, browser: Any) -> None:
    trainer = live.person("trainer", name="Jonas Becker")
    sid = live.schedule(trainer, title="Phishing erkennen", wait_for_moderator=None)
    private = live.person("volunteer", name=None)
    assert private.post(f"/{sid}/signup", allow_redirects=False).status_code == 303

    context = browser.new_context(viewport={"width": 320, "height": 800})
    page = context.new_page()
    page.goto(f"{private.base}/{sid}")
    page.get_by_label("Dein Name im Raum").fill("Timo")
    assert axe_violations(page) == []
    room = _open_room(page, "Jetzt beitreten")
    _looks_like_the_tool(room)
    assert room.locator("dd").all_inner_texts() == ["Timo", "Teilnehmer*in"]
    assert axe_violations(room) == []
    _shot(room, "private-320")
    context.close()
