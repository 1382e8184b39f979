"""Delivery status of scores for trainers and coordinators, with resend (pages after a launch).

The page shows the counts per delivery state first, then the rows 50 a page (``?page=N``), all of them or
those of one state (``?status=failed``).
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lms.core.blueprints import moved_blueprint, tool_blueprint
from lms.core.paging import page_number
from lms.core.security import role_required
from lms.grades import services
from lms.grades.queries import STATES, delivery_overview, outbox_row_in_course
from lti.roles import Role

bp = tool_blueprint("grades", __name__, "/grades")
# the German URLs of the first release keep working (bookmarks, links in LMS texts)
legacy = moved_blueprint(
    "grades_legacy", __name__, "/noten", "/grades", {"erneut": "resend", "fehlgeschlagene-erneut": "resend-failed"}
)


def _list_args() -> dict[str, Any]:
    """The filter and page the trainer looked at (from the query string), to come back to after a resend."""
    args: dict[str, Any] = {}
    state = request.args.get("status")
    if state in STATES:
        args["status"] = state
    page = page_number(request.args.get("page"))
    if page > 1:
        args["page"] = page
    return args


@bp.get("/")
@role_required(Role.TRAINER)
def status() -> str:
    course = g.launch.course
    overview = None
    if course is not None:
        overview = delivery_overview(course.id, page_number(request.args.get("page")), request.args.get("status"))
    return render_template(
        "grades/status.html",
        course=course,
        overview=overview,
        done=request.args.get("done"),
    )


@bp.post("/<int:outbox_id>/resend")
@role_required(Role.TRAINER)
def resend(outbox_id: int) -> Response:
    if g.launch.course_id is None:
        abort(404)
    row = outbox_row_in_course(outbox_id, g.launch.course_id)
    if row is None:
        abort(404)
    services.resend(row)
    return redirect(url_for("grades.status", done="one", **_list_args()), code=303)


@bp.post("/resend-failed")
@role_required(Role.TRAINER)
def resend_failed() -> Response:
    if g.launch.course_id is None:
        abort(404)
    services.resend_failed(g.launch.course_id)
    return redirect(url_for("grades.status", done="failed"), code=303)
