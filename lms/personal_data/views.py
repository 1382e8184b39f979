"""Export and deletion of one volunteer's data by their chamber's coordinators (each logged)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from lms.audit.services import record
from lms.core.blueprints import tool_blueprint
from lms.core.db import commit_now
from lms.core.errors import Forbidden
from lms.dashboards.queries import volunteer_in_scope
from lms.personal_data import services
from lms.users.models import User
from lms.users.scope import scope_of

bp = tool_blueprint("personal_data", __name__, "/dashboard/volunteers/<int:user_id>/data")


def _person(user_id: int) -> User:
    scope = scope_of(g.launch)
    if not scope.may_manage:
        raise Forbidden()
    person = volunteer_in_scope(scope, user_id)
    if person is None:
        abort(404)
    return person


def _exported(person: User, fmt: str) -> dict[str, Any]:
    """Everything about the person, the export written to the audit log."""
    data = services.export_person(person)
    record(
        "person_exported",
        chamber_id=person.chamber_id,
        actor=g.launch.user,
        actor_role=g.launch.role,
        subject_id=person.id,
        detail={"format": fmt},
    )
    return data


@bp.route("/export.json")
def export_json(user_id: int) -> Response:
    person = _person(user_id)
    data = _exported(person, "json")
    commit_now()  # logged before the download leaves
    body = json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="medienwerk-daten-{person.id}.json"',
            "Cache-Control": "private, no-store",
        },
    )


@bp.route("/summary")
def summary(user_id: int) -> str:
    person = _person(user_id)
    data = _exported(person, "html")
    return render_template("personal_data/summary.html", person=person, data=data)


@bp.route("/delete", methods=["GET", "POST"])
def delete(user_id: int) -> Any:
    person = _person(user_id)
    name = person.display_name or _("ohne Namen")
    if request.method == "GET":
        return render_template("personal_data/delete.html", person=person, name=name, error=None)
    if request.form.get("confirm", "").strip() != "LÖSCHEN":
        return render_template(
            "personal_data/delete.html",
            person=person,
            name=name,
            error=_("Bitte tippe LÖSCHEN in das Feld, um das Löschen zu bestätigen."),
        ), 422
    chamber_id = person.chamber_id
    deleted = services.delete_person(person)
    # the entry does not name the deleted person: only that a deletion happened, and how much went
    record(
        "person_deleted",
        chamber_id=chamber_id,
        actor=g.launch.user,
        actor_role=g.launch.role,
        detail={"rows": sum(deleted.counts.values())},
    )
    return redirect(url_for("dashboards.volunteers", deleted=1), code=303)
