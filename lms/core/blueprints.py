"""Blueprints for pages after a launch: their URLs start with ``/t/<lt>`` (the launch token)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app, g, redirect, request

from lms.core.security import check_csrf, load_launch_session


def tool_blueprint(name: str, import_name: str, prefix: str = "") -> Blueprint:
    bp = Blueprint(name, import_name, url_prefix="/t/<lt>" + prefix)

    @bp.url_value_preprocessor
    def pull_token(endpoint: str | None, values: dict[str, Any] | None) -> None:
        token = (values or {}).pop("lt", "")
        session = load_launch_session(token)
        if session is None:
            abort(401)
        lang = request.args.get("lang")
        if lang in current_app.config["LANGUAGES"] and session.locale != lang:
            session.locale = lang  # the person's choice sticks for this launch
        g.launch = session
        g.launch_token = token

    @bp.url_defaults
    def add_token(endpoint: str, values: dict[str, Any]) -> None:
        needs_token = "lt" not in values and "launch_token" in g
        if needs_token and current_app.url_map.is_endpoint_expecting(endpoint, "lt"):
            values["lt"] = g.launch_token

    bp.before_request(check_csrf)

    return bp


def moved_blueprint(
    name: str, import_name: str, old_prefix: str, new_prefix: str, renames: dict[str, str] | None = None
) -> Blueprint:
    """Pages that moved to new URLs: every old URL (GET or POST, with its query) answers a permanent redirect
    (308 keeps the method and the form) to the new one. ``renames`` maps old last path parts to new ones."""
    bp = tool_blueprint(name, import_name, old_prefix)

    @bp.route("/", defaults={"rest": ""}, methods=["GET", "POST"])
    @bp.route("/<path:rest>", methods=["GET", "POST"])
    def moved(rest: str) -> Response:
        parts = [(renames or {}).get(part, part) for part in rest.split("/")]
        target = f"{request.script_root}/t/{g.launch_token}{new_prefix}/{'/'.join(parts)}"
        query = request.query_string.decode("latin-1")
        response = redirect(target + (f"?{query}" if query else ""), code=308)
        return response  # type: ignore[return-value]

    return bp
