"""Absolute URLs of the tool, also outside a request (CLI, jobs, e-mails, BBB callbacks)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urljoin

from flask import current_app, url_for
from werkzeug.routing import IntegerConverter, Map

# the largest id the database holds: primary keys are INTEGER, 32-bit signed on PostgreSQL
MAX_DATABASE_INT = 2**31 - 1


def tool_url(endpoint: str, **values: object) -> str:
    """An absolute URL of the tool: from MEDIENWERK_BASE_URL when set, else from the request."""
    base = current_app.config.get("BASE_URL")
    if base:
        return urljoin(base + "/", url_for(endpoint, **values).lstrip("/"))  # type: ignore[arg-type]
    return url_for(endpoint, _external=True, **values)  # type: ignore[arg-type]


class DatabaseIntConverter(IntegerConverter):
    """``<int:…>`` in every route: only ids the database can hold. A larger number in a URL is a page that does
    not exist (404), not a database error (PostgreSQL: "integer out of range", a 500)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_DATABASE_INT)
        super().__init__(map, *args, **kwargs)
