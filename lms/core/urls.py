"""Absolute URLs of the tool, also outside a request (CLI, jobs, e-mails, BBB callbacks)."""

from __future__ import annotations

from urllib.parse import urljoin

from flask import current_app, url_for


def tool_url(endpoint: str, **values: object) -> str:
    """An absolute URL of the tool: from MEDIENWERK_BASE_URL when set, else from the request."""
    base = current_app.config.get("BASE_URL")
    if base:
        return urljoin(base + "/", url_for(endpoint, **values).lstrip("/"))  # type: ignore[arg-type]
    return url_for(endpoint, _external=True, **values)  # type: ignore[arg-type]
