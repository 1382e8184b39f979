"""The deep-linking picker: trainers and coordinators choose what the LMS course links to."""

from __future__ import annotations

from typing import Any

from flask import abort, g, render_template, request

from lms.core.blueprints import tool_blueprint
from lms.core.errors import Conflict
from lms.core.headers import allow_form_action
from lms.core.security import current_role
from lms.core.urls import tool_url
from lms.deep_linking.catalog import catalog
from lms.deep_linking.services import ALREADY_ANSWERED, consume_request, pending_request, respond, was_answered
from lti.deep_linking import DeepLinkingError
from lti.roles import Role

bp = tool_blueprint("deep_linking", __name__, "/deep-linking")


def _page(settings: Any, entries: list[Any], error: str | None = None, chosen: set[str] | None = None) -> str:
    groups: dict[str, list[Any]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(entry)
    return render_template(
        "deep_linking/picker.html", settings=settings, groups=list(groups.items()), error=error, chosen=chosen or set()
    )


def _load() -> Any:
    if current_role() < Role.TRAINER:
        return render_template("deep_linking/forbidden.html"), 403
    settings = pending_request(g.launch)
    if settings is None:
        if was_answered(g.launch):
            raise Conflict(ALREADY_ANSWERED)
        abort(404)
    return settings


@bp.get("/")
def picker() -> Any:
    settings = _load()
    if isinstance(settings, tuple):
        return settings
    return _page(settings, catalog(g.launch))


@bp.post("/")
def choose() -> Any:
    settings = _load()
    if isinstance(settings, tuple):
        return settings

    entries = catalog(g.launch)
    chosen: list[Any] = []
    if "cancel" not in request.form:
        wanted = request.form.getlist("entry")
        by_id = {e.id: e for e in entries}
        chosen = [by_id[w] for w in wanted if w in by_id]
        error = None
        if not chosen:
            error = "none"
        elif len(chosen) > 1 and not settings.accept_multiple:
            error = "single"
        if error:
            return _page(settings, entries, error, set(wanted)), 400
    try:
        token = respond(g.launch, settings, chosen, tool_url("lti.launch"))
    except DeepLinkingError as exc:
        return _page(settings, entries, exc.code), 400
    consume_request(g.launch)  # one answer per request: a second submit is a readable 409
    allow_form_action(settings.return_url)
    return render_template("deep_linking/return.html", action=settings.return_url, jwt=token, cancelled=not chosen)
