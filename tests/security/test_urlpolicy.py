"""SSRF: URLs from LMSs (dynamic registration, AGS/NRPS claims, NRPS "next" links) never reach private,
loopback or link-local addresses unless the operator allows them, and the bearer token stays on its origin.

No test here connects anywhere but 127.0.0.1: names resolve through a stub resolver, and the tests of refusals
fail if any connection is attempted at all.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
import requests
import urllib3.util.connection

from lti.http import TimeoutSession
from lti.nrps import NrpsClient
from lti.tokens import PermanentServiceError
from lti.urlpolicy import UrlPolicy, UrlRefused, UrlUnresolvable, check_public_url, is_forbidden, same_origin
from tests.conftest import serve

PUBLIC = "93.184.216.34"
NAMES: dict[str, list[str]] = {
    "public.example": [PUBLIC],
    "public6.example": ["2606:2800:220:1:248:1893:25c8:1946"],
    "intranet.example": ["10.0.0.5"],
    "meta.example": ["169.254.169.254"],
    "localhost.example": ["127.0.0.1"],
    "mixed.example": [PUBLIC, "10.0.0.5"],
    "cgnat.example": ["100.64.0.1"],
    "mapped.example": ["::ffff:10.0.0.5"],
    "mapped-meta.example": ["::ffff:169.254.169.254"],
    "nat64.example": ["64:ff9b::a9fe:a9fe"],
    "sixtofour.example": ["2002:a00:5::1"],
    "teredo.example": ["2001:0:4136:e378:8000:63bf:3fff:fdd2"],
    "v6local.example": ["fe80::1"],
    "v6ula.example": ["fd00::5"],
    "v6loop.example": ["::1"],
    "multicast.example": ["224.0.0.1"],
    "unspecified.example": ["0.0.0.0"],  # noqa: S104 - a DNS answer, nothing binds to it
    "lms.test": ["127.0.0.1"],
    "other.test": ["127.0.0.1"],
}


def stub_resolver(names: dict[str, list[str]] | None = None) -> Callable[[str, int], Sequence[str]]:
    table = NAMES if names is None else names

    def resolve(host: str, port: int) -> Sequence[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Fails the test if anything tries to open a connection (and makes sure nothing does)."""
    attempts: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(args)
        raise AssertionError(f"a connection was attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(urllib3.util.connection, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)  # and no real DNS either
    yield attempts
    assert attempts == []


# -- the policy ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://intranet.example/openid-configuration",
        "http://meta.example/latest/meta-data/",
        "https://localhost.example/",
        "https://mixed.example/",  # one private address among public ones is enough
        "https://cgnat.example/",
        "https://mapped.example/",
        "https://mapped-meta.example/",
        "https://nat64.example/",
        "https://sixtofour.example/",
        "https://teredo.example/",
        "https://v6local.example/",
        "https://v6ula.example/",
        "https://v6loop.example/",
        "https://multicast.example/",
        "https://unspecified.example/",
        "http://127.0.0.1:8080/",
        "http://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[fe80::1%25eth0]/",
        "http://0.0.0.0/",
        "http://LOCALHOST.EXAMPLE./",
    ],
)
def test_private_loopback_and_link_local_targets_are_refused(url: str, no_connections: list[Any]) -> None:
    with pytest.raises(UrlRefused) as refused:
        check_public_url(url, resolver=stub_resolver())
    assert refused.value.code == "url_refused"
    assert "10.0.0.5" not in str(refused.value) and "169.254" not in str(refused.value)  # no internal address


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "gopher://public.example/", "http://user:pw@public.example/", "/x"]
)
def test_only_plain_http_urls(url: str, no_connections: list[Any]) -> None:
    with pytest.raises(UrlRefused):
        check_public_url(url, resolver=stub_resolver())


def test_public_targets_pass(no_connections: list[Any]) -> None:
    for url in ("https://public.example/lti", "https://public6.example:8443/", f"http://{PUBLIC}/"):
        check_public_url(url, resolver=stub_resolver())


def test_an_unresolvable_name_is_not_a_refusal(no_connections: list[Any]) -> None:
    with pytest.raises(UrlUnresolvable):
        check_public_url("https://nowhere.example/", resolver=stub_resolver())


def test_the_operators_allow_list_takes_hosts_addresses_and_networks(no_connections: list[Any]) -> None:
    resolver = stub_resolver()
    check_public_url("http://intranet.example/", allow=["10.0.0.0/8"], resolver=resolver)
    check_public_url("http://intranet.example/", allow=["10.0.0.5"], resolver=resolver)
    check_public_url("http://mapped.example/", allow=["10.0.0.0/24"], resolver=resolver)
    check_public_url("http://INTRANET.example/", allow=["intranet.example"], resolver=resolver)
    check_public_url("http://10.0.0.5:8080/", allow=["10.0.0.0/16"], resolver=resolver)
    with pytest.raises(UrlRefused):  # an allowed network does not open the others
        check_public_url("http://meta.example/", allow=["10.0.0.0/8", "intranet.example"], resolver=resolver)
    with pytest.raises(UrlRefused):  # an allowed name is matched exactly, not as a suffix
        check_public_url(
            "http://x.intranet.example/",
            allow=["intranet.example"],
            resolver=stub_resolver({"x.intranet.example": ["10.0.0.6"]}),
        )


