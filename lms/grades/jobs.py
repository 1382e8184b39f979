"""Background delivery of queued scores (the outbox) and the periodic sweep for rows that are due again.

Each job commits between the steps, so no transaction stays open while the platform is asked: claim a batch
(commit) → per row: HTTP → record the batch (commit). A worker that dies leaves its rows claimed until the lease
runs out; the sweep then finds them due again, and they are sent with the timestamp they were queued with.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence

from lms.core.extensions import db
from lms.core.jobs import jobs
from lms.grades import services

log = logging.getLogger(__name__)

BATCH = 50  # rows claimed, sent and recorded together
JOB_LIMIT = 1000  # rows one delivery job takes at most, so that other jobs get a thread
JOB_SECONDS = 30.0


def _holds_write_lock() -> bool:
    """SQLite: whether this session's connection has begun writing (pysqlite begins a transaction only then).
    Another worker cannot claim or record while it lasts, so the results so far are committed at once."""
    if db.engine.dialect.name != "sqlite":
        return False
    raw = db.session.connection().connection.dbapi_connection
    return bool(getattr(raw, "in_transaction", False))


def _deliver_claims(claims: Sequence[services.Claim]) -> list[services.Outcome]:
    """Send each claimed row (HTTP, no writes), then record the outcomes in one transaction."""
    outcomes: list[services.Outcome] = []
    sent: list[services.Sent] = []
    clients: dict[object, object] = {}

    def record_all() -> None:
        outcomes.extend(services.record_all(sent))
        sent.clear()
        db.session.commit()

    rows = services.load_claimed(claims)  # held until the batch is recorded
    for index, claimed in enumerate(claims):
        if jobs.stopping.is_set():  # the process stops: the rest goes back to the outbox, due at once
            record_all()
            services.release(claims[index:])
            db.session.commit()
            break
        sent.append(services.send(claimed, clients))
        if _holds_write_lock():
            record_all()
    record_all()
    del rows
    return outcomes


def deliver_ids(ids: Iterable[int]) -> list[services.Outcome]:
    """Claim these rows (those still due) and deliver them."""
    claims = services.claim(ids, limit=10_000)
    db.session.commit()
    return _deliver_claims(claims)


def deliver_due(
    limit: int = 500, *, deadline: float | None = None, prefer: Iterable[int] = ()
) -> list[services.Outcome]:
    """Claim due rows in batches (``prefer`` first) and deliver them, until none is due, ``limit`` is reached,
    time is up or the process stops. Per batch: one statement claims, one reads the rows, one records the
    deliveries; two commits."""
    outcomes: list[services.Outcome] = []
    preferred = list(prefer)
    while len(outcomes) < limit and (deadline is None or time.monotonic() < deadline) and not jobs.stopping.is_set():
        claims = services.claim(limit=min(BATCH, limit - len(outcomes)), prefer=preferred)
        preferred = []
        db.session.commit()
        if not claims:
            break
        outcomes.extend(_deliver_claims(claims))
    return outcomes


@jobs.task
def deliver_scores(ids: list[int]) -> int:
    """Deliver the rows a committed transaction queued (enqueued right after its commit), those first, and
    whatever else is due, in batches: under load the first jobs take every due row, and the later ones find
    theirs delivered (one statement each)."""
    outcomes = deliver_due(JOB_LIMIT, deadline=time.monotonic() + JOB_SECONDS, prefer=ids)
    return sum(1 for o in outcomes if o.delivered)


@jobs.periodic(minutes=1)
def sweep_scores() -> int:
    """Re-enqueue rows that are due (retries after backoff, rows whose worker died, enqueues that got lost)."""
    ids = services.due_ids(limit=2000)
    db.session.commit()
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        try:
            deliver_scores.enqueue(chunk)
        except Exception:
            log.warning("could not enqueue %d score deliveries; delivering here", len(chunk))
            deliver_ids(chunk)
    return len(ids)
