"""Background jobs on huey: embedded (SQLite queue, run by the app's own processes) or distributed
(Redis queue, run by ``medienwerk worker``).

Domain code declares jobs at import time, before any app exists::

    from lms.core.jobs import jobs

    @jobs.task
    def deliver_score(outbox_id: int) -> None: ...

    @jobs.periodic(minutes=5)
    def sync_rosters() -> None: ...

    deliver_score.enqueue(42)        # after the transaction that created row 42 has committed

Every job runs inside an app context; the session is committed when it returns and rolled back when it
raises. A periodic job runs once per schedule slot however many processes run a scheduler: each run first
claims the slot in the shared state store.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask

from lms.core.extensions import db
from lms.core.state import get_state_store

log = logging.getLogger(__name__)

EMBEDDED_POLL_MAX_SECONDS = 1.0


AFTER_COMMIT_KEY = "medienwerk.enqueue_after_commit"


def _run_after_commit(session: Any) -> None:
    for job, args in session.info.pop(AFTER_COMMIT_KEY, []):
        try:
            job.enqueue(*args)
        except Exception:  # the queue is down: the periodic jobs catch up
            log.warning("could not enqueue %s after commit", job.name)


def _forget_after_rollback(session: Any, transaction: Any) -> None:
    if transaction.parent is None:  # a new outermost transaction: what a rolled-back one queued is void
        session.info.pop(AFTER_COMMIT_KEY, None)


@dataclass
class Job:
    fn: Callable[..., Any]
    name: str
    minutes: int | None = None  # periodic interval
    wrapper: Any = None
    registry: Jobs | None = field(default=None, repr=False)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run now, in the caller's app context (for tests and for immediate fallbacks)."""
        return self.fn(*args, **kwargs)

    def enqueue(self, *args: Any, **kwargs: Any) -> Any:
        assert self.registry is not None and self.registry.huey is not None, "jobs.init_app() not called"
        return self.wrapper(*args, **kwargs)

    def enqueue_after_commit(self, *args: Any) -> None:
        """Enqueue when the current transaction (the request's) has committed, so the job sees its rows; never
        when it rolls back."""
        db.session.info.setdefault(AFTER_COMMIT_KEY, []).append((self, args))