def test_classification() -> None:
    import ipaddress

    assert not is_forbidden(ipaddress.ip_address(PUBLIC))
    assert not is_forbidden(ipaddress.ip_address("::ffff:93.184.216.34"))  # a mapped public address is public
    assert not is_forbidden(ipaddress.ip_address("64:ff9b::5db8:d822"))  # NAT64 of a public address
    assert is_forbidden(ipaddress.ip_address("::10.0.0.5"))  # IPv4-compatible (deprecated)
    assert same_origin("https://LMS.example/a", "https://lms.example:443/b?c")
    assert not same_origin("https://lms.example/a", "http://lms.example/a")
    assert not same_origin("https://lms.example/a", "https://lms.example.evil.test/a")


# -- the HTTP session: checked before sending, pinned when connecting, no redirects --------------------------


def test_a_checked_session_never_connects_to_a_refused_target(no_connections: list[Any]) -> None:
    session = TimeoutSession(policy=UrlPolicy(resolver=stub_resolver()))
    for url in ("http://meta.example/latest/meta-data/", "http://intranet.example/", "http://127.0.0.1:1/"):
        with pytest.raises(UrlRefused):
            session.get(url)


def test_the_connection_goes_to_the_checked_address_and_rebinding_gains_nothing(no_connections: list[Any]) -> None:
    """The name answers a public address for the check and a private one a moment later (DNS rebinding): the
    connection resolves through the policy again and refuses, before any connect."""
    answers = iter([[PUBLIC], ["10.0.0.5"]])
    asked: list[str] = []

    def rebinding(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return next(answers)

    session = TimeoutSession(policy=UrlPolicy(resolver=rebinding))
    with pytest.raises(UrlRefused):
        session.get("http://rebind.example/")
    assert asked == ["rebind.example", "rebind.example"]


def _echo_app(log: list[dict[str, str]]) -> Callable[..., Any]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        log.append(
            {
                "host": environ.get("HTTP_HOST", ""),
                "path": environ.get("PATH_INFO", ""),
                "authorization": environ.get("HTTP_AUTHORIZATION", ""),
            }
        )
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        if path.startswith("/redirect"):
            start_response("307 Temporary Redirect", [("Location", query or "http://meta.example/")])
            return [b""]
        if path == "/members":
            link = {"Link": f'<{query}>; rel="next"'} if query else {}
            body = {"context": {"id": "c1"}, "members": [{"user_id": "u1", "roles": ["Learner"]}]}
            start_response("200 OK", [("Content-Type", "application/json"), *link.items()])
            return [json.dumps(body).encode()]
        if path == "/lineitems":
            link = {"Link": f'<{query}>; rel="next"'} if query else {}
            host = environ.get("HTTP_HOST", "")
            body = [
                {"id": f"http://{host}/lineitems/1", "label": "M1", "scoreMaximum": 100},
                {"id": f"http://other.test:{host.rsplit(':', 1)[1]}/lineitems/2", "label": "M2", "scoreMaximum": 100},
            ]
            start_response("200 OK", [("Content-Type", "application/json"), *link.items()])
            return [json.dumps(body).encode()]
        if path == "/members2":
            body = {"context": {"id": "c1"}, "members": [{"user_id": "u2", "roles": ["Learner"]}]}
            start_response("200 OK", [("Content-Type", "application/json")])
            return [json.dumps(body).encode()]
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ.get("HTTP_HOST", "").encode()]

    return app


@pytest.fixture
def echo() -> Iterator[tuple[int, list[dict[str, str]]]]:
    log: list[dict[str, str]] = []
    with serve(_echo_app(log)) as url:
        yield int(url.rsplit(":", 1)[1]), log


def test_a_checked_session_connects_to_the_address_it_checked(echo: tuple[int, list[dict[str, str]]]) -> None:
    """``lms.test`` is unknown to the system's DNS: the answer can only come from the pinned, checked address,
    and the server still sees the host name."""
    port, log = echo
    session = TimeoutSession(policy=UrlPolicy(allow=("127.0.0.1",), resolver=stub_resolver()))
    resp = session.get(f"http://lms.test:{port}/hello")
    assert resp.status_code == 200 and resp.text == f"lms.test:{port}"
    with pytest.raises(UrlRefused):  # loopback without the allow-list: refused
        TimeoutSession(policy=UrlPolicy(resolver=stub_resolver())).get(f"http://lms.test:{port}/hello")
    assert [entry["path"] for entry in log] == ["/hello"]


def test_a_checked_session_does_not_follow_redirects(echo: tuple[int, list[dict[str, str]]]) -> None:
    port, log = echo
    asked: list[str] = []

    def resolver(host: str, port: int) -> Sequence[str]:
        asked.append(host)
        return stub_resolver()(host, port)

    session = TimeoutSession(policy=UrlPolicy(allow=("127.0.0.1",), resolver=resolver))
    resp = session.get(f"http://lms.test:{port}/redirect", allow_redirects=True)
    assert resp.status_code == 307
    assert "meta.example" not in asked and len(log) == 1


