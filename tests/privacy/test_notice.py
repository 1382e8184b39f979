"""The privacy notice and the accessibility statement: public pages, every page's footer, and the answer to an
LTI Data Privacy Launch, which records nothing."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.core.config import ConfigError, load_config
from lms.core.extensions import db
from lms.demo.platform import DROP
from tests.conftest import Lti, page_text

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
PRIVACY = {LTI + "message_type": "LtiDataPrivacyLaunchRequest"}


def _row_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }


def _footer_links(page: str) -> list[str]:
    footer = re.search(r"<footer.*?</footer>", page, re.S)
    assert footer, "the page has no footer"
    return re.findall(r'href="([^"]+)"', footer.group(0))


@pytest.mark.parametrize(
    "claims",
    [
        # as the spec sends it: no resource link, no context, on behalf of a user
        {LTI + "resource_link": DROP, LTI + "context": DROP, LTI + "for_user": {"user_id": "demo-lena"}},
        # a platform that sends a context and a resource link anyway, and no for_user
        {},
    ],
)
def test_privacy_launch_shows_the_notice_and_stores_nothing(lti: Lti, claims: dict[str, Any]) -> None:
    before = _row_counts(lti.app)
    resp = lti.launch_with("volunteer", **PRIVACY, **claims)
    assert resp.status_code == 200, resp.text[:500]
    assert "/t/" not in resp.url  # no launch session, no tool pages
    assert resp.headers["Cache-Control"] == "no-store"
    text = page_text(resp.text)
    assert "Datenschutzhinweise" in text
    assert "Verantwortlich ist deine Handwerkskammer: Test-LMS." in text  # the registration's chamber
    assert "Dabei hat medienwerk nichts über dich gespeichert." in text
    assert "Lena" not in text
    after = _row_counts(lti.app)
    # only short-lived launch state (the nonce is used up, key sets are cached) changes
    changed = {name for name in before if before[name] != after[name]}
    assert changed <= {"state_entry"}, changed
    assert after["user_account"] == after["course"] == after["enrollment"] == after["launch_session"] == 0


def test_privacy_launch_speaks_the_platforms_language(lti: Lti) -> None:
    resp = lti.launch_with("coordinator", **PRIVACY, **{LTI + "launch_presentation": {"locale": "en-GB"}})
    assert resp.status_code == 200
    assert '<h1 id="privacy-title">Privacy notice</h1>' in resp.text
    assert 'href="/privacy?lang=en"' in resp.text


def test_privacy_launch_checks_its_claims(lti: Lti) -> None:
    bad_for_user = lti.launch_with(**PRIVACY, **{LTI + "for_user": "demo-lena"})
    assert bad_for_user.status_code in (400, 403)
    assert "invalid_message" in bad_for_user.text
    unsigned = lti.launch_with(**PRIVACY, headers={"kid": "unknown-kid"})
    assert unsigned.status_code == 403 and "invalid_token" in unsigned.text
    assert _row_counts(lti.app)["user_account"] == 0


def test_public_pages_need_no_launch_and_set_no_cookie(client: Any) -> None:
    privacy = client.get("/privacy")
    assert privacy.status_code == 200
    assert "Set-Cookie" not in privacy.headers
    text = page_text(privacy.get_data(as_text=True))
    assert "<title>Datenschutzhinweise · medienwerk</title>" in privacy.get_data(as_text=True)
    for fact in (
        "Verantwortlich ist die Handwerkskammer",
        "im Auftrag der Kammer",
        "Art. 6 Abs. 1 Buchstabe e DSGVO",
        "Deine einzelnen Antworten speichert medienwerk nicht.",
        "BigBlueButton",
        "E-Mail-Server (SMTP)",
        "Art. 15 DSGVO",
        "Art. 17 DSGVO",
        "Art. 20 DSGVO",
        "Kontakt: die Koordination deiner Kammer",
    ):
        assert fact in text, fact
    a11y = client.get("/accessibility")
    assert a11y.status_code == 200
    html = a11y.get_data(as_text=True)
    assert "<title>Erklärung zur Barrierefreiheit · medienwerk</title>" in html
    text = page_text(html)
    for fact in (
        "teilweise barrierefrei",
        "axe-core",
        "Tastatur",
        "320 Pixel",
        "Tabelle",
        "BigBlueButton",
        "Schlichtungsstelle nach § 16 BGG",
        "Kontakt: die Koordination deiner Kammer",
    ):
        assert fact in text, fact
    english = page_text(client.get("/accessibility?lang=en").get_data(as_text=True))
    assert "Accessibility statement" in english and "partially accessible" in english


def test_retention_periods_and_contacts_come_from_the_settings(app: Flask, client: Any) -> None:
    app.config.update(
        RETENTION_INACTIVE_MONTHS=6,
        LIVE_RECORDING_RETENTION_DAYS=1,
        PRIVACY_CONTACT="Datenschutz der HWK Musterstadt, datenschutz@hwk-musterstadt.example <b>",
        ACCESSIBILITY_CONTACT="barrierefrei@hwk-musterstadt.example",
    )
    html = client.get("/privacy").get_data(as_text=True)
    text = page_text(html)
    assert "6 Monate nach deinem letzten Aufruf" in text
    assert "1 Tag nach der Aufzeichnung" in text
    assert '<a href="mailto:datenschutz@hwk-musterstadt.example">datenschutz@hwk-musterstadt.example</a>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html  # the operator's text is text
    a11y = client.get("/accessibility").get_data(as_text=True)
    assert '<a href="mailto:barrierefrei@hwk-musterstadt.example">' in a11y


def test_settings_for_contacts_and_key_encryption(tmp_path: Any) -> None:
    folder = str(tmp_path)
    cfg = load_config(folder, {"TESTING": True}, {"MEDIENWERK_PRIVACY_CONTACT": "  ds@hwk.example  "})
    assert cfg["PRIVACY_CONTACT"] == "ds@hwk.example"
    assert cfg["ACCESSIBILITY_CONTACT"] == "die Koordination deiner Kammer"
    assert cfg["KEY_ENCRYPTION_KEYS"] == ()
    from cryptography.fernet import Fernet

    first, second = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    cfg = load_config(folder, {"TESTING": True}, {"MEDIENWERK_KEY_ENCRYPTION_KEY": f"{first}, {second}"})
    assert cfg["KEY_ENCRYPTION_KEYS"] == (first, second)
    with pytest.raises(ConfigError, match="key number 2 is not a Fernet key") as refused:
        load_config(folder, {"TESTING": True}, {"MEDIENWERK_KEY_ENCRYPTION_KEY": f"{first},not-a-key-secret"})
    assert "not-a-key-secret" not in str(refused.value)  # never echo a secret


def test_every_page_has_the_footer_links(lti: Lti, client: Any) -> None:
    landing = lti.launch("volunteer")
    assert landing.status_code == 200
    token = landing.url.split("/t/")[1].split("/")[0]
    assert _footer_links(landing.text) == ["/privacy", "/accessibility"]
    assert "Datenschutz" in landing.text and "Barrierefreiheit" in landing.text
    english = lti.launch_with("trainer", **{LTI + "launch_presentation": {"locale": "en"}})
    assert _footer_links(english.text) == ["/privacy?lang=en", "/accessibility?lang=en"]
    assert all(token not in link for link in _footer_links(english.text))
    assert landing.text.count('target="_blank" rel="noopener">Datenschutz<span class="visually-hidden">') == 1
    # error pages and the public pages themselves (which link to each other in the same window)
    for url, status in (("/t/expired/", 401), ("/nowhere", 404), ("/privacy", 200), ("/accessibility", 200)):
        resp = client.get(url)
        assert resp.status_code == status
        page = resp.get_data(as_text=True)
        assert _footer_links(page) == ["/privacy", "/accessibility"]
        assert ('target="_blank"' in page.split("<footer")[1]) == url.startswith(("/t/", "/nowhere"))
