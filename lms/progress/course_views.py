"""The learner's pages: module overview, module, lesson, self-check, practical task, and the modules' images.

URLs mirror the content so the relative links in rendered lessons work (lms/courses/render.py): a module
is ``…/m/<module id>/``, an item ``…/m/<module id>/<item id>``, an image ``…/m/<module id>/assets/<file>``.
Trainers and coordinators see every page exactly as volunteers do (a preview): nothing is recorded for them.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any

from flask import abort, g, redirect, render_template, request, send_file, url_for
from werkzeug.wrappers import Response

from lms.core.blueprints import tool_blueprint
from lms.core.errors import on_outage
from lms.core.security import current_role
from lms.courses.content import Item, Module, Question, find_asset
from lms.courses.setup import current_course
from lms.progress import queries, services
from lms.progress.messages import input_message
from lms.progress.models import LINK_MAX, RETURNED, TEXT_MAX
from lms.progress.scoring import QuizFormError, field_name, grade, read_answers
from lti.roles import Role

bp = tool_blueprint("courses", __name__, "/m")

ASSET_MAX_AGE = 3600
ASSET_TYPES = {
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".pdf": "application/pdf",
}
# an image opened on its own must not run anything (SVG can carry scripts)
ASSET_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"


# --- helpers -----------------------------------------------------------------------------------------


def _is_preview() -> bool:
    """Trainers and coordinators see the pages as volunteers do; nothing is recorded for them."""
    return current_role() >= Role.TRAINER


def _load(module_id: str, item_id: str | None = None) -> tuple[Module, Item | None]:
    module = current_course().module(module_id)
    if module is None:
        abort(404)
    if item_id is None:
        return module, None
    item = module.item(item_id)
    if item is None:
        abort(404)
    return module, item


def _neighbours(module: Module, item: Item) -> tuple[Item | None, Item | None]:
    index = module.items.index(item)
    previous = module.items[index - 1] if index > 0 else None
    following = module.items[index + 1] if index + 1 < len(module.items) else None
    return previous, following


def _item_url(module: Module, item: Item | None) -> str:
    if item is None:
        return url_for("courses.module", module_id=module.id)
    return url_for("courses.item", module_id=module.id, item_id=item.id)


def _page(template: str, module: Module, item: Item, status: int = 200, **context: Any) -> tuple[str, int]:
    user_id = g.launch.user_id
    preview = _is_preview()
    progress = queries.module_progress(user_id, module)
    previous, following = _neighbours(module, item)
    html = render_template(
        template,
        module=module,
        item=item,
        progress=progress,
        state=progress.item(item.id),
        previous=previous,
        following=following,
        preview=preview,
        position=module.items.index(item) + 1,
        **context,
    )
    return html, status


def _record_view(module: Module, item: Item) -> None:
    if not _is_preview():
        services.record_view(g.launch.user_id, module, item)


# --- pages -------------------------------------------------------------------------------------------


@bp.get("/")
def overview() -> str:
    course = current_course()
    preview = _is_preview()
    user_id = g.launch.user_id
    progress = {} if preview else queries.course_progress(user_id, course)
    tiers = [] if preview else queries.qualification_progress(user_id, progress, course)
    return render_template(
        "courses/overview.html",
        course=course,
        progress=progress,
        tiers=tiers,
        preview=preview,
        next_step=None if preview else queries.next_step(progress, course),
    )


@bp.get("/<module_id>/")
def module(module_id: str) -> str:
    module, _item = _load(module_id)
    course = current_course()
    preview = _is_preview()
    progress = queries.module_progress(g.launch.user_id, module)
    next_id = None if preview else progress.next_item_id(module)
    prerequisites = [m for p in module.prerequisites if (m := course.module(p)) is not None]
    return render_template(
        "courses/module.html",
        module=module,
        progress=progress,
        preview=preview,
        next_item=module.item(next_id) if next_id else None,
        prerequisites=prerequisites,
    )


@bp.route("/<module_id>/<item_id>", methods=["GET", "POST"])
def item(module_id: str, item_id: str) -> Any:
    module, item = _load(module_id, item_id)
    assert item is not None
    if item.kind == "quiz":
        return _quiz(module, item)
    if item.kind == "task":
        return _task(module, item)
    return _lesson(module, item)


def _lesson(module: Module, item: Item) -> Any:
    if request.method == "POST":
        if _is_preview():
            abort(403)
        services.complete_lesson(g.launch.user_id, module, item)
        _previous, following = _neighbours(module, item)
        return redirect(_item_url(module, following), code=303)
    _record_view(module, item)
    return _page("courses/lesson.html", module, item)


def _quiz(module: Module, item: Item) -> Any:
    user_id = g.launch.user_id
    preview = _is_preview()
    # ?result=<attempt id> (the redirect after POST); ?ergebnis= is the older name of it
    stored = request.args.get("result") or request.args.get("ergebnis")
    if request.method == "GET" and stored:
        return _stored_result(module, item, stored)
    # this attempt's questions: for a question pool the person's stored draw (trainers see the whole pool)
    questions = item.questions if preview else services.quiz_questions(user_id, item)
    if request.method == "GET":
        _record_view(module, item)
        attempts = [] if preview else queries.quiz_attempts(user_id, item.id)
        return _page(
            "courses/quiz.html",
            module,
            item,
            attempts=attempts,
            questions=questions,
            selections={},
            errors=None,
            field_name=field_name,
        )
    try:
        selections = read_answers(item, request.form.getlist, questions)
    except QuizFormError as error:
        return _page(
            "courses/quiz.html",
            module,
            item,
            400,
            attempts=[],
            questions=questions,
            selections=error.selections,
            errors=error,
            field_name=field_name,
        )
    result = grade(item, selections, questions)
    if preview:
        # nothing is stored for trainers and coordinators: the answer to the POST shows the full feedback
        return _page("courses/quiz_result.html", module, item, result=result, outcomes=result.outcomes, attempt=None)
    attempt = services.record_quiz_attempt(user_id, module, item, result)
    # redirect after POST: a reload shows the stored result instead of sending the answers again
    return redirect(_item_url(module, item) + f"?result={attempt.id}#feedback", code=303)


@dataclass(frozen=True)
class _StoredOutcome:
    """A question of a stored attempt: whether it was right (the chosen answers are not stored)."""

    question: Question
    correct: bool
    chosen: None = None


def _stored_result(module: Module, item: Item, shown: str) -> tuple[str, int]:
    """The result page of one of the volunteer's own stored attempts (``?result=<attempt id>``)."""
    if _is_preview() or not shown.isascii() or not shown.isdigit() or len(shown) > 18:
        abort(404)
    attempt = queries.quiz_attempt(g.launch.user_id, item.id, int(shown))
    if attempt is None:
        abort(404)
    by_id = {q.id: q for q in item.questions}
    outcomes = [_StoredOutcome(by_id[qid], correct) for qid, correct in attempt.questions if qid in by_id]
    return _page(
        "courses/quiz_result.html",
        module,
        item,
        result=attempt,
        outcomes=outcomes,
        attempt=attempt,
        changed=attempt.content_hash != item.content_hash,
    )


