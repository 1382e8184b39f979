"""Tool key rotation (CONTRACT: keys rotate/retire/list) and the platform key-set re-fetch on an unknown kid."""

from __future__ import annotations

import jwt
import requests

from lms.platforms.services import active_key, find_platform
from lti.keys import generate_key
from tests.conftest import Lti, form_fields, page_text
from tests.deep_linking.conftest import DeepLinking


def _kids(lti: Lti) -> list[str]:
    return [k["kid"] for k in requests.get(lti.tool.url + "/lti/jwks", timeout=10).json()["keys"]]


def test_rotate_publishes_both_keys_signs_with_the_new_and_retire_removes_the_old(dl: DeepLinking) -> None:
    lti = dl.lti
    old = _kids(lti)
    assert len(old) == 1
    runner = lti.app.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    with lti.app.app_context():
        new_kid = active_key().kid
    assert set(_kids(lti)) == {old[0], new_kid}

    # deep-linking responses are signed with the new key, and the platform (fetching the JWKS) accepts them
    session, picker = dl.open_picker()
    answer = dl.choose(session, picker, "overview")
    token = form_fields(answer.text)[1]["JWT"]
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    assert dl.return_to_platform(session, answer).status_code == 200

    # service tokens (client_credentials assertions) too
    with lti.app.app_context():
        platform = find_platform(lti.double.issuer, lti.double.client_id)
        assert platform is not None
        assertion = _service_assertion(platform)
        assert jwt.get_unverified_header(assertion)["kid"] == new_kid

    listing = runner.invoke(args=["keys", "list"])
    assert new_kid in listing.output and old[0] in listing.output
    assert runner.invoke(args=["keys", "retire", new_kid]).exit_code != 0  # the active key cannot be retired
    assert runner.invoke(args=["keys", "retire", old[0]]).exit_code == 0
    assert _kids(lti) == [new_kid]


def _service_assertion(platform) -> str:  # noqa: ANN001
    """The client assertion an AGS/NRPS token request sends (the grades domain builds the client)."""
    from lms.grades.clients import token_client

    return token_client(platform).client_assertion()


def test_unknown_kid_refetch_is_rate_limited(lti: Lti) -> None:
    calls: list[int] = []
    original = lti.double.jwks

    def counting_jwks():  # noqa: ANN202
        calls.append(1)
        return original()

    lti.double.jwks = counting_jwks  # type: ignore[method-assign]
    assert lti.launch().status_code == 200
    assert len(calls) == 1  # fetched once, then cached
    assert lti.launch().status_code == 200
    assert len(calls) == 1

    lti.double.key = generate_key()  # the platform rotates: unknown kid -> one re-fetch
    assert lti.launch().status_code == 200
    assert len(calls) == 2

    bogus = lti.launch_with(headers={"kid": "bogus-kid"})
    assert bogus.status_code == 403 and "invalid_token" in bogus.text
    assert len(calls) == 2, "a second unknown kid within the interval must not hit the platform again"
    assert "Signatur" in page_text(bogus.text)
