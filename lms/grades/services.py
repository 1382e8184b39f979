"""Writes for grade delivery: queue scores in the same transaction as the progress change (the outbox), claim rows
atomically, deliver them, record the outcome. What a launch records (links, their AGS endpoints, the volunteers in
them) is in :mod:`lms.grades.links`.

Spec: LTI AGS 2.0 §3.4 (scores), Moodle's rules in lti-notes §6.4. Services flush; the caller commits. The
delivery functions here never commit either: :mod:`lms.grades.jobs` commits between claim, HTTP and record, so
no database transaction stays open while the platform is asked.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import and_, case, func, or_, select, tuple_, update
from sqlalchemy.orm import joinedload

from lms.certificates import queries as certificate_queries
from lms.core.db import dialect_insert, utcnow
from lms.core.extensions import db
from lms.core.state import get_state_store
from lms.courses.setup import current_course
from lms.grades.clients import ags_client
from lms.grades.models import (
    DELIVERED,
    FAILED,
    ITEM_MODULE,
    ITEM_OVERVIEW,
    PENDING,
    SENDING,
    GradeLink,
    GradeLinkUser,
    ScoreOutbox,
)
from lms.progress import queries as progress_queries
from lti.ags import LineItem, Score
from lti.tokens import ConflictError, PermanentServiceError, RetryableServiceError, ServiceError, TokenError

log = logging.getLogger(__name__)

LEASE = dt.timedelta(minutes=2)  # a claimed row whose worker died is due again after this
CONFLICT_RESENDS = 3  # 409: resend at once with a later timestamp, this often, then retry later
SESSION_KEY = "grades_outbox_ids"  # ids to enqueue once the transaction has committed
MODULE_PARAM = "module"  # custom parameter naming the module a link shows (set by deep linking)


# -- what a link shows and what the score is --------------------------------------------------------------


@dataclass(frozen=True)
class ModuleState:
    percent: int  # 0-100
    awaiting_review: bool  # a handed-in task waits for a trainer


def progress_by_module(user_id: int) -> dict[str, ModuleState]:
    """The volunteer's state in every served module (the progress domain's definition)."""
    return {
        module_id: ModuleState(p.percent, p.awaiting_review)
        for module_id, p in progress_queries.course_progress(user_id).items()
    }


@dataclass(frozen=True)
class CurrentScore:
    percent: int
    pending_review: bool
    completed: bool | None = None  # None: completed at 100 %; the course-wide link: the highest tier reached


def highest_tier_reached(user_id: int) -> bool:
    """Whether the volunteer holds the course's highest qualification tier (lms.certificates: an award, which
    later content changes do not take away)."""
    return certificate_queries.holds_highest_tier(user_id)


def current_score(user_id: int, link: GradeLink) -> CurrentScore:
    """The volunteer's score on what the link shows: a module's completion, or the course's overall progress
    (:func:`lms.progress.queries.overall_percent`, the same number the volunteer sees) together with the tier
    state: the course-wide link ("Alle Module") is completed when the highest tier is reached."""
    states = progress_by_module(user_id)
    if link.item_kind == ITEM_MODULE and link.module_id:
        state = states.get(link.module_id, ModuleState(0, False))
        return CurrentScore(state.percent, state.awaiting_review)
    return CurrentScore(
        progress_queries.overall_percent(s.percent for s in states.values()),
        any(s.awaiting_review for s in states.values()),
        highest_tier_reached(user_id) if current_course().qualifications else None,
    )


def _comment(link: GradeLink, score: CurrentScore) -> str:
    """The grade comment the LMS shows (German: the programme's language), with the module's title."""
    if link.item_kind == ITEM_MODULE and link.module_id:
        module = current_course().module(link.module_id)
        what = f"Modul „{module.title}“" if module is not None else "Modul"
    else:
        what = "Alle Module"
    note = "; Praxisaufgabe wartet auf Rückmeldung" if score.pending_review else ""
    return f"medienwerk: {what} zu {score.percent} % abgeschlossen{note}"


# -- the outbox ---------------------------------------------------------------------------------------------


def progress_changed(user_id: int, module_id: str) -> list[ScoreOutbox]:
    """ "The state of user U on module M changed": queue the new score for every gradable link showing it.

    Runs in the caller's transaction (the progress change): both are committed together or not at all.
    """
    rows = db.session.execute(
        select(GradeLinkUser, GradeLink)
        .join(GradeLink, GradeLink.id == GradeLinkUser.link_id)
        .where(
            GradeLinkUser.user_id == user_id,
            or_(
                GradeLink.item_kind == ITEM_OVERVIEW,
                and_(GradeLink.item_kind == ITEM_MODULE, GradeLink.module_id == module_id),
            ),
        )
        .order_by(GradeLink.id)
    ).all()
    queued = []
    for member, link in rows:
        if link.gradable:
            row = queue_score(link, member, current_score(user_id, link))
            if row is not None:
                queued.append(row)
    return queued


def queue_score(
    link: GradeLink, member: GradeLinkUser, score: CurrentScore, *, only_if_news: bool = False, force: bool = False
) -> ScoreOutbox | None:
    """Put the score into the outbox: the (link, user) row is updated, never a second one added.

    Nothing is queued when the platform has (or is about to get) the same score, unless ``force``;
    ``only_if_news`` (launches) also skips a first score of 0 %.
    """
    now = utcnow()
    completed = score.percent >= 100 if score.completed is None else score.completed
    grading = "Pending" if score.pending_review and not completed else "FullyGraded"
    activity = "Completed" if completed else "InProgress"
    values = {
        "platform_user_id": member.platform_user_id,
        "score_given": float(score.percent),
        "score_maximum": 100.0,
        "activity_progress": activity,
        "grading_progress": grading,
        "comment": _comment(link, score),
    }
    row = _outbox_row(link.id, member.user_id)
    if row is None:
        if only_if_news and score.percent <= 0 and not score.pending_review:
            return None
        # INSERT … ON CONFLICT DO NOTHING: a concurrent transaction that adds the row first wins, we update it
        # (no savepoint: pysqlite's SAVEPOINT handling would commit the caller's transaction)
        insert = (
            dialect_insert()(ScoreOutbox)
            .values(
                link_id=link.id,
                user_id=member.user_id,
                scored_at=now,
                version=1,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
                **values,
            )
            .on_conflict_do_nothing(index_elements=["link_id", "user_id"])
            .returning(ScoreOutbox.id)
        )
        inserted = db.session.execute(insert).scalar_one_or_none() is not None
        row = _outbox_row(link.id, member.user_id)
        assert row is not None
        if inserted:
            _remember_for_delivery(row.id)
            return row
    same_values = (row.score_given, row.grading_progress, row.activity_progress, row.platform_user_id) == (
        values["score_given"],
        grading,
        activity,
        member.platform_user_id,
    )
    if same_values and not force and row.status in (PENDING, SENDING):
        return row  # already on its way
    if same_values and not force and row.status == DELIVERED and row.delivered_version == row.version:
        return row  # the platform has it
    for key, value in values.items():
        setattr(row, key, value)
    row.scored_at = _timestamp_after(row, now)
    row.version = ScoreOutbox.version + 1
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.claimed_until = None
    row.last_error_code = row.last_error = None
    row.last_http_status = None
    db.session.flush()
    _remember_for_delivery(row.id)
    return row


def _timestamp_after(row: ScoreOutbox, now: dt.datetime) -> dt.datetime:
    """A new score's timestamp, fixed when it is queued and sent unchanged with every attempt: the time of the
    change, but at least a whole second after every timestamp the row's earlier scores had (Moodle keeps seconds
    and refuses a score that is not newer, lti-notes §6.4). So a score sent again after a worker stopped carries
    the timestamp the platform already has, and the platform records one change, not two.

    A previous score that never left (pending, not yet tried) does not count: a burst of changes within a second
    does not push the timestamp into the future."""
    earlier = [row.sent_timestamp]
    if row.status == SENDING or row.attempts:
        earlier.append(row.scored_at)
    return max([now, *(_next_second(t) for t in earlier if t is not None)])


def _outbox_row(link_id: int, user_id: int) -> ScoreOutbox | None:
    return db.session.execute(
        select(ScoreOutbox).where(ScoreOutbox.link_id == link_id, ScoreOutbox.user_id == user_id)
    ).scalar_one_or_none()


def _remember_for_delivery(row_id: int) -> None:
    db.session.info.setdefault(SESSION_KEY, set()).add(row_id)


def resend(row: ScoreOutbox) -> ScoreOutbox | None:
    """A trainer asks to send again: the current score, with a fresh retry budget."""
    member = db.session.execute(
        select(GradeLinkUser).where(GradeLinkUser.link_id == row.link_id, GradeLinkUser.user_id == row.user_id)
    ).scalar_one()
    return queue_score(row.link, member, current_score(row.user_id, row.link), force=True)


def resend_failed(course_id: int) -> int:
    rows = (
        db.session.execute(
            select(ScoreOutbox).join(GradeLink).where(GradeLink.course_id == course_id, ScoreOutbox.status == FAILED)
        )
        .scalars()
        .all()
    )
    return sum(1 for row in rows if resend(row) is not None)


# -- claiming -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    id: int
    version: int


def _due(now: dt.datetime) -> Any:
    return or_(
        and_(ScoreOutbox.status == PENDING, ScoreOutbox.next_attempt_at <= now),
        and_(ScoreOutbox.status == SENDING, ScoreOutbox.claimed_until < now),
    )


def due_ids(limit: int = 500) -> list[int]:
    now = utcnow()
    return list(
        db.session.execute(
            select(ScoreOutbox.id).where(_due(now)).order_by(ScoreOutbox.next_attempt_at, ScoreOutbox.id).limit(limit)
        ).scalars()
    )


def claim(ids: Iterable[int] | None = None, *, limit: int = 100, prefer: Iterable[int] = ()) -> list[Claim]:
    """Mark due rows as being sent by this worker, atomically: a row is claimed by one worker only.

    One statement: ``UPDATE … WHERE id IN (the first due rows) RETURNING``. The UPDATE re-checks that the row is
    due, so of two workers racing for a row one gets it (PostgreSQL re-evaluates the condition after the other's
    commit; SQLite has one writer at a time). On PostgreSQL the rows are picked with ``FOR UPDATE SKIP LOCKED``,
    so workers do not wait for each other. ``ids`` claims only those rows; ``prefer`` puts those first.
    """
    now = utcnow()
    pick = select(ScoreOutbox.id).where(_due(now))
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return []
        pick = pick.where(ScoreOutbox.id.in_(wanted))
    preferred = sorted(set(prefer))
    first = [case((ScoreOutbox.id.in_(preferred), 0), else_=1)] if preferred else []
    pick = pick.order_by(*first, ScoreOutbox.next_attempt_at, ScoreOutbox.id).limit(limit)
    if db.engine.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    result = db.session.execute(
        update(ScoreOutbox)
        .where(ScoreOutbox.id.in_(pick.scalar_subquery()), _due(now))
        .values(status=SENDING, claimed_until=now + LEASE, attempts=ScoreOutbox.attempts + 1, last_attempt_at=now)
        .returning(ScoreOutbox.id, ScoreOutbox.version)
        .execution_options(synchronize_session=False)
    )
    return sorted((Claim(id=r[0], version=r[1]) for r in result), key=lambda c: c.id)


def release(claims: Iterable[Claim]) -> None:
    """Give claimed rows back unsent (the worker stops): due at once for the next worker, the attempt not
    counted (flushes; the caller commits)."""
    for claimed in claims:
        db.session.execute(
            update(ScoreOutbox)
            .where(ScoreOutbox.id == claimed.id, ScoreOutbox.version == claimed.version, ScoreOutbox.status == SENDING)
            .values(status=PENDING, claimed_until=None, attempts=ScoreOutbox.attempts - 1)
            .execution_options(synchronize_session=False)
        )


def load_claimed(claims: Iterable[Claim]) -> list[ScoreOutbox]:
    """Read the claimed rows with their links and registrations in one statement: ``send`` finds them in the
    session as long as the caller holds on to the list."""
    wanted = [c.id for c in claims]
    if not wanted:
        return []
    return list(
        db.session.execute(
            select(ScoreOutbox)
            .where(ScoreOutbox.id.in_(wanted))
            .options(joinedload(ScoreOutbox.link).joinedload(GradeLink.platform))
        ).scalars()
    )


# -- delivering -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    id: int
    delivered: bool
    status: str
    error_code: str | None = None
    conflicts: int = 0


def _next_second(when: dt.datetime) -> dt.datetime:
    return when.replace(microsecond=0) + dt.timedelta(seconds=1)


def _timestamp_for(row: ScoreOutbox) -> dt.datetime:
    """The score's time, made newer to the second than what was sent before (Moodle refuses others)."""
    when = row.scored_at
    if row.sent_timestamp is not None and when.replace(microsecond=0) <= row.sent_timestamp.replace(microsecond=0):
        when = _next_second(row.sent_timestamp)
    return when


