"""The course roster for trainers and coordinators: members, "enrolled but not started", sync on demand.

Both lists are paged, 50 a page: ``?page=N`` for the members, ``?not_started_page=N`` for "not started".
"""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from lms.core.blueprints import moved_blueprint, tool_blueprint
from lms.core.paging import Page, page_number
from lms.core.security import role_required
from lms.rosters import queries, services
from lms.rosters.jobs import sync_roster_job
from lms.rosters.models import RosterSource
from lti.roles import Role

bp = tool_blueprint("rosters", __name__, "/roster")
# the German URLs of the first release keep working (bookmarks, links in LMS texts)
legacy = moved_blueprint("rosters_legacy", __name__, "/teilnehmende", "/roster", {"abgleichen": "sync"})


@bp.get("/")
@role_required(Role.TRAINER)
def index() -> str:
    course = g.launch.course
    source: RosterSource | None = None
    members: Page[queries.MemberRow] | None = None
    not_started: Page[queries.NotStarted] | None = None
    if course is not None:
        source = services.source_for(course.id)
        members = queries.members_page(course, page_number(request.args.get("page")))
        not_started = queries.not_started_page(course, page_number(request.args.get("not_started_page")))
    return render_template(
        "rosters/index.html",
        course=course,
        source=source,
        members=members,
        not_started=not_started,
        done=request.args.get("done"),
    )


@bp.post("/sync")
@role_required(Role.TRAINER)
def sync() -> Response:
    """Start a sync in the background (a large roster takes the platform a while): the page says so."""
    course_id = g.launch.course_id
    if course_id is None or services.source_for(course_id) is None:
        return redirect(url_for("rosters.index", done="no_nrps"), code=303)

    sync_roster_job.enqueue_after_commit(course_id)
    return redirect(url_for("rosters.index", done="queued"), code=303)
