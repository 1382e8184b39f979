"""The trainers' review queue: practical tasks that need a trainer's approval.

A trainer sees the hand-ins of volunteers enrolled in their own courses (in their chamber); a coordinator
those of every volunteer of their chamber (``lms.progress.queries._reviewable``). A hand-in from anyone
else answers 404, as if it did not exist. The queue shows 50 hand-ins a page (``?page=N``), oldest first.
"""

from __future__ import annotations

from typing import Any

from flask import abort, g, redirect, render_template, request, url_for

from lms.core.blueprints import tool_blueprint
from lms.core.paging import page_number
from lms.core.security import current_role, role_required
from lms.courses.setup import current_course
from lms.progress import queries, services
from lms.progress.messages import input_message
from lms.progress.models import COMMENT_MAX
from lti.roles import Role

bp = tool_blueprint("progress", __name__, "/reviews")

DECISIONS = {"approve": True, "return": False}


@bp.get("/")
@role_required(Role.TRAINER)
def queue() -> str:
    entries = queries.review_queue(
        g.launch.user, current_role(), page_number(request.args.get("page")), current_course()
    )
    done = request.args.get("done")
    return render_template(
        "progress/queue.html", entries=entries, done=done if done in ("approved", "returned") else None
    )


@bp.route("/<int:submission_id>", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def review(submission_id: int) -> Any:
    reviewer, role = g.launch.user, current_role()
    posting = request.method == "POST"
    submission = queries.reviewable_submission(reviewer, role, submission_id, for_update=posting)
    if submission is None:
        abort(404)
    found = current_course().item(submission.item_id)
    if found is None:  # the task is no longer in the served content
        abort(404)
    module, item = found
    if not posting:
        return _review_page(submission, module, item)
    decision = request.form.get("decision")
    if decision not in DECISIONS:
        return _review_page(submission, module, item, status=400, bad_decision=True)
    try:
        services.review_submission(
            submission,
            module,
            item,
            reviewer_id=reviewer.id,
            reviewer_role=role.key,
            approve=DECISIONS[decision],
            comment=request.form.get("comment"),
        )
    except services.InputError as error:
        return _review_page(submission, module, item, status=400, error=error, comment=request.form.get("comment", ""))
    except services.ProgressError:
        return _review_page(submission, module, item, status=409, closed=True)
    done = "approved" if DECISIONS[decision] else "returned"
    return redirect(url_for("progress.queue", done=done), code=303)


def _review_page(
    submission: Any,
    module: Any,
    item: Any,
    *,
    status: int = 200,
    error: Any = None,
    comment: str = "",
    bad_decision: bool = False,
    closed: bool = False,
) -> tuple[str, int]:
    volunteer = submission.user
    history = queries.task_history(submission.user_id, submission.item_id)
    html = render_template(
        "progress/review.html",
        submission=next(s for s in history if s.id == submission.id),
        history=[s for s in history if s.id != submission.id],
        volunteer_name=volunteer.display_name,
        volunteer_id=volunteer.id,
        module=module,
        item=item,
        error=error,
        error_message=input_message(error) if error else None,
        comment=comment,
        bad_decision=bad_decision,
        closed=closed,
        comment_max=COMMENT_MAX,
    )
    return html, status
