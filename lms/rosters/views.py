"""The course roster for trainers and coordinators: members, "enrolled but not started", sync on demand."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lms.core.blueprints import tool_blueprint
from lms.core.security import role_required
from lms.rosters import queries, services
from lti.roles import Role

bp = tool_blueprint("rosters", __name__, "/teilnehmende")


def _local_time(when: object) -> str:
    if when is None:
        return ""
    return when.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime("%d.%m.%Y, %H:%M")  # type: ignore[attr-defined]


@bp.get("/")
@role_required(Role.TRAINER)
def index() -> str:
    course_id = g.launch.course_id
    source = services.source_for(course_id) if course_id else None
    members = queries.members(course_id) if course_id else []
    not_started = queries.members_not_started(course_id) if course_id else []
    return render_template(
        "rosters/index.html",
        course=g.launch.course,
        source=source,
        members=members,
        not_started=not_started,
        local_time=_local_time,
        done=request.args.get("done"),
    )


@bp.post("/abgleichen")
@role_required(Role.TRAINER)
def sync() -> Response:
    course_id = g.launch.course_id
    done = "ok"
    if course_id is None:
        done = "no_nrps"
    else:
        try:
            services.sync_roster(course_id)
        except services.RosterError as exc:
            done = "no_nrps" if exc.code == "no_nrps" else "error"
    return redirect(url_for("rosters.index", done=done), code=303)
