"""/t/<lt>/chamber-values/: the values a chamber fills in for its lessons (contacts, links), for its
coordinators; the central team may fill them in for any chamber. Volunteers and trainers get 403, another
chamber's page answers 404."""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.core.blueprints import tool_blueprint
from lms.core.security import role_required
from lms.courses import queries, services
from lms.courses.variables import VARIABLES, ChamberVariable
from lms.users.scope import Scope, scope_of
from lti.roles import Role

bp = tool_blueprint("chamber_values", __name__, "/chamber-values")

FIELD_PREFIX = "v-"


def _message(var: ChamberVariable, code: str) -> str:
    label = str(var.label)
    if code == "too_long":
        return _("%(label)s: Das ist zu lang.", label=label)
    if code == "email":
        return _("%(label)s: Bitte gib eine E-Mail-Adresse ein, zum Beispiel name@hwk-beispiel.de.", label=label)
    if code == "phone":
        return _("%(label)s: Bitte gib eine Telefonnummer ein (Ziffern, Leerzeichen und + ( ) / -).", label=label)
    return _("%(label)s: Bitte gib eine Webadresse ein, die mit https:// oder http:// beginnt.", label=label)


def _chamber_in_scope(scope: Scope, chamber_id: int) -> Any:
    """The chamber if this coordinator may fill in its values (their own; the central team: any), else 404."""
    if scope.chamber_ids is not None and chamber_id not in scope.chamber_ids:
        abort(404)
    found = queries.chambers((chamber_id,))
    if not found:
        abort(404)
    return found[0]


@bp.get("/")
@role_required(Role.COORDINATOR)
def index() -> Any:
    return redirect(url_for("chamber_values.edit", chamber_id=g.launch.user.chamber_id))


@bp.route("/<int:chamber_id>", methods=["GET", "POST"])
@role_required(Role.COORDINATOR)
def edit(chamber_id: int) -> Any:
    scope = scope_of(g.launch)
    chamber = _chamber_in_scope(scope, chamber_id)
    if request.method == "GET":
        return _page(scope, chamber, queries.fields_for(chamber.id), saved=request.args.get("saved") == "1")
    typed = {
        var.name: request.form.get(FIELD_PREFIX + var.name, "")
        for var in VARIABLES
        if FIELD_PREFIX + var.name in request.form
    }
    try:
        services.set_values(chamber.id, typed, actor=g.launch.user, actor_role="coordinator")
    except services.ValuesInvalid as error:
        fields = queries.fields_for(chamber.id, typed, error.errors)
        return _page(scope, chamber, fields, status=400)
    return redirect(url_for("chamber_values.edit", chamber_id=chamber.id, saved=1) + "#feedback", code=303)


def _page(
    scope: Scope, chamber: Any, fields: list[queries.ValueField], *, saved: bool = False, status: int = 200
) -> Any:
    errors = [(f, _message(f.variable, f.error)) for f in fields if f.error]
    html = render_template(
        "courses/chamber_values.html",
        chamber=chamber,
        fields=fields,
        errors=errors,
        messages=dict((f.variable.name, m) for f, m in errors),
        saved=saved,
        others=queries.chambers(None) if scope.central else [],
        prefix=FIELD_PREFIX,
    )
    return html, status
