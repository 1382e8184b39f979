"""Checksums (§1.1, §1.4, §1.5 of the reference): ``hex(H(callName + queryString + secret))`` over the *exact*
query string that is sent. The query string is built here (sorted keys, ``urlencode`` → space as ``+``,
booleans ``true``/``false``) and handed to the HTTP library as a finished URL, so nothing is re-encoded."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from urllib.parse import urlencode

CHECKSUM_ALGORITHMS: tuple[str, ...] = ("sha1", "sha256", "sha384", "sha512")
ParamValue = str | int | bool | None


def _format_value(value: str | int | bool) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def build_query(params: Mapping[str, ParamValue], *, sort: bool = True) -> str:
    """The query string as BBB clients send it: ``None`` dropped, booleans ``true``/``false``,
    ``urlencode`` (space → ``+``). Sorted by default (harmless for BBB, needed by old gateways)."""
    items = [(k, _format_value(v)) for k, v in params.items() if v is not None]
    if sort:
        items.sort()
    return urlencode(items)


def checksum(call: str, query: str, secret: str, algorithm: str = "sha256") -> str:
    """``hex(H(call + query + secret))``, lowercase (§1.1)."""
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ValueError(f"checksum algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}")
    return hashlib.new(algorithm, (call + query + secret).encode("utf-8")).hexdigest()


def signed_query(
    call: str, params: Mapping[str, ParamValue], secret: str, algorithm: str = "sha256", *, sort: bool = True
) -> str:
    """The query string with ``checksum=`` appended, ready to put after ``?``."""
    query = build_query(params, sort=sort)
    digest = checksum(call, query, secret, algorithm)
    return f"{query}&checksum={digest}" if query else f"checksum={digest}"
