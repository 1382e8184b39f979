"""Deep linking end to end: the double sends an LtiDeepLinkingRequest, a trainer picks, the double verifies
the signed LtiDeepLinkingResponse against the tool's JWKS (over HTTP) and launches the created links."""

from __future__ import annotations

import re

import jwt
import pytest

from lms.core.extensions import db
from lms.deep_linking.catalog import CatalogEntry, course_content, register_provider, unregister_provider
from lms.platforms.services import active_key
from lti.claims import DeepLinkingSettings
from lti.deep_linking import DeepLinkingError, check_selection
from tests.conftest import assert_refused, form_fields, page_text
from tests.deep_linking.conftest import DeepLinking

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
LTI = "https://purl.imsglobal.org/spec/lti/claim/"


def _first_module(dl: DeepLinking):  # noqa: ANN202
    with dl.lti.app.app_context():
        return course_content().modules[0]


def test_picker_offers_overview_modules_and_lessons(dl: DeepLinking) -> None:
    _, picker = dl.open_picker("trainer")
    assert picker.status_code == 200
    assert "/deep-linking/" in picker.url
    text = page_text(picker.text)
    module = _first_module(dl)
    assert "Übersicht für Botschafter*innen" in text
    assert module.title in text and module.lessons[0].title in text
    assert f'value="module:{module.id}"' in picker.text
    assert f'value="item:{module.id}:{module.lessons[0].id}"' in picker.text
    assert 'type="checkbox"' in picker.text  # the double accepts several items


def test_round_trip_is_verified_by_the_platform(dl: DeepLinking) -> None:
    module = _first_module(dl)
    lesson = module.lessons[0]
    links = dl.link_round_trip(f"module:{module.id}", f"item:{module.id}:{lesson.id}", "overview")
    double = dl.lti.double
    assert double.deep_link_errors == []
    claims = double.deep_link_responses[-1]
    assert claims["iss"] == double.client_id and claims["aud"] == double.issuer
    assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert claims[LTI + "deployment_id"] == double.deployment_id
    assert claims[DL + "data"] == double.dl_data_sent[-1]  # echoed exactly
    assert claims["exp"] > claims["iat"] and claims["nonce"]
    items = claims[DL + "content_items"]
    assert [i["type"] for i in items] == ["ltiResourceLink"] * 3
    assert {i["url"] for i in items} == {double.tool_launch_url}
    by_custom = {tuple(sorted(i.get("custom", {}).items())): i for i in items}
    module_item = by_custom[(("module", module.id),)]
    assert module_item["lineItem"] == {
        "scoreMaximum": 100,
        "label": module.title,
        "resourceId": module.id,
        "tag": "module",
    }
    lesson_item = by_custom[(("item", lesson.id), ("module", module.id))]
    assert "lineItem" not in lesson_item
    assert "lineItem" not in by_custom[(("view", "overview"),)]
    assert len(links) == 3


def test_response_is_signed_by_the_active_key(dl: DeepLinking) -> None:
    session, picker = dl.open_picker()
    answer = dl.choose(session, picker, "overview")
    token = form_fields(answer.text)[1]["JWT"]
    with dl.lti.app.app_context():
        assert jwt.get_unverified_header(token)["kid"] == active_key().kid


def test_data_is_left_out_when_the_platform_sent_none(dl: DeepLinking) -> None:
    dl.lti.double.dl_send_data = False
    dl.link_round_trip("overview")
    assert DL + "data" not in dl.lti.double.deep_link_responses[-1]


def test_accept_multiple_false_means_one_item(dl: DeepLinking) -> None:
    dl.lti.double.dl_accept_multiple = False
    module = _first_module(dl)
    session, picker = dl.open_picker()
    assert 'type="radio"' in picker.text and 'type="checkbox"' not in picker.text
    two = dl.choose(session, picker, "overview", f"module:{module.id}")
    assert two.status_code == 400
    assert "genau einen" in page_text(two.text)
    one = dl.choose(session, picker, f"module:{module.id}")
    assert one.status_code == 200
    assert dl.return_to_platform(session, one).status_code == 200
    assert len(dl.lti.double.deep_link_responses[-1][DL + "content_items"]) == 1


def test_nothing_chosen_is_a_form_error_and_cancel_sends_no_items(dl: DeepLinking) -> None:
    session, picker = dl.open_picker()
    empty = dl.choose(session, picker)
    assert empty.status_code == 400 and "mindestens einen" in page_text(empty.text)
    cancelled = dl.choose(session, picker, cancel=True)
    assert cancelled.status_code == 200
    assert dl.return_to_platform(session, cancelled).status_code == 200
    assert dl.lti.double.deep_link_responses[-1][DL + "content_items"] == []


def test_volunteer_cannot_deep_link(dl: DeepLinking) -> None:
    session, picker = dl.open_picker("volunteer")
    assert picker.status_code == 403
    assert "nur Trainer*innen und die Koordination" in page_text(picker.text)
    token = re.search(r"/t/([^/]+)/deep-linking/", picker.url)
    assert token
    post = session.post(picker.url, data={"entry": "overview"}, timeout=10)
    assert post.status_code in (400, 403)
    assert "JWT" not in post.text


def test_coordinator_can_deep_link(dl: DeepLinking) -> None:
    _, picker = dl.open_picker("coordinator")
    assert picker.status_code == 200
    assert _first_module(dl).title in page_text(picker.text)  # the picker offers the content to link


def _expects(dl: DeepLinking, path: str) -> str:
    """The page a link should open: the learner page if that blueprint exists, else the landing page."""
    has_courses = any(ep.startswith("courses.") for ep in dl.lti.app.view_functions)
    return path if has_courses else "/"


