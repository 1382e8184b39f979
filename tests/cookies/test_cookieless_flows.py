"""The cookie-less login and launch paths over HTTP (no browser): what the pages carry, and that every check
stays as strict as with the state cookie."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import requests

from tests.conftest import Lti, form_fields, page_text

FRAME = {"Sec-Fetch-Dest": "iframe", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}


def _data(page: str, name: str) -> str:
    match = re.search(rf'data-{name}="([^"]*)"', page)
    assert match, name
    return unescape(match.group(1))


def _storage_login(lti: Lti, persona: str = "volunteer") -> tuple[str, str, str]:
    """A login with lti_storage_target; returns (state, auth URL, page)."""
    lti.double.storage_target = "_parent"
    resp = requests.get(
        lti.tool.url + "/lti/login",
        params=lti.double.login_params(persona),
        headers=FRAME,
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 200, resp.text[:300]
    return _data(resp.text, "state"), _data(resp.text, "next"), resp.text


def _platform_answer(lti: Lti, auth_url: str) -> dict[str, str]:
    auth = requests.get(auth_url, timeout=10)
    action, fields = form_fields(auth.text)
    assert action == lti.tool.url + "/lti/launch"
    return fields


def test_login_with_storage_target_stores_state_in_the_platform_frame(lti: Lti) -> None:
    state, auth_url, page = _storage_login(lti)
    assert _data(page, "target") == "_parent"
    assert _data(page, "origin") == lti.double.issuer  # postMessage goes to the platform's origin only
    assert _data(page, "nonce")
    assert "lti-storage.js" in page and "<script>" not in page
    query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
    assert auth_url.startswith(lti.double.auth_login_url)
    assert query["state"] == state and query["lti_storage_target"] == "_parent"


def test_storage_launch_reads_state_back_and_every_check_stays(lti: Lti) -> None:
    state, auth_url, _ = _storage_login(lti)
    fields = _platform_answer(lti, auth_url)
    assert fields["lti_storage_target"] == "_parent"
    browser = requests.Session()  # the iframe: no cookie comes back

    def first_round() -> dict[str, str]:
        page = browser.post(lti.tool.url + "/lti/launch", data=fields, timeout=10)
        assert page.status_code == 200 and "lti-storage-launch" in page.text
        assert _data(page.text, "state") == state and _data(page.text, "origin") == lti.double.issuer
        return form_fields(page.text)[1]

    own = {"Origin": lti.tool.url}
    repost = {**first_round(), "lti_storage_state": state}
    assert repost["id_token"] == fields["id_token"] and repost["lti_storage_check"]
    # a form on another site cannot do the re-post
    other_site = browser.post(
        lti.tool.url + "/lti/launch", data=repost, headers={"Origin": "http://evil.example"}, timeout=10
    )
    assert other_site.status_code == 403 and "state_mismatch" in other_site.text
    # nor a re-post without Origin and fetch metadata
    assert browser.post(lti.tool.url + "/lti/launch", data=repost, timeout=10).status_code == 403
    # the platform storage did not have this state
    wrong = {**first_round(), "lti_storage_state": "state-other"}
    assert browser.post(lti.tool.url + "/lti/launch", data=wrong, headers=own, timeout=10).status_code == 403
    # done right: the landing page
    good = {**first_round(), "lti_storage_state": state}
    landing = browser.post(lti.tool.url + "/lti/launch", data=good, headers=own, timeout=10)
    assert landing.status_code == 200 and "/t/" in landing.url and "Trainer*in" in page_text(landing.text)
    assert "Hallo Lena Schreiner!" in page_text(landing.text)
    # replay: the nonce is gone, the state record too
    again = {**good}
    replay = browser.post(lti.tool.url + "/lti/launch", data=again, headers=own, timeout=10)
    assert replay.status_code == 403
    assert browser.post(lti.tool.url + "/lti/launch", data=fields, timeout=10).status_code == 403


def test_storage_check_token_is_bound_to_its_state(lti: Lti) -> None:
    _, auth_one, _ = _storage_login(lti)
    state_two, auth_two, _ = _storage_login(lti)
    one, two = _platform_answer(lti, auth_one), _platform_answer(lti, auth_two)
    check_one = form_fields(requests.post(lti.tool.url + "/lti/launch", data=one, timeout=10).text)[1]
    mixed = {**two, "lti_storage_check": check_one["lti_storage_check"], "lti_storage_state": state_two}
    resp = requests.post(lti.tool.url + "/lti/launch", data=mixed, headers={"Origin": lti.tool.url}, timeout=10)
    assert resp.status_code == 403 and "state_mismatch" in resp.text


def test_storage_login_still_works_where_cookies_do(lti: Lti) -> None:
    lti.double.storage_target = "_parent"
    session = requests.Session()
    login = session.get(lti.tool.url + "/lti/login", params=lti.double.login_params("trainer"), timeout=10)
    fields = _platform_answer(lti, _data(login.text, "next"))
    landing = session.post(lti.tool.url + "/lti/launch", data=fields, timeout=10)  # the state cookie is back
    assert landing.status_code == 200 and "/t/" in landing.url and "Trainer*in" in page_text(landing.text)


def test_login_in_a_cross_site_frame_checks_cookies_first(lti: Lti) -> None:
    params = lti.double.login_params("volunteer")
    page = requests.get(lti.tool.url + "/lti/login", params=params, headers=FRAME, allow_redirects=False, timeout=10)
    assert page.status_code == 200
    assert "lti-cookie-check.js" in page.text and "Set-Cookie" not in page.headers
    new_window = _data(page.text, "login-url")
    link = re.search(r'<a class="button" href="([^"]+)" target="_blank"', page.text)
    assert link and unescape(link.group(1)) == new_window
    query = {k: v[0] for k, v in parse_qs(urlsplit(new_window).query).items()}
    assert query == {**params, "lti1p3_new_window": "1"}
    # the new window (or the frame, once cookies work) logs in directly
    direct = requests.get(new_window, headers=FRAME, allow_redirects=False, timeout=10)
    assert direct.status_code == 302 and direct.headers["Location"].startswith(lti.double.auth_login_url)


def test_unknown_issuer_in_a_frame_is_an_error_not_a_cookie_check(lti: Lti) -> None:
    params = {**lti.double.login_params("volunteer"), "iss": "https://unknown.example"}
    page = requests.get(lti.tool.url + "/lti/login", params=params, headers=FRAME, timeout=10)
    assert page.status_code == 400 and "unknown_issuer" in page.text


def test_cross_site_post_without_cookie_is_reposted_from_our_origin_once(lti: Lti) -> None:
    session, query = lti.auth_request("volunteer")
    auth = requests.get(lti.double.auth_login_url, params=query, timeout=10)
    _, fields = form_fields(auth.text)
    cross_site = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    # the new window over HTTP: the Lax state cookie is not sent on the platform's cross-site POST
    first = requests.post(lti.tool.url + "/lti/launch", data=fields, headers=cross_site, timeout=10)
    assert first.status_code == 200 and "lti-autosubmit.js" in first.text
    action, repost = form_fields(first.text)
    assert repost == {**fields, "lti_repost": "1"}
    # without the cookie the re-post fails as before (no loop) ...
    blocked = requests.post(action, data=repost, headers=cross_site, timeout=10)
    assert blocked.status_code == 403 and "state_mismatch" in blocked.text
    # ... with it (a same-origin POST carries the Lax cookie) it lands, once
    landing = session.post(action, data=repost, headers={"Sec-Fetch-Site": "same-origin"}, timeout=10)
    assert landing.status_code == 200 and "/t/" in landing.url and "Trainer*in" in page_text(landing.text)
    assert session.post(action, data=repost, timeout=10).status_code == 403