def _lineitem_for(row: ScoreOutbox, client: Any) -> str:
    """The launch's line item, else one found by resourceLinkId and tag, else a new one (AGS §3.2)."""
    link = row.link
    if link.target_lineitem_url:
        return link.target_lineitem_url
    if not link.lineitems_url:
        raise PermanentServiceError("no_lineitem", "the launch named no line item and no line item container")
    wanted = LineItem(
        label=link.title or "medienwerk",
        score_maximum=100.0,
        resource_link_id=link.resource_link_id,
        tag=link.tag,
        resource_id=link.module_id or "overview",
    )
    found = client.find_or_create_lineitem(link.lineitems_url, wanted)
    link.found_lineitem_url = found.id
    return str(found.id)


@dataclass(frozen=True)
class Sent:
    """What :func:`send` did for a claimed row, for :func:`record` to write down."""

    claimed: Claim
    score_given: float | None = None
    timestamp: dt.datetime | None = None  # set when the platform accepted the score
    error: ServiceError | None = None
    conflicts: int = 0
    skipped: str | None = None  # the row is gone or was replaced by a newer score
    as_queued: bool = False  # sent with the timestamp fixed when the score was queued (the row's scored_at)
    repeated: bool = False  # an earlier attempt had delivered it: the platform refused it again with 409


