"""Which URLs from outside the tool may call: no requests into the tool's own network (SSRF).

URLs that arrive through dynamic registration or in launch claims (the platform's configuration, JWKS, token,
registration, AGS and NRPS endpoints, NRPS ``next`` links) are refused when their host resolves to any address
that is not public: loopback, private, link-local (cloud metadata at 169.254.169.254), shared (CGNAT),
multicast, reserved, unspecified, and IPv6 forms that wrap such an IPv4 address (IPv4-mapped, NAT64, 6to4,
Teredo; the deprecated IPv4-compatible form is reserved). One bad address among several is enough: a name that
resolves to a public and a private address is refused.

An LMS on a private network is allowed by the operator's allow-list (``MEDIENWERK_ALLOWED_PRIVATE_HOSTS``):
host names (matched exactly, case-insensitively) or IP addresses and CIDR networks.

:class:`lti.http.TimeoutSession` with a policy checks every request's URL before sending and connects only to
the addresses it checked (no second DNS lookup an attacker could answer differently).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

from lti.errors import LtiError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> IP addresses`` as strings; raises OSError when the name does not resolve."""

_DEFAULT_PORTS = {"http": 80, "https": 443}
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class UrlPolicyError(LtiError):
    """Base of the policy's errors; ``detail`` names the reason, never the URL's path or query."""


class UrlRefused(UrlPolicyError):
    """The URL is not an http(s) URL, or its host is (or resolves to) an address the policy forbids."""

    def __init__(self, detail: str) -> None:
        super().__init__("url_refused", detail)


class UrlUnresolvable(UrlPolicyError):
    """The host name does not resolve (now): nothing was checked, nothing was sent. May work later."""

    def __init__(self, detail: str) -> None:
        super().__init__("url_unresolvable", detail)


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses ``socket.getaddrinfo`` gives for a TCP connection (what the connection would use)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _unwrapped(ip: IPAddress) -> IPAddress:
    """The IPv4 address an IPv4-mapped (``::ffff:a.b.c.d``) or NAT64 (``64:ff9b::a.b.c.d``) address stands for:
    a connection to it reaches that IPv4 address, so that address is what is judged."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_forbidden(ip: IPAddress) -> bool:
    """Whether an address is not a public unicast address (or wraps an IPv4 address that is not)."""
    ip = _unwrapped(ip)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.sixtofour is not None and is_forbidden(ip.sixtofour):
            return True
        if ip.teredo is not None and any(is_forbidden(v4) for v4 in ip.teredo):  # (server, client)
            return True
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved  # also the deprecated IPv4-compatible ::a.b.c.d (in ::/8)
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local)
    )


def _parse_ip(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 zone ("fe80::1%eth0") does not matter
    except ValueError:
        return None


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host = parts.hostname
        port = parts.port  # ValueError for a bad port
    except ValueError as exc:
        raise UrlRefused("not a valid URL") from exc
    if scheme not in _DEFAULT_PORTS:
        raise UrlRefused("not an http(s) URL")
    if not host:
        raise UrlRefused("no host in the URL")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("user info in the URL")
    return host.rstrip(".").lower(), port or _DEFAULT_PORTS[scheme]


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, the default port made explicit; :class:`UrlRefused` otherwise."""
    host, port = _host_and_port(url)
    return urlsplit(url).scheme.lower(), host, port


def same_origin(a: str, b: str) -> bool:
    try:
        return origin(a) == origin(b)
    except UrlRefused:
        return False


@dataclass(frozen=True)
class UrlPolicy:
    """The rule for URLs from outside: public addresses only, plus the operator's ``allow`` list."""

    allow: tuple[str, ...] = ()
    resolver: Resolver | None = field(default=None, compare=False)

    @cached_property
    def _allowed(self) -> tuple[frozenset[str], tuple[IPNetwork, ...]]:
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in self.allow:
            entry = entry.strip().lower().rstrip(".")
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry)
        return frozenset(names), tuple(networks)

    def _address_allowed(self, ip: IPAddress) -> bool:
        if not is_forbidden(ip):
            return True
        candidates = {ip, _unwrapped(ip)}  # an allowed 10.0.0.5 is also allowed as ::ffff:10.0.0.5
        return any(c in net for c in candidates for net in self._allowed[1] if c.version == net.version)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for ``host``, all of them checked; the first forbidden one refuses the
        host. An allow-listed host name is resolved but not checked."""
        host = host.strip("[]").rstrip(".").lower()
        literal = _parse_ip(host)
        if literal is not None:
            resolved: Sequence[str] = [host.split("%", 1)[0]]
        else:
            try:
                resolved = (self.resolver or system_resolver)(host, port)
            except (OSError, UnicodeError) as exc:
                raise UrlUnresolvable(f"host does not resolve ({type(exc).__name__})") from exc
            if not resolved:
                raise UrlUnresolvable("host has no address")
        if literal is None and host in self._allowed[0]:
            return list(resolved)
        for text in resolved:
            ip = _parse_ip(text)
            if ip is None:
                raise UrlRefused("host resolves to something that is not an IP address")
            if not self._address_allowed(ip):
                raise UrlRefused(f"host resolves to a non-public address ({_kind(ip)})")
        return list(resolved)

    def check(self, url: str) -> None:
        """:class:`UrlRefused` unless ``url`` is an http(s) URL whose host resolves to allowed addresses only;
        :class:`UrlUnresolvable` when the host does not resolve. Nothing is sent."""
        host, port = _host_and_port(url)
        self.addresses(host, port)


def check_public_url(url: str, *, allow: Iterable[str] = (), resolver: Resolver | None = None) -> None:
    """:meth:`UrlPolicy.check` for one URL."""
    UrlPolicy(tuple(allow), resolver).check(url)


def _kind(ip: IPAddress) -> str:
    """A word for the log and the error's detail (the address itself may be an internal one: not shown)."""
    if _unwrapped(ip) != ip or (isinstance(ip, ipaddress.IPv6Address) and (ip.sixtofour or ip.teredo)):
        return "wrapped IPv4"
    for name in ("loopback", "link_local", "multicast", "unspecified", "private", "reserved"):
        if getattr(ip, f"is_{name}"):
            return name.replace("_", "-")
    return "not global"
