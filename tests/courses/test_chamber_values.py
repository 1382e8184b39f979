"""Chamber values: `{{ kammer.… }}` in lessons (checked, rendered with the volunteer's chamber's value or a hint
whom to ask), stored per chamber, filled in by its coordinators (the central team: any chamber) and on the
command line, every change in the audit log."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.core.extensions import db
from lms.courses.models import ChamberValue
from lms.courses.queries import fill_chamber_values, values_for
from lms.courses.render import render_markdown
from lms.courses.review import check_course
from lms.courses.services import ValuesInvalid, set_values
from lms.courses.variables import VARIABLES, variable
from lms.platforms.models import Chamber
from tests.browser import axe_violations
from tests.conftest import Lti
from tests.courses.test_check import _module, _qualifications
from tests.progress.helpers import Browser

M3 = "m3-online-infoveranstaltungen-moderieren"
NOTFALL = "m3-kinderschutz-und-krisen"


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


# --- the content format -------------------------------------------------------------------------------------


def test_courses_check_knows_the_names(tmp_path: Path) -> None:
    folder = _module(tmp_path, "m1")
    _qualifications(tmp_path)
    (folder / "02-b.md").write_text(
        "---\nid: m1-b\ntitle: B\nminutes: 5\n---\n\n"
        "Kinderschutz: {{ kammer.kinderschutz_telefon }}\n\n"
        "- Presse: {{kammer.pressestelle_email}}\n"
        "- Falsch: {{ kammer.kinderschutz_handy }}\n"
        "- Kein Wert: {{ name }}\n\n"
        "`{{ so steht es im Code }}` bleibt Text.\n",
        encoding="utf-8",
    )
    known = ", ".join(v.name for v in VARIABLES)
    assert [str(p) for p in check_course(tmp_path)] == [
        f"m1/02-b.md:10: unknown chamber value 'kammer.kinderschutz_handy' (known: {known})",
        "m1/02-b.md:11: '{{ name }}' is not a chamber value: write {{ kammer.name }} (see FORMAT.md)",
    ]


def test_the_renderer_leaves_a_placeholder_the_source_cannot_forge() -> None:
    forged = '<medienwerk-kammer name="kinderschutz_telefon"></medienwerk-kammer>'
    html = render_markdown(f"Ruf an: {{{{ kammer.kinderschutz_telefon }}}}\n\n{forged}")
    assert html.count("<medienwerk-kammer") == 1  # raw HTML in the source is escaped, never a placeholder
    filled = fill_chamber_values(html, {"kinderschutz_telefon": "0511 12345"})
    assert '<a class="chamber-value" href="tel:051112345">0511 12345</a>' in filled
    assert "&lt;medienwerk-kammer" in filled


def test_values_render_as_links_escaped_and_fall_back_to_whom_to_ask(app: Flask) -> None:
    html = render_markdown(
        "- {{ kammer.kinderschutz_name }}\n- {{ kammer.kinderschutz_email }}\n- {{ kammer.schutzkonzept_link }}\n"
        "- {{ kammer.pressestelle_telefon }}\n"
    )
    with app.test_request_context():
        filled = fill_chamber_values(
            html,
            {
                "kinderschutz_name": "Frau <b>Kaya</b>",
                "kinderschutz_email": "kinderschutz@hwk-test.de",
                "schutzkonzept_link": "https://hwk-test.de/schutz?a=1&b=2",
            },
        )
    assert '<span class="chamber-value">Frau &lt;b&gt;Kaya&lt;/b&gt;</span>' in filled
    assert '<a class="chamber-value" href="mailto:kinderschutz@hwk-test.de">kinderschutz@hwk-test.de</a>' in filled
    assert 'href="https://hwk-test.de/schutz?a=1&amp;b=2" target="_blank" rel="noopener noreferrer"' in filled
    pressestelle = variable("pressestelle_telefon")
    assert pressestelle is not None
    assert f'<em class="chamber-value chamber-value--missing">{pressestelle.ask}</em>' in filled
    assert "Frag deine Koordinator*in nach der Telefonnummer der Pressestelle." in _text(filled)


def test_a_stored_address_that_is_no_web_address_is_never_a_link(app: Flask) -> None:
    html = render_markdown("Vorlage: {{ kammer.einwilligung_vorlage }}")
    with app.test_request_context():
        filled = fill_chamber_values(html, {"einwilligung_vorlage": "javascript:alert(1)"})
    assert "href" not in filled and "javascript:alert(1)" in filled


# --- storing ------------------------------------------------------------------------------------------------


@pytest.fixture
def chamber_id(app: Flask) -> Any:
    with app.test_request_context():
        chamber = Chamber(slug="hwk-werte", name="HWK Werte")
        db.session.add(chamber)
        db.session.flush()
        yield chamber.id


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("einwilligung_vorlage", "javascript:alert(1)", "url"),
        ("einwilligung_vorlage", "ftp://hwk-test.de/vorlage.pdf", "url"),
        ("einwilligung_vorlage", "https://user:pw@hwk-test.de/", "url"),
        ("einwilligung_vorlage", "https://intranet/vorlage", "url"),
        ("einwilligung_vorlage", "hwk-test.de/vorlage.pdf", "url"),
        ("kinderschutz_email", "kinderschutz(at)hwk-test.de", "email"),
        ("kinderschutz_telefon", "ruf mich an", "phone"),
        ("kinderschutz_telefon", "+", "phone"),
        ("kinderschutz_name", "x" * 201, "too_long"),
        ("gibt_es_nicht", "x", "unknown"),
    ],
)
def test_bad_values_are_refused(chamber_id: int, name: str, value: str, code: str) -> None:
    with pytest.raises(ValuesInvalid) as refused:
        submitted = {name: value} if name == "kinderschutz_name" else {name: value, "kinderschutz_name": "Frau Kaya"}
        set_values(chamber_id, submitted)
    assert refused.value.errors == {name: code}
    assert values_for(chamber_id) == {}  # all or nothing
    assert db.session.execute(select(AuditEntry)).first() is None


def test_values_are_stored_changed_cleared_and_logged_without_the_values(chamber_id: int) -> None:
    changed = set_values(
        chamber_id,
        {
            "kinderschutz_name": "  Frau\nKaya ",
            "kinderschutz_telefon": "+49 (511) 123-45",
            "schutzkonzept_link": "http://hwk-test.de/schutz",
        },
    )
    assert changed == ["kinderschutz_name", "kinderschutz_telefon", "schutzkonzept_link"]
    assert values_for(chamber_id) == {
        "kinderschutz_name": "Frau Kaya",
        "kinderschutz_telefon": "+49 (511) 123-45",
        "schutzkonzept_link": "http://hwk-test.de/schutz",
    }
    assert set_values(chamber_id, {"kinderschutz_name": "Frau Kaya"}) == []  # nothing changed, nothing logged
    assert set_values(chamber_id, {"kinderschutz_name": "", "kinderschutz_telefon": "0511 9"}) == [
        "kinderschutz_name",
        "kinderschutz_telefon",
    ]
    assert db.session.execute(select(ChamberValue.name).where(ChamberValue.name == "kinderschutz_name")).first() is None
    entries = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.chamber_id, e.actor_role, e.detail) for e in entries] == [
        ("chamber_values_changed", chamber_id, "operator", {"names": changed}),
        ("chamber_values_changed", chamber_id, "operator", {"names": ["kinderschutz_name", "kinderschutz_telefon"]}),
    ]


def test_the_command_line_sets_lists_and_clears(lti: Lti) -> None:
    runner = lti.app.test_cli_runner()
    done = runner.invoke(
        args=["courses", "values", "set", "--chamber", "hwk-test", "video_ablage", "https://cloud.hwk-test.de"]
    )
    assert done.exit_code == 0, done.output
    refused = runner.invoke(
        args=["courses", "values", "set", "--chamber", "hwk-test", "video_ablage", "data:text/html,x"]
    )
    assert refused.exit_code != 0 and "not a web address" in refused.output
    unknown = runner.invoke(args=["courses", "values", "list", "--chamber", "hwk-nirgends"])
    assert unknown.exit_code != 0 and "no chamber 'hwk-nirgends'" in unknown.output
    listed = runner.invoke(args=["courses", "values", "list", "--chamber", "hwk-test"])
    assert re.search(r"video_ablage\s+url\s+https://cloud.hwk-test.de", listed.output)
    assert re.search(r"kinderschutz_name\s+text\s+-", listed.output)
    cleared = runner.invoke(args=["courses", "values", "clear", "--chamber", "hwk-test", "video_ablage"])
    assert cleared.exit_code == 0
    with lti.app.app_context():
        assert db.session.execute(select(ChamberValue)).first() is None
        assert db.session.execute(select(AuditEntry.action)).scalars().all() == ["chamber_values_changed"] * 2


# --- the coordinators' page and the lessons -----------------------------------------------------------------


def _chamber_of(lti: Lti, slug: str) -> int:
    with lti.app.app_context():
        return int(db.session.execute(select(Chamber.id).where(Chamber.slug == slug)).scalar_one())


def _form(**values: str) -> dict[str, str]:
    return {f"v-{name}": value for name, value in values.items()}


def test_a_coordinator_fills_in_the_values_and_volunteers_see_them(lti: Lti) -> None:
    coordinator = Browser(lti, "coordinator")
    own = _chamber_of(lti, "hwk-test")
    start = coordinator.get("chamber-values/", allow_redirects=False)
    assert start.status_code == 302 and start.headers["Location"].endswith(f"/chamber-values/{own}")
    page = coordinator.get(f"chamber-values/{own}")
    assert page.status_code == 200 and "Angaben der Kammer für die Lektionen" in page.text
    assert "Angaben der Kammer" in coordinator.get("").text  # in the toolbar

    volunteer = Browser(lti, "volunteer")
    lesson = volunteer.get(f"m/{M3}/{NOTFALL}").text
    assert "Frag deine Koordinator*in nach der Telefonnummer für Kinderschutz." in _text(lesson)

    saved = coordinator.post(
        f"chamber-values/{own}",
        _form(kinderschutz_telefon="0511 123 45", kinderschutz_name="Frau Kaya", koordination_email="ko@hwk-test.de"),
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith(f"/chamber-values/{own}?saved=1#feedback")
    assert 'value="Frau Kaya"' in coordinator.get(f"chamber-values/{own}").text
    lesson = volunteer.get(f"m/{M3}/{NOTFALL}").text
    assert '<a class="chamber-value" href="tel:051112345">0511 123 45</a>' in lesson
    assert "Frau Kaya" in lesson
    assert "nach der Telefonnummer für Kinderschutz" not in lesson


def test_bad_input_is_shown_again_with_a_message_and_nothing_is_saved(lti: Lti) -> None:
    coordinator = Browser(lti, "coordinator")
    own = _chamber_of(lti, "hwk-test")
    bad = coordinator.post(
        f"chamber-values/{own}", _form(schutzkonzept_link="javascript:alert(1)", kinderschutz_name="Frau Kaya")
    )
    assert bad.status_code == 400
    text = _text(bad.text)
    assert "Bitte prüfe deine Eingaben" in text
    assert "Bitte gib eine Webadresse ein, die mit https:// oder http:// beginnt." in text
    assert 'value="javascript:alert(1)"' in bad.text and 'aria-invalid="true"' in bad.text
    with lti.app.app_context():
        assert values_for(own) == {}
    missing_csrf = coordinator.post(f"chamber-values/{own}", _form(kinderschutz_name="X"), csrf=False)
    assert missing_csrf.status_code in (400, 403)


@pytest.mark.parametrize("persona", ["volunteer", "trainer"])
def test_volunteers_and_trainers_cannot_fill_in_values(lti: Lti, persona: str) -> None:
    own = _chamber_of(lti, "hwk-test")
    person = Browser(lti, persona)
    assert person.get("chamber-values/").status_code == 403
    assert person.get(f"chamber-values/{own}").status_code == 403
    attempt = person.post(f"chamber-values/{own}", _form(kinderschutz_name="X"), csrf=False)
    assert attempt.status_code in (400, 403)
    with lti.app.app_context():
        assert values_for(own) == {}
    assert "Angaben der Kammer" not in person.get("").text


def test_a_coordinator_cannot_touch_another_chambers_values(lti: Lti, second_lms: Lti) -> None:
    other = _chamber_of(lti, "hwk-zwei")
    own = _chamber_of(lti, "hwk-test")
    with lti.app.app_context():
        set_values(other, {"kinderschutz_name": "Herr Zwei"})
        db.session.commit()
    coordinator = Browser(lti, "coordinator")
    assert coordinator.get(f"chamber-values/{other}").status_code == 404
    own_page = coordinator.get(f"chamber-values/{own}")
    fields = {"v-kinderschutz_name": "Übernommen", "csrf_token": coordinator.launch_csrf()}
    refused = coordinator.http.post(coordinator.url(f"chamber-values/{other}"), data=fields, allow_redirects=False)
    assert refused.status_code == 404
    assert "Herr Zwei" not in own_page.text
    with lti.app.app_context():
        assert values_for(other) == {"kinderschutz_name": "Herr Zwei"}
    # each chamber's volunteers see their own chamber's value
    assert "Herr Zwei" in Browser(second_lms, "volunteer").get(f"m/{M3}/{NOTFALL}").text
    assert "Herr Zwei" not in Browser(lti, "volunteer").get(f"m/{M3}/{NOTFALL}").text


def test_the_central_team_fills_in_values_for_any_chamber(lti: Lti, second_lms: Lti) -> None:
    other = _chamber_of(lti, "hwk-zwei")
    own = _chamber_of(lti, "hwk-test")
    with lti.app.app_context():
        chamber = db.session.get(Chamber, own)
        assert chamber is not None
        chamber.is_central = True
        db.session.commit()
    coordinator = Browser(lti, "coordinator")
    page = coordinator.get(f"chamber-values/{own}").text
    assert f"chamber-values/{other}" in page and "Kammern" in page  # the central team picks the chamber
    saved = coordinator.post(f"chamber-values/{other}", _form(pressestelle_email="presse@hwk-zwei.de"))
    assert saved.status_code == 303
    with lti.app.app_context():
        assert values_for(other) == {"pressestelle_email": "presse@hwk-zwei.de"}
        entry = db.session.execute(select(AuditEntry)).scalar_one()
        assert (entry.chamber_id, entry.actor_role, entry.detail) == (
            other,
            "coordinator",
            {"names": ["pressestelle_email"]},
        )
    assert "Angaben der Kammer für die Lektionen geändert" in coordinator.get("audit/").text


@pytest.mark.browser
def test_the_page_at_320px_has_no_axe_violations(lti: Lti, browser: Any) -> None:
    coordinator = Browser(lti, "coordinator")
    own = _chamber_of(lti, "hwk-test")
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(coordinator.url(f"chamber-values/{own}"))
    page.get_by_role("heading", level=1).wait_for()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.locator("#v-schutzkonzept_link").fill("ftp://nein")
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("Bitte prüfe deine Eingaben").wait_for()
    assert axe_violations(page) == []
    page.locator("#v-schutzkonzept_link").fill(
        "https://hwk-test.de/schutzkonzept-und-verhaltenskodex-fuer-alle-einsaetze"
    )
    page.get_by_role("button", name="Speichern").click()
    page.get_by_text("Gespeichert.").wait_for()
    assert axe_violations(page) == []
    volunteer = Browser(lti, "volunteer")
    page.goto(volunteer.url(f"m/{M3}/{NOTFALL}"))
    page.get_by_role("heading", level=1).wait_for()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