def send(claimed: Claim, clients: dict[Any, Any] | None = None) -> Sent:
    """POST one claimed row's score to the platform. Writes nothing, except rarely a new token in the cache
    and a found line item.

    Call it with a clean session (nothing written since the last commit): a link without a line item is
    resolved under a lock in the shared state store, taken before anything else is written, so that two
    workers never create two line items for one link. ``clients`` caches AGS clients across a batch.
    """
    row = db.session.get(ScoreOutbox, claimed.id)
    if row is None:
        return Sent(claimed, skipped="gone")
    if row.status != SENDING or row.version != claimed.version:
        return Sent(claimed, skipped=row.status)  # a newer score: it is claimed anew
    link = row.link
    lock_key = None
    conflicts = 0
    try:
        if not link.platform.enabled:
            raise ServiceError("platform_disabled", "the registration is disabled")
        if not link.gradable:
            raise PermanentServiceError("not_gradable", "the link's launch granted no score service")
        if not link.target_lineitem_url and link.lineitems_url:
            lock_key = f"grades:lineitem:{link.id}"
            if not get_state_store().add(lock_key, 1, 60):
                lock_key = None
                raise ConflictError("lineitem_busy", "another worker is finding the line item")
        key = (link.platform_id, tuple(sorted(link.scopes)))
        client = clients.get(key) if clients is not None else None
        if client is None:
            client = ags_client(link.platform, link.scopes)
            if clients is not None:
                clients[key] = client
        lineitem_url = _lineitem_for(row, client)
        score = Score(
            user_id=row.platform_user_id,
            score_given=row.score_given,
            score_maximum=row.score_maximum,
            activity_progress=row.activity_progress,
            grading_progress=row.grading_progress,
            timestamp=_timestamp_for(row),
            comment=row.comment,
        )
        repeated = False
        while True:
            try:
                client.post_score(lineitem_url, score)
                break
            except ConflictError:
                # 409: the platform has a score as new as this one (to the second)
                conflicts += 1
                if conflicts == 1 and row.attempts > 1 and score.timestamp == row.scored_at:
                    # this very score, with its fixed timestamp, was tried before (a worker stopped before it
                    # recorded the delivery, or the answer was lost): that attempt arrived. Sending it with a
                    # later timestamp would make the LMS record a second change.
                    repeated = True
                    log.info("score delivery %s: an earlier attempt had arrived (409 on a retry)", row.id)
                    break
                if conflicts > CONFLICT_RESENDS:
                    raise
                # another score as new as this one: send again, a second later
                score = score.with_timestamp(_next_second(max(utcnow(), score.timestamp)))
            except PermanentServiceError as exc:
                if exc.http_status == 404 and link.found_lineitem_url and not link.lineitem_url:
                    link.found_lineitem_url = None  # the line item we found is gone: find or create it again
                    raise RetryableServiceError("lineitem_gone", exc.detail, status=404) from exc
                raise
        result = Sent(
            claimed,
            score_given=row.score_given,
            timestamp=score.timestamp,
            conflicts=conflicts,
            as_queued=score.timestamp == row.scored_at,
            repeated=repeated,
        )
    except ServiceError as exc:
        result = Sent(claimed, error=exc, conflicts=conflicts)
    except Exception as exc:  # a bug must not stop the other rows; the row is retried
        log.exception("score delivery %s failed unexpectedly", row.id)
        result = Sent(claimed, error=ServiceError("internal", type(exc).__name__), conflicts=conflicts)
    finally:
        if lock_key is not None:
            get_state_store().pop(lock_key)
    return result


