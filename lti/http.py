"""HTTP for calls to platforms: every request has a timeout (pylti1p3 sets none).

A session made with a :class:`lti.urlpolicy.UrlPolicy` (for URLs from outside: dynamic registration, AGS, NRPS)
also

- checks each request's URL before anything is sent (:class:`lti.urlpolicy.UrlRefused` otherwise),
- connects only to the addresses it checked: the connection resolves the host once, through the policy, and
  connects to the checked IP, while the Host header, TLS SNI and the certificate check still use the host name
  (so a DNS answer that changes between check and connect, "DNS rebinding", gains nothing),
- never follows redirects (a redirect could lead anywhere and carry the Authorization header along).

Through an HTTP(S) proxy (``HTTPS_PROXY``) the proxy resolves and connects; then only the check before sending
applies.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from lti.urlpolicy import UrlPolicy, UrlUnresolvable

DEFAULT_TIMEOUT = (3.05, 10.0)  # connect, read


def _connect_checked(conn: HTTPConnection, policy: UrlPolicy) -> socket.socket:
    """urllib3's ``HTTPConnection._new_conn``, but to the addresses the policy resolved and checked."""
    try:
        addresses = policy.addresses(conn.host, conn.port)  # UrlRefused goes up to the caller as it is
    except UrlUnresolvable as exc:
        raise NewConnectionError(conn, f"Failed to resolve the host: {exc.detail}") from exc
    error: Exception | None = None
    for address in addresses:
        try:
            sock = urllib3_connection.create_connection(
                (address, conn.port),
                conn.timeout,
                source_address=conn.source_address,
                socket_options=conn.socket_options,
            )
        except TimeoutError as exc:
            error = ConnectTimeoutError(conn, f"Connection timed out. (connect timeout={conn.timeout})")
            error.__cause__ = exc
        except OSError as exc:
            error = NewConnectionError(conn, f"Failed to establish a new connection: {exc}")
            error.__cause__ = exc
        else:
            sys.audit("http.client.connect", conn, conn.host, conn.port)
            return sock
    assert error is not None
    raise error


class _CheckedHTTPConnection(HTTPConnection):
    url_policy: UrlPolicy

    def _new_conn(self) -> socket.socket:
        return _connect_checked(self, self.url_policy)


class _CheckedHTTPSConnection(HTTPSConnection):
    url_policy: UrlPolicy

    def _new_conn(self) -> socket.socket:
        return _connect_checked(self, self.url_policy)


class CheckedAdapter(HTTPAdapter):
    """A transport adapter whose direct connections go only to addresses ``policy`` allows (pinned per
    connection: resolved and checked once, then connected to). Proxied requests use the proxy as usual."""

    def __init__(self, policy: UrlPolicy, **kwargs: Any) -> None:
        self.url_policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        policy = self.url_policy
        http_conn = type("CheckedHTTPConnection", (_CheckedHTTPConnection,), {"url_policy": policy})
        https_conn = type("CheckedHTTPSConnection", (_CheckedHTTPSConnection,), {"url_policy": policy})
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("CheckedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("CheckedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }


class TimeoutSession(requests.Session):
    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT, *, policy: UrlPolicy | None = None):
        super().__init__()
        self.timeout = timeout
        self.url_policy = policy
        self.headers["User-Agent"] = "medienwerk-lti/1"
        if policy is not None:
            adapter = CheckedAdapter(policy)
            self.mount("http://", adapter)
            self.mount("https://", adapter)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.timeout)
        if self.url_policy is not None:
            self.url_policy.check(url.decode() if isinstance(url, bytes) else url)
            kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)