def _task(module: Module, item: Item) -> Any:
    user_id = g.launch.user_id
    preview = _is_preview()
    if request.method == "GET":
        _record_view(module, item)
        history = [] if preview else queries.task_history(user_id, item.id)
        return _task_page(
            module, item, history, submitted="1" in (request.args.get("submitted"), request.args.get("abgegeben"))
        )
    if preview:
        abort(403)
    checked = {i for i in range(len(item.checklist)) if request.form.get(f"check-{i}") == "1"}
    # the database gone while saving (or at the commit): the form again with what was typed, not a bare error
    on_outage(lambda: _task_unsaved(module, item, request.form, checked))
    try:
        hand_in = services.check_hand_in(
            item, link=request.form.get("link"), text=request.form.get("text"), checked=len(checked)
        )
        services.submit_task(user_id, module, item, hand_in)
    except services.InputError as error:
        return _task_page(
            module,
            item,
            queries.task_history(user_id, item.id),
            error=error,
            form=request.form,
            checked=checked,
            status=400,
        )
    except services.ProgressError:
        return _task_page(module, item, queries.task_history(user_id, item.id), closed=True, status=409)
    # the confirmation sits at the top of the page; the fragment scrolls there inside the LMS's iframe too
    return redirect(_item_url(module, item) + "?submitted=1#feedback", code=303)


def _task_page(
    module: Module,
    item: Item,
    history: list[queries.SubmissionView],
    *,
    error: services.InputError | None = None,
    form: Any = None,
    checked: set[int] | None = None,
    submitted: bool = False,
    closed: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    latest = history[0] if history else None
    if form is None and latest is not None and latest.status == RETURNED:
        # revising a returned task starts from what was handed in last time
        form = {"link": latest.link or "", "text": latest.text or ""}
        checked = set(range(latest.checked_items or 0))
    return _page(
        "courses/task.html",
        module,
        item,
        status,
        history=history,
        latest=latest,
        can_submit=not _is_preview() and services.can_hand_in(latest),
        error=error,
        error_message=input_message(error) if error else None,
        form=form or {},
        checked=checked or set(),
        submitted=submitted,
        closed=closed,
        text_max=TEXT_MAX,
        link_max=LINK_MAX,
    )


def _task_unsaved(module: Module, item: Item, form: Any, checked: set[int]) -> str:
    """The task page after a failed save, without the database: the form keeps the hand-in and says that it was
    not saved (answered with 503 by lms.core.errors.outage_response)."""
    previous, following = _neighbours(module, item)
    return render_template(
        "courses/task.html",
        module=module,
        item=item,
        progress=None,
        state=None,
        previous=previous,
        following=following,
        preview=False,
        position=module.items.index(item) + 1,
        history=[],
        latest=None,
        can_submit=True,
        unsaved=True,
        error=None,
        error_message=None,
        form=form,
        checked=checked,
        submitted=False,
        closed=False,
        text_max=TEXT_MAX,
        link_max=LINK_MAX,
    )


@bp.get("/<module_id>/assets/<path:filename>")
def asset(module_id: str, filename: str) -> Response:
    module, _item = _load(module_id)
    path = find_asset(module, filename)
    if path is None:
        abort(404)
    mimetype = ASSET_TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    response = send_file(
        path, mimetype=mimetype or "application/octet-stream", max_age=ASSET_MAX_AGE, conditional=True, etag=True
    )
    response.cache_control.public = False
    response.cache_control.private = True
    response.headers["Content-Security-Policy"] = ASSET_CSP
    return response