def record(sent: Sent) -> Outcome:
    """Write down how a delivery went (flushes; the caller commits)."""
    if sent.skipped is not None:
        return Outcome(sent.claimed.id, False, sent.skipped, "superseded")
    if sent.error is not None:
        return _record_failure(sent.claimed, sent.error, sent.conflicts)
    assert sent.timestamp is not None
    return _record_success(sent.claimed, sent.score_given, sent.timestamp, sent.conflicts)


def record_all(sent: Sequence[Sent]) -> list[Outcome]:
    """Write down a batch of deliveries (flushes; the caller commits): every score that went out as it was
    queued in one UPDATE, the rest (failures, resends with a later timestamp, rows replaced meanwhile) one by
    one."""
    outcomes: dict[int, Outcome] = {}
    plain = [s for s in sent if s.error is None and s.skipped is None and s.as_queued]
    if plain:
        done = set(
            db.session.execute(
                update(ScoreOutbox)
                .where(
                    tuple_(ScoreOutbox.id, ScoreOutbox.version).in_([(s.claimed.id, s.claimed.version) for s in plain]),
                    ScoreOutbox.status == SENDING,
                )
                .values(
                    status=DELIVERED,
                    claimed_until=None,
                    last_error_code=None,
                    last_error=None,
                    last_http_status=None,
                    delivered_at=utcnow(),
                    # the same version has the same values: what was sent is what the row holds
                    delivered_score=ScoreOutbox.score_given,
                    delivered_version=ScoreOutbox.version,
                    sent_timestamp=ScoreOutbox.scored_at,
                )
                .returning(ScoreOutbox.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        for s in plain:
            if s.claimed.id in done:
                outcomes[s.claimed.id] = Outcome(s.claimed.id, True, DELIVERED, conflicts=s.conflicts)
    return [outcomes[s.claimed.id] if s.claimed.id in outcomes else record(s) for s in sent]


def deliver(claimed: Claim) -> Outcome:
    """Send one claimed row and record the outcome."""
    return record(send(claimed))


def _record_success(claimed: Claim, score_given: float | None, sent: dt.datetime, conflicts: int) -> Outcome:
    now = utcnow()
    delivered = {
        "delivered_at": now,
        "delivered_score": score_given,
        "delivered_version": claimed.version,
        "sent_timestamp": sent,
    }
    result = db.session.execute(
        update(ScoreOutbox)
        .where(ScoreOutbox.id == claimed.id, ScoreOutbox.version == claimed.version, ScoreOutbox.status == SENDING)
        .values(
            status=DELIVERED,
            claimed_until=None,
            last_error_code=None,
            last_error=None,
            last_http_status=None,
            **delivered,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return Outcome(claimed.id, True, DELIVERED, conflicts=conflicts)
    # a newer score arrived meanwhile: the row stays pending for it, but remember what the platform has
    db.session.execute(
        update(ScoreOutbox)
        .where(
            ScoreOutbox.id == claimed.id, or_(ScoreOutbox.sent_timestamp.is_(None), ScoreOutbox.sent_timestamp < sent)
        )
        .values(**delivered)
        .execution_options(synchronize_session=False)
    )
    return Outcome(claimed.id, True, PENDING, conflicts=conflicts)


def backoff(attempts: int) -> dt.timedelta:
    """Exponential backoff with jitter: base·2^(n-1), capped, times a random factor in [0.5, 1.5)."""
    cfg = current_app.config
    base = float(cfg.get("GRADES_RETRY_BASE_SECONDS", 30))
    cap = float(cfg.get("GRADES_RETRY_MAX_SECONDS", 6 * 3600))
    delay = min(cap, base * 2 ** max(0, attempts - 1))
    return dt.timedelta(seconds=delay * random.uniform(0.5, 1.5))


def _record_failure(claimed: Claim, exc: ServiceError, conflicts: int) -> Outcome:
    now = utcnow()
    retryable = exc.retryable or isinstance(exc, ConflictError) or exc.code in ("platform_disabled", "internal")
    if isinstance(exc, TokenError):
        retryable = exc.retryable
    max_attempts = int(current_app.config.get("GRADES_MAX_ATTEMPTS", 12))
    attempts = db.session.execute(select(ScoreOutbox.attempts).where(ScoreOutbox.id == claimed.id)).scalar_one()
    give_up = not retryable or attempts >= max_attempts
    status = FAILED if give_up else PENDING
    values: dict[str, Any] = {
        "status": status,
        "claimed_until": None,
        "last_error_code": exc.code,
        "last_error": exc.detail[:500] if exc.detail else exc.code,
        "last_http_status": getattr(exc, "http_status", None),
    }
    if not give_up:
        values["next_attempt_at"] = now + (
            dt.timedelta(seconds=random.uniform(1, 3)) if isinstance(exc, ConflictError) else backoff(attempts)
        )
    result = db.session.execute(
        update(ScoreOutbox)
        .where(ScoreOutbox.id == claimed.id, ScoreOutbox.version == claimed.version, ScoreOutbox.status == SENDING)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        status = PENDING  # a newer score replaced the row: it is due again with a fresh budget
    if give_up:
        log.warning("score delivery %s failed: %s (HTTP %s)", claimed.id, exc.code, values["last_http_status"])
    return Outcome(claimed.id, False, status, error_code=values["last_error_code"], conflicts=conflicts)


def outbox_counts() -> dict[str, int]:
    return dict(db.session.execute(select(ScoreOutbox.status, func.count()).group_by(ScoreOutbox.status)).all())