# -- NRPS: "next" links stay on the origin, the token never leaves it ---------------------------------------


class FakeTokens:
    """What ServiceSession needs of a TokenClient, without a token endpoint."""

    http = requests.Session()

    def token(self, scopes: Any, *, refresh: bool = False, stale: str | None = None) -> str:
        return "secret-bearer-token"


def _nrps(allow: tuple[str, ...] = ("127.0.0.1",)) -> NrpsClient:
    session = TimeoutSession(policy=UrlPolicy(allow=allow, resolver=stub_resolver()))
    return NrpsClient(FakeTokens(), http=session)  # type: ignore[arg-type]


def test_nrps_follows_next_links_on_the_same_origin(echo: tuple[int, list[dict[str, str]]]) -> None:
    port, log = echo
    roster = _nrps().roster(f"http://lms.test:{port}/members?http://lms.test:{port}/members2")
    assert sorted(m.user_id for m in roster.members) == ["u1", "u2"] and roster.complete
    assert [e["authorization"] for e in log] == ["Bearer secret-bearer-token"] * 2


def test_nrps_refuses_a_next_link_to_another_origin(echo: tuple[int, list[dict[str, str]]]) -> None:
    port, log = echo
    with pytest.raises(PermanentServiceError) as refused:
        _nrps().roster(f"http://lms.test:{port}/members?http://other.test:{port}/steal")
    assert refused.value.code == "bad_answer" and "origin" in refused.value.detail
    assert [e["path"] for e in log] == ["/members"]  # the other origin never saw the token


def test_nrps_does_not_carry_the_token_through_a_redirect(echo: tuple[int, list[dict[str, str]]]) -> None:
    port, log = echo
    with pytest.raises(PermanentServiceError):
        _nrps().roster(f"http://lms.test:{port}/redirect?http://other.test:{port}/steal")
    assert [e["path"] for e in log] == ["/redirect"]


def test_nrps_refuses_a_memberships_url_in_a_private_network(no_connections: list[Any]) -> None:
    for url in ("http://meta.example/latest/meta-data/", "http://intranet.example/members"):
        with pytest.raises(PermanentServiceError) as refused:
            _nrps(allow=()).roster(url)
        assert refused.value.code == "url_refused"


def test_ags_line_items_stay_on_the_containers_origin(echo: tuple[int, list[dict[str, str]]]) -> None:
    from lti.ags import SCOPE_LINEITEM, AgsClient

    port, log = echo
    session = TimeoutSession(policy=UrlPolicy(allow=("127.0.0.1",), resolver=stub_resolver()))
    client = AgsClient(FakeTokens(), [SCOPE_LINEITEM], http=session)  # type: ignore[arg-type]
    items = list(client.lineitems(f"http://lms.test:{port}/lineitems"))
    assert [i.id for i in items] == [f"http://lms.test:{port}/lineitems/1"]  # the other origin's item is dropped
    with pytest.raises(PermanentServiceError) as refused:
        list(client.lineitems(f"http://lms.test:{port}/lineitems?http://other.test:{port}/steal"))
    assert "origin" in refused.value.detail
    with pytest.raises(PermanentServiceError) as redirected:
        list(client.lineitems(f"http://lms.test:{port}/redirect?http://other.test:{port}/steal"))
    assert redirected.value.http_status == 307
    assert [e["path"] for e in log] == ["/lineitems", "/lineitems", "/redirect"]
    assert {e["host"] for e in log} == {f"lms.test:{port}"}


def test_the_apps_service_session_uses_the_configured_allow_list(app: Any) -> None:
    from lms.grades.clients import service_http_session

    with app.app_context():
        session = service_http_session()
        assert session.url_policy is not None and session.url_policy.allow == ("127.0.0.1",)
        app.config["ALLOWED_PRIVATE_HOSTS"] = ("10.0.0.0/8",)
        assert service_http_session().url_policy == UrlPolicy(allow=("10.0.0.0/8",))


def _self_signed(tmp_path: Any, host: str) -> tuple[str, str]:
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_file), str(key_file)


def test_https_to_the_pinned_address_still_checks_the_certificate_for_the_host_name(tmp_path: Any) -> None:
    """TLS: the connection goes to the checked IP, while SNI and the certificate check use the name."""
    import ssl
    import threading

    from werkzeug.serving import make_server

    cert, key = _self_signed(tmp_path, "lms.test")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    seen: list[dict[str, str]] = []
    server = make_server("127.0.0.1", 0, _echo_app(seen), threaded=True, ssl_context=context)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        port = server.server_port
        session = TimeoutSession(policy=UrlPolicy(allow=("127.0.0.1",), resolver=stub_resolver()))
        resp = session.get(f"https://lms.test:{port}/tls", verify=cert)
        assert resp.status_code == 200 and resp.text == f"lms.test:{port}"
        with pytest.raises(requests.exceptions.SSLError):  # the certificate is for lms.test, not other.test
            session.get(f"https://other.test:{port}/tls", verify=cert)
    finally:
        server.shutdown()
        server.server_close()
