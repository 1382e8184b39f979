"""The public verification page: valid, revoked (or replaced) and unknown, as HTML and JSON, without a launch and
without personal data beyond what the certificate shows; after a person's deletion: revoked, without the name."""

from __future__ import annotations

import json

import requests

from lms.certificates import services
from lms.certificates.models import Award, CertificateName
from lms.core.extensions import db
from lms.personal_data.services import delete_person
from lms.users.models import User
from tests.certificates.conftest import Certs, post_form
from tests.conftest import page_text

PERSONAL = ("lena.schreiner@example.org", "demo-lena")


def _get(certs: Certs, award_id: str, *, as_json: bool = False) -> requests.Response:
    headers = {"Accept": "application/json"} if as_json else {}
    return requests.get(f"{certs.lti.tool.url}/verify/{award_id}", headers=headers, timeout=10)


def test_a_valid_certificate(certs: Certs) -> None:
    _browser, lena = certs.reach_highest()
    award = certs.award(lena)
    page = _get(certs, award.id)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    text = page_text(page.text)
    assert "gültig" in text and "Digitale*r Botschafter*in" in text and "Lena Schreiner" in text
    assert award.id in text and "Besuchte Live-Tutorials: 2" in text
    for personal in PERSONAL:
        assert personal not in page.text
    assert "/t/" not in page.text  # no launch needed, no tool pages linked

    data = _get(certs, award.id, as_json=True).json()
    assert data["status"] == "valid" and data["tier"] == "Digitale*r Botschafter*in"
    assert data["name"] == "Lena Schreiner" and data["issued"] == award.issued_at.date().isoformat()
    assert data["chamber"] and "revoked" not in data
    raw = json.dumps(data)
    for personal in PERSONAL:
        assert personal not in raw


def test_unknown_ids_answer_404_with_a_readable_page(certs: Certs) -> None:
    page = _get(certs, "nichtVorhanden123")
    assert page.status_code == 404 and "Zertifikat unbekannt" in page.text and "nichtVorhanden123" in page.text
    data = _get(certs, "nichtVorhanden123", as_json=True)
    assert data.status_code == 404 and data.json() == {"id": "nichtVorhanden123", "status": "unknown"}
    assert _get(certs, "x" * 300).status_code == 404


def test_revoked_and_replaced_certificates(certs: Certs) -> None:
    _browser, lena = certs.reach_highest()
    award = certs.award(lena)
    with certs.lti.app.app_context():
        row = db.session.get(Award, award.id)
        assert row is not None
        new = services.reissue(row)
        db.session.commit()
        new_id = new.id
    old = _get(certs, award.id)
    assert old.status_code == 200
    assert "ersetzt" in page_text(old.text) and f"/verify/{new_id}" in old.text
    data = _get(certs, award.id, as_json=True).json()
    assert data["status"] == "superseded" and data["superseded_by"].endswith(f"/verify/{new_id}") and data["revoked"]
    assert _get(certs, new_id, as_json=True).json()["status"] == "valid"

    with certs.lti.app.app_context():
        row = db.session.get(Award, new_id)
        assert row is not None
        services.revoke(row, "Betrug: Abgaben kopiert")
        db.session.commit()
    revoked = _get(certs, new_id)
    text = page_text(revoked.text)
    assert "widerrufen" in text and "gilt nicht mehr" in text
    assert "Betrug" not in revoked.text  # the reason stays internal
    assert _get(certs, new_id, as_json=True).json()["status"] == "revoked"


def test_deleting_the_person_revokes_and_removes_name_and_salt(certs: Certs) -> None:
    browser, timo = certs.reach_highest("demo-timo", "volunteer-private")
    award = certs.award(timo)
    name_page = post_form(browser, "certificates/name", name="Timo Berger")
    assert name_page.status_code == 302
    assert _get(certs, award.id, as_json=True).json()["name"] == "Timo Berger"
    with certs.lti.app.app_context():
        user = db.session.get(User, timo)
        assert user is not None
        deleted = delete_person(user)
        db.session.commit()
        assert deleted.counts["award (revoked, name removed)"] == 2  # both tiers
        for row in db.session.query(Award):
            assert (row.user_id, row.display_name, row.recipient_salt) == (None, None, None)
            assert row.revoked_at is not None
        assert db.session.query(CertificateName).count() == 0
    page = _get(certs, award.id)
    assert page.status_code == 200 and "widerrufen" in page_text(page.text) and "Timo Berger" not in page.text
    data = _get(certs, award.id, as_json=True).json()
    assert data["status"] == "revoked" and data["name"] is None


def test_export_of_a_person_includes_their_awards(certs: Certs) -> None:
    _browser, lena = certs.reach_highest()
    result = certs.lti.app.test_cli_runner().invoke(
        args=["privacy", "export", "--issuer", certs.lti.double.issuer, "--sub", "demo-lena"]
    )
    assert result.exit_code == 0, result.output
    tables = json.loads(result.output)["tables"]
    assert {a["tier_id"] for a in tables["award"]} == {"digital-startklar", "digitale-botschafterin"}
    assert all(a["user_id"] == lena for a in tables["award"])


def test_verification_is_rate_limited_per_client(certs: Certs) -> None:
    """The ``verify`` group of lms/core/limits.py (MEDIENWERK_RATE_LIMITS, default 60/minute)."""
    from lms.core.config import DEFAULT_RATE_LIMITS

    assert DEFAULT_RATE_LIMITS["verify"] == "60/minute"
    certs.lti.app.config["RATE_LIMITS"] = {**certs.lti.app.config["RATE_LIMITS"], "verify": "2/minute"}
    client = certs.lti.app.test_client()
    assert [client.get("/verify/unbekannt").status_code for _ in range(2)] == [404, 404]
    limited = client.get("/verify/unbekannt", headers={"Accept": "application/json"})
    assert limited.status_code == 429 and limited.headers["Retry-After"]
    assert client.get("/verify/unbekannt", environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 404
    assert client.get("/certificates/jwks").status_code == 200  # the key set is not in the group