def test_launch_of_a_linked_module_opens_it(dl: DeepLinking) -> None:
    module = _first_module(dl)
    link = dl.link_round_trip(f"module:{module.id}")[-1]
    resp = dl.launch_link(link["id"], "volunteer")
    assert resp.status_code == 200
    assert resp.url.endswith(_expects(dl, f"/m/{module.id}/")), resp.url
    issued = dl.lti.double.issued[-1]
    assert issued[LTI + "custom"] == {"module": module.id}
    assert issued[LTI + "resource_link"]["id"] == link["id"]


def test_launch_of_a_linked_lesson_and_the_overview(dl: DeepLinking) -> None:
    module = _first_module(dl)
    lesson = module.lessons[0]
    links = dl.link_round_trip(f"item:{module.id}:{lesson.id}", "overview")
    lesson_page = dl.launch_link(links[0]["id"])
    assert lesson_page.status_code == 200
    assert lesson_page.url.endswith(_expects(dl, f"/m/{module.id}/{lesson.id}")), lesson_page.url
    overview = dl.launch_link(links[1]["id"])
    assert overview.status_code == 200
    assert overview.url.endswith(_expects(dl, "/m/")), overview.url


def test_providers_add_entries(dl: DeepLinking) -> None:
    def series(launch_session):  # noqa: ANN001, ANN202
        assert launch_session.platform.issuer == dl.lti.double.issuer
        return [
            CatalogEntry(
                id="series:7", title="Live-Tutorial-Reihe Video", group="Live-Tutorials", custom={"series": "7"}
            )
        ]

    register_provider(series)
    try:
        links = dl.link_round_trip("series:7")
    finally:
        unregister_provider(series)
    assert links[-1]["custom"] == {"series": "7"}
    assert links[-1]["title"] == "Live-Tutorial-Reihe Video"


def test_picker_needs_a_pending_request_and_csrf(dl: DeepLinking) -> None:
    landing = dl.lti.launch("trainer")  # an ordinary launch: no deep-linking request to answer
    token_url = landing.url.rstrip("/")
    assert_refused(__import__("requests").get(token_url + "/deep-linking/", timeout=10), 404)
    session, picker = dl.open_picker()
    bad = session.post(picker.url, data={"entry": "overview", "csrf_token": "x"}, timeout=10)
    assert bad.status_code == 400


def test_check_selection_honours_accept_types() -> None:
    from lti.deep_linking import ContentItem

    settings = DeepLinkingSettings(
        return_url="https://lms/x",
        accept_types=("link",),
        accept_presentation_document_targets=("iframe",),
        accept_multiple=True,
        data=None,
        title=None,
        text=None,
    )
    with pytest.raises(DeepLinkingError) as err:
        check_selection(settings, [ContentItem(title="a", url="https://tool/lti/launch")])
    assert err.value.code == "type_not_accepted"
    check_selection(settings, [])  # cancelling is always possible


def test_deep_linking_launch_records_user_and_course(dl: DeepLinking) -> None:
    from sqlalchemy import select

    from lms.users.models import User

    dl.open_picker("trainer")
    with dl.lti.app.app_context():
        assert db.session.execute(select(User)).scalar_one().sub == "demo-jonas"


def test_link_to_removed_content_lands_on_the_start_page(dl: DeepLinking) -> None:
    module = _first_module(dl)
    dl.lti.double.links.append(
        {
            "id": "link-gone",
            "title": "weg",
            "url": dl.lti.double.tool_launch_url,
            "custom": {"module": "m99-gibt-es-nicht", "item": "x"},
            "lineItem": None,
        }
    )
    dl.lti.double.links.append(
        {
            "id": "link-item-gone",
            "title": "weg",
            "url": dl.lti.double.tool_launch_url,
            "custom": {"module": module.id, "item": "gibt-es-nicht"},
            "lineItem": None,
        }
    )
    gone = dl.launch_link("link-gone")
    assert gone.status_code == 200 and re.search(r"/t/[^/]+/$", gone.url)
    item_gone = dl.launch_link("link-item-gone")
    assert item_gone.status_code == 200 and item_gone.url.endswith(_expects(dl, f"/m/{module.id}/"))


def test_live_tutorials_are_offered_and_their_links_open_them(dl: DeepLinking) -> None:
    import datetime as dt

    from lms.core.db import utcnow
    from lms.live_sessions.models import LiveSession
    from lms.platforms.models import Chamber

    dl.lti.launch("trainer")  # the chamber exists and the trainer is known
    with dl.lti.app.app_context():
        chamber = db.session.query(Chamber).one()
        live = LiveSession(
            chamber_id=chamber.id,
            title="Sprechstunde BigBlueButton",
            starts_at=utcnow() + dt.timedelta(days=3),
            timezone="Europe/Berlin",
            duration_minutes=60,
            audience="chamber",
            meeting_id="mw-test-1",
            callback_token="cb-test-1",
        )
        db.session.add(live)
        db.session.commit()
        live_id = live.id
    _, picker = dl.open_picker("trainer")
    assert 'value="live:overview"' in picker.text and f'value="live:{live_id}"' in picker.text
    assert "Sprechstunde BigBlueButton" in page_text(picker.text)
    links = dl.link_round_trip(f"live:{live_id}", "live:overview")
    by_custom = {tuple(link["custom"].items()): link for link in links}
    tutorial = dl.launch_link(by_custom[(("live", str(live_id)),)]["id"])
    assert tutorial.status_code == 200 and f"/live/{live_id}" in tutorial.url
    assert "Sprechstunde BigBlueButton" in page_text(tutorial.text)
    overview = dl.launch_link(by_custom[(("live", "overview"),)]["id"])
    assert overview.status_code == 200 and overview.url.endswith("/live/")
