"""The volunteer's downloads: the PDF certificate (its text read back with pypdf) and the Open Badges 3.0
credential, whose VC-JWT verifies against the published key set and whose ``vc`` the 1EdTech JSON schema
accepts."""

from __future__ import annotations

import hashlib
import io
import json
import re

import jsonschema
import jwt
import pypdf
import requests

from lms.certificates.models import CredentialKey
from lms.core.extensions import db
from tests.certificates.conftest import HIGHEST_TIER, OB3, Certs
from tests.conftest import assert_refused

SCHEMA = OB3 / "achievementcredential.schema.json"


def _pdf_text(body: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(body))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


def test_pdf_shows_name_tier_competences_and_the_verification_url(certs: Certs) -> None:
    browser, lena = certs.reach_highest()
    award = certs.award(lena)
    page = browser.get("certificates/")
    assert page.status_code == 200
    assert f"certificates/{award.id}/zertifikat.pdf" in page.text

    pdf = browser.get(f"certificates/{award.id}/zertifikat.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert "attachment" in pdf.headers["Content-Disposition"]
    text = _pdf_text(pdf.content)
    verify_url = f"{certs.lti.tool.url}/verify/{award.id}"
    assert "Lena Schreiner" in text
    assert "Digitale*r Botschafter*in" in text
    assert verify_url in text and award.id in text
    assert "4.1 Geräte schützen" in text and "DigComp 2.2" in text
    assert "Besuchte Live-Tutorials in BigBlueButton: 2" in text
    assert "lena.schreiner@example.org" not in text and "demo-lena" not in text
    assert len(pypdf.PdfReader(io.BytesIO(pdf.content)).pages) == 1


def test_only_own_valid_awards_can_be_downloaded(certs: Certs) -> None:
    _lena_browser, lena = certs.reach_highest()
    award = certs.award(lena)
    other = certs.launch("volunteer-private")  # Timo
    for path in ("zertifikat.pdf", "open-badge.jwt", "open-badge.json"):
        assert_refused(other.get(f"certificates/{award.id}/{path}"), 404)
    assert_refused(other.get("certificates/unknown-award-id/zertifikat.pdf"), 404)


def test_credential_is_a_signed_open_badge_that_verifies_against_the_published_keys(certs: Certs) -> None:
    browser, lena = certs.reach_highest()
    award = certs.award(lena)
    token = browser.get(f"certificates/{award.id}/open-badge.jwt")
    assert token.status_code == 200
    compact = token.text.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", compact)

    header = jwt.get_unverified_header(compact)
    assert header["alg"] == "RS256" and set(header) <= {"alg", "kid", "typ"}
    # the kid is a URL that answers the public JWK, and the key set lists the same key under that kid
    jwk = requests.get(header["kid"], timeout=10).json()
    assert "d" not in jwk and jwk["kty"] == "RSA"
    jwks = requests.get(certs.lti.tool.url + "/certificates/jwks", timeout=10).json()
    assert [k["kid"] for k in jwks["keys"]] == [header["kid"]]
    with certs.lti.app.app_context():  # its own key, not the LTI tool key
        from lms.platforms.models import ToolKey

        tool_kids = {k.kid for k in db.session.query(ToolKey)}
        own = db.session.query(CredentialKey).one()
        assert own.kid not in tool_kids and header["kid"].endswith("/certificates/keys/" + own.kid)

    client = jwt.PyJWKClient(certs.lti.tool.url + "/certificates/jwks")
    signing_key = client.get_signing_key_from_jwt(compact)
    payload = jwt.decode(compact, signing_key.key, algorithms=["RS256"], options={"verify_aud": False})
    vc = payload["vc"]
    verify_url = f"{certs.lti.tool.url}/verify/{award.id}"
    assert payload["jti"] == vc["id"] == verify_url
    assert payload["iss"] == vc["issuer"]["id"]
    assert payload["sub"] == vc["credentialSubject"]["id"] and payload["sub"].startswith("urn:uuid:")
    assert payload["nbf"] == int(award.issued_at.replace(microsecond=0).timestamp())

    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft201909Validator(schema, format_checker=jsonschema.FormatChecker()).validate(vc)
    assert vc["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert vc["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert vc["issuer"]["type"] == ["Profile"] and vc["issuer"]["name"]
    subject = vc["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    [identity] = subject["identifier"]
    assert identity["type"] == "IdentityObject" and identity["hashed"] is True
    assert identity["identityType"] == "emailAddress"
    expected = hashlib.sha256(("lena.schreiner@example.org" + identity["salt"]).encode()).hexdigest()
    assert identity["identityHash"] == "sha256$" + expected
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"] and achievement["name"] == "Digitale*r Botschafter*in"
    assert achievement["id"].endswith("/certificates/achievements/" + HIGHEST_TIER)
    assert "2 Live-Tutorials" in achievement["criteria"]["narrative"]
    codes = {a["targetCode"] for a in achievement["alignment"]}
    assert {"4.1", "2.5", "3.3"} <= codes
    assert all(
        a["targetFramework"] == "DigComp 2.2" and a["targetUrl"].startswith("https://")
        for a in achievement["alignment"]
    )

    raw = json.dumps(payload, ensure_ascii=False)
    for personal in ("lena.schreiner@example.org", "Lena Schreiner", "demo-lena"):
        assert personal not in raw

    # the issuer profile and the achievement the ids name are public documents
    profile = requests.get(vc["issuer"]["id"], timeout=10).json()
    assert profile["type"] == ["Profile"] and profile["id"] == vc["issuer"]["id"]
    public = requests.get(achievement["id"], timeout=10).json()
    assert public["name"] == achievement["name"] and public["alignment"]

    # the .json download is the same credential
    as_json = browser.get(f"certificates/{award.id}/open-badge.json")
    assert as_json.status_code == 200 and json.loads(as_json.text) == vc


def test_without_an_email_the_lms_id_is_hashed(certs: Certs) -> None:
    browser, timo = certs.reach_highest("demo-timo", "volunteer-private")
    award = certs.award(timo)
    with certs.lti.app.app_context():  # Timo's LMS shares no name: he types one first (test_name.py)
        from lms.certificates.services import set_typed_name
        from lms.users.models import User

        user = db.session.get(User, timo)
        assert user is not None and user.email is None
        set_typed_name(user, "Timo Berger")
        db.session.commit()
    compact = browser.get(f"certificates/{award.id}/open-badge.jwt").text
    vc = jwt.decode(compact, options={"verify_signature": False})["vc"]
    [identity] = vc["credentialSubject"]["identifier"]
    assert identity["identityType"] == "ltiUserId"
    assert identity["identityHash"] == "sha256$" + hashlib.sha256(("demo-timo" + identity["salt"]).encode()).hexdigest()


def test_a_rotated_key_keeps_old_credentials_verifiable(certs: Certs) -> None:
    browser, lena = certs.reach_highest()
    award = certs.award(lena)
    old = browser.get(f"certificates/{award.id}/open-badge.jwt").text
    result = certs.lti.app.test_cli_runner().invoke(args=["awards", "rotate-key"])
    assert result.exit_code == 0, result.output
    new = browser.get(f"certificates/{award.id}/open-badge.jwt").text
    assert jwt.get_unverified_header(old)["kid"] != jwt.get_unverified_header(new)["kid"]
    client = jwt.PyJWKClient(certs.lti.tool.url + "/certificates/jwks")
    for token in (old, new):
        key = client.get_signing_key_from_jwt(token)
        assert jwt.decode(token, key.key, algorithms=["RS256"])["vc"]["id"].endswith(award.id)
    with certs.lti.app.app_context():  # the rotated-out key keeps only its public part
        retired, active = db.session.query(CredentialKey).order_by(CredentialKey.id).all()
        assert (retired.active, retired.stored_pem) == (False, "") and active.active


def test_the_signing_key_is_stored_encrypted_when_a_key_encryption_key_is_set(certs: Certs) -> None:
    from cryptography.fernet import Fernet

    certs.lti.app.config["KEY_ENCRYPTION_KEYS"] = (Fernet.generate_key().decode(),)
    browser, lena = certs.reach_highest()
    award = certs.award(lena)
    token = browser.get(f"certificates/{award.id}/open-badge.jwt").text
    with certs.lti.app.app_context():
        key = db.session.query(CredentialKey).one()
        assert key.stored_pem.startswith("fernet:") and "PRIVATE KEY" not in key.stored_pem
    signing_key = jwt.PyJWKClient(certs.lti.tool.url + "/certificates/jwks").get_signing_key_from_jwt(token)
    assert jwt.decode(token, signing_key.key, algorithms=["RS256"])["jti"].endswith(award.id)