class Jobs:
    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self.huey: Any = None
        self.app: Flask | None = None
        self._consumer: Any = None
        self._lock = threading.Lock()
        # set when this process's consumer is asked to stop: long jobs (grade delivery) end after the step they
        # are in, so that a graceful shutdown finishes them within the server's timeout
        self.stopping = threading.Event()

    # -- declaring ------------------------------------------------------------------------------------
    def task(self, fn: Callable[..., Any]) -> Job:
        job = Job(fn=fn, name=f"{fn.__module__}.{fn.__name__}", registry=self)
        self._jobs[job.name] = job
        if self.huey is not None:
            self._bind(job)
        return job

    def periodic(self, *, minutes: int) -> Callable[[Callable[..., Any]], Job]:
        def decorator(fn: Callable[..., Any]) -> Job:
            job = Job(fn=fn, name=f"{fn.__module__}.{fn.__name__}", minutes=minutes, registry=self)
            self._jobs[job.name] = job
            if self.huey is not None:
                self._bind(job)
            return job

        return decorator

    # -- wiring ---------------------------------------------------------------------------------------
    def init_app(self, app: Flask) -> None:
        from huey import RedisHuey, SqliteHuey

        self.app = app
        if app.config.get("REDIS_URL"):
            # timeouts: enqueueing to a Redis that is down or hangs fails within seconds (the periodic jobs catch
            # up); above the worker's blocking read of 1 s
            from redis import ConnectionPool

            timeout = max(2.0, float(app.config.get("REDIS_TIMEOUT", 5.0)))
            pool = ConnectionPool.from_url(
                app.config["REDIS_URL"], socket_timeout=timeout, socket_connect_timeout=timeout
            )
            self.huey = RedisHuey("medienwerk", connection_pool=pool)
        else:
            path = app.config.get("JOBS_SQLITE_PATH") or str(Path(app.instance_path) / "jobs.sqlite")
            self.huey = SqliteHuey("medienwerk", filename=path)
        self.huey.immediate = bool(app.config.get("JOBS_IMMEDIATE", False))
        for job in self._jobs.values():
            self._bind(job)
        app.extensions["medienwerk_jobs"] = self
        from sqlalchemy import event
        from sqlalchemy.orm import Session

        if not event.contains(Session, "after_commit", _run_after_commit):
            event.listen(Session, "after_commit", _run_after_commit)
            event.listen(Session, "after_transaction_create", _forget_after_rollback)

    def _bind(self, job: Job) -> None:
        from huey import crontab

        app = self.app
        assert app is not None

        def run(*args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                if job.minutes is not None and not self._claim_slot(job):
                    return None
                try:
                    result = job.fn(*args, **kwargs)
                    db.session.commit()
                    return result
                except Exception:
                    db.session.rollback()
                    log.exception("job %s failed", job.name)
                    raise

        if job.minutes is None:
            job.wrapper = self.huey.task(name=job.name)(run)
        else:
            schedule = crontab(minute=f"*/{job.minutes}" if job.minutes < 60 else "0")
            job.wrapper = self.huey.periodic_task(schedule, name=job.name)(run)

    def _claim_slot(self, job: Job) -> bool:
        assert job.minutes is not None
        slot = int(time.time() // (job.minutes * 60))
        store = get_state_store()
        return bool(store.add(f"periodic:{job.name}:{slot}", 1, job.minutes * 60 * 2))

    # -- running --------------------------------------------------------------------------------------
    def start_embedded(self, workers: int = 2) -> None:
        """Run jobs in this process (no Redis): a consumer with worker threads and the scheduler."""
        with self._lock:
            if self._consumer is not None or self.huey is None:
                return
            self.stopping.clear()
            # the SQLite queue is polled: at most a second apart (huey's default backs off to ten), so a score or a
            # mail queued by a request leaves within a second and a stopping server does not wait out a long sleep
            self._consumer = _consumer_class(embedded=True)(
                self,
                self.huey,
                workers=workers,
                worker_type="thread",
                periodic=True,
                check_worker_health=False,
                max_delay=EMBEDDED_POLL_MAX_SECONDS,
            )
            self._consumer.start()
            log.info("embedded job consumer started (%d threads)", workers)

    def stop_embedded(self) -> None:
        """Stop the consumer of this serving process, letting running jobs finish (gunicorn's worker_exit)."""
        self.stopping.set()
        with self._lock:
            if self._consumer is not None:
                self._consumer.stop(graceful=True)
                self._consumer = None

    def run_worker(self, workers: int) -> None:
        """``medienwerk worker``: blocks, running jobs from the Redis queue."""
        _log_to_stderr()
        self.stopping.clear()
        consumer = _consumer_class(embedded=False)(
            self, self.huey, workers=workers, worker_type="thread", periodic=True
        )
        consumer.run()  # SIGINT (the unit's KillSignal): stops gracefully, running jobs finish; SIGTERM: at once

    def ping(self) -> None:
        """Raise if the queue does not answer (for ``/readyz``): Redis, or the embedded SQLite queue."""
        assert self.huey is not None, "jobs.init_app() not called"
        storage = self.huey.storage
        if hasattr(storage, "conn") and hasattr(storage.conn, "ping"):
            storage.conn.ping()
        else:
            storage.queue_size()

    @property
    def names(self) -> list[str]:
        return sorted(self._jobs)


def _log_to_stderr() -> None:
    """``medienwerk worker`` is a service: its log lines go to stderr, where systemd's journal keeps them (the
    tool's at INFO: never names, e-mails or tokens; huey's from WARNING on: it would log every task)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("lms").setLevel(logging.INFO)
    logging.getLogger("huey").setLevel(logging.WARNING)


def _consumer_class(*, embedded: bool) -> Any:
    from huey.consumer import Consumer

    class JobsConsumer(Consumer):
        """huey's consumer, telling the jobs when it stops. Inside a serving process (``embedded``) the server
        owns the signals (and may run us off the main thread), so it installs no signal handlers."""

        def __init__(self, registry: Jobs, huey: Any, **options: Any) -> None:
            super().__init__(huey, **options)
            self._registry = registry

        def stop(self, graceful: bool = False) -> None:
            self._registry.stopping.set()
            log.info("job consumer stopping%s", ": running jobs finish first" if graceful else "")
            super().stop(graceful=graceful)

        def _set_signal_handlers(self) -> None:
            if not embedded:
                super()._set_signal_handlers()

    return JobsConsumer


jobs = Jobs()


def maybe_start_embedded(app: Flask) -> None:
    """Without Redis, the serving processes run the jobs themselves: ``medienwerk run``, ``medienwerk demo`` and
    each gunicorn worker start the consumer with their first request (a load balancer's health check is one).
    Commands that serve nothing never get a request, so they start nothing."""
    if app.config.get("REDIS_URL") or app.config.get("TESTING"):
        return
    started = {"done": False}

    @app.before_request
    def _start() -> None:
        if not started["done"]:
            started["done"] = True
            jobs.start_embedded()
