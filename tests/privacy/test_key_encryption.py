"""The tool's private keys at rest: encrypted with MEDIENWERK_KEY_ENCRYPTION_KEY when it is set, plain PEMs keep
working, 'medienwerk keys encrypt' converts and re-encrypts (rotation), and a key nobody can decrypt is a clear
error."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
import requests
from cryptography.fernet import Fernet
from flask import Flask
from sqlalchemy import select, text

from lms.core.extensions import db
from lms.platforms.keycrypt import KeyEncryptionError
from lms.platforms.models import ToolKey
from lms.platforms.services import active_key, find_platform
from lms.platforms.setup import check_stored_keys
from tests.conftest import Lti, form_fields
from tests.deep_linking.conftest import DeepLinking

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def _stored(app: Flask) -> list[str]:
    """The private-key column as it is in the database."""
    with app.app_context():
        return [row[0] for row in db.session.execute(text("SELECT private_pem FROM tool_key ORDER BY id"))]


def _use(app: Flask, *keys: str) -> None:
    app.config["KEY_ENCRYPTION_KEYS"] = keys


def _pems(app: Flask) -> list[str]:
    with app.app_context():
        return [k.private_pem for k in db.session.execute(select(ToolKey).order_by(ToolKey.id)).scalars()]


def test_keys_are_stored_encrypted_when_the_setting_is_set(app: Flask, runner: Any) -> None:
    _use(app, NEW)
    assert runner.invoke(args=["keys", "list"]).exit_code == 0  # creates the signing key
    assert runner.invoke(args=["keys", "rotate"]).exit_code == 0
    stored = _stored(app)
    assert len(stored) == 2
    for value in stored:
        assert value.startswith("fernet:")
        assert "PRIVATE KEY" not in value
    assert all(pem.startswith("-----BEGIN PRIVATE KEY-----") for pem in _pems(app))
    listing = runner.invoke(args=["keys", "list"]).output
    assert listing.count("encrypted") == 2


def test_plain_keys_keep_working_and_keys_encrypt_converts_them(app: Flask, runner: Any) -> None:
    runner.invoke(args=["keys", "list"])
    runner.invoke(args=["keys", "rotate"])
    plain = _stored(app)
    assert all(value.startswith("-----BEGIN PRIVATE KEY-----") for value in plain)
    refused = runner.invoke(args=["keys", "encrypt"])
    assert refused.exit_code != 0 and "MEDIENWERK_KEY_ENCRYPTION_KEY is not set" in refused.output

    _use(app, NEW)
    assert _pems(app) == plain  # read as they are, before any conversion
    result = runner.invoke(args=["keys", "encrypt"])
    assert result.exit_code == 0, result.output
    assert "2 private key(s) encrypted" in result.output
    assert all(value.startswith("fernet:") for value in _stored(app))
    assert _pems(app) == plain
    again = runner.invoke(args=["keys", "encrypt"])
    assert "0 private key(s) encrypted" in again.output  # already current: nothing to do

    back = runner.invoke(args=["keys", "decrypt"])
    assert back.exit_code == 0 and "2 private key(s) stored unencrypted" in back.output
    assert _stored(app) == plain


def test_rotating_the_key_encryption_key(app: Flask, runner: Any) -> None:
    _use(app, OLD)
    runner.invoke(args=["keys", "list"])
    pem = _pems(app)[0]
    encrypted_with_old = _stored(app)[0]

    _use(app, NEW, OLD)  # the new key first, the old one still decrypts
    assert _pems(app) == [pem]
    result = runner.invoke(args=["keys", "encrypt"])
    assert result.exit_code == 0 and "1 private key(s) encrypted" in result.output
    assert _stored(app)[0] != encrypted_with_old

    _use(app, NEW)  # the old key is gone: the re-encrypted key still reads
    assert _pems(app) == [pem]

    _use(app, OLD)  # the wrong key: a clear error, and 'keys list' says which key
    with app.app_context():
        key = db.session.execute(select(ToolKey)).scalar_one()
        with pytest.raises(KeyEncryptionError, match="None of the keys in MEDIENWERK_KEY_ENCRYPTION_KEY decrypts"):
            _ = key.private_pem
    assert "undecryptable" in runner.invoke(args=["keys", "list"]).output
    refused = runner.invoke(args=["keys", "encrypt"])
    assert refused.exit_code != 0 and "decrypts the tool's private key" in refused.output


def test_an_encrypted_key_without_the_setting_is_a_clear_error(app: Flask, runner: Any, db_uri: str) -> None:
    _use(app, OLD)
    runner.invoke(args=["keys", "list"])
    _use(app)
    with app.app_context(), pytest.raises(KeyEncryptionError, match="MEDIENWERK_KEY_ENCRYPTION_KEY is not set"):
        _ = active_key().private_pem
    with pytest.raises(KeyEncryptionError, match="no key in MEDIENWERK_KEY_ENCRYPTION_KEY decrypts them"):
        check_stored_keys(app)
    # a serving process refuses to start (the command line and the tests start anyway)
    from lms import create_app

    with pytest.raises(KeyEncryptionError):
        create_app({"SECRET_KEY": "serving", "SQLALCHEMY_DATABASE_URI": db_uri})
    _use(app, OLD)
    check_stored_keys(app)  # the right key: starts


def test_launch_jwks_deep_linking_and_service_tokens_work_with_an_encrypted_key(lti: Lti) -> None:
    dl = DeepLinking(lti)
    _use(lti.app, NEW)
    result = lti.app.test_cli_runner().invoke(args=["keys", "encrypt"])
    assert "1 private key(s) encrypted" in result.output
    assert _stored(lti.app)[0].startswith("fernet:")

    assert lti.launch("volunteer").status_code == 200
    jwks = requests.get(lti.tool.url + "/lti/jwks", timeout=10).json()
    assert len(jwks["keys"]) == 1 and "d" not in jwks["keys"][0]  # the public part only

    # the deep-linking response is signed with the encrypted key, and the platform verifies it
    session, picker = dl.open_picker()
    answer = dl.choose(session, picker, "overview")
    token = form_fields(answer.text)[1]["JWT"]
    assert jwt.get_unverified_header(token)["kid"] == jwks["keys"][0]["kid"]
    assert dl.return_to_platform(session, answer).status_code == 200
    assert lti.double.deep_link_errors == []

    # and so is the client assertion of an AGS/NRPS token request
    from lms.grades.clients import token_client

    with lti.app.app_context():
        platform = find_platform(lti.double.issuer, lti.double.client_id)
        assert platform is not None
        assertion = token_client(platform).client_assertion()
    public = jwt.PyJWK(jwks["keys"][0])
    claims = jwt.decode(assertion, public.key, algorithms=["RS256"], audience=lti.double.auth_token_url)
    assert claims["iss"] == lti.double.client_id
