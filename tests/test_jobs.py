"""The job queue: tasks run in an app context, periodic jobs once per slot, embedded consumer works."""

from __future__ import annotations

import time

from lms.core.jobs import Jobs
from lms.core.state import get_state_store


def test_task_runs_in_app_context_through_the_embedded_consumer(app) -> None:
    local = Jobs()
    seen: list[str] = []

    @local.task
    def remember(word: str) -> None:
        from flask import current_app

        seen.append(f"{word}:{current_app.name}")

    local.init_app(app)
    import threading

    # servers start the consumer from a request thread, not the main thread
    starter = threading.Thread(target=local.start_embedded, kwargs={"workers": 1})
    starter.start()
    starter.join()
    try:
        remember.enqueue("hallo")
        deadline = time.time() + 10
        while not seen and time.time() < deadline:
            time.sleep(0.05)
    finally:
        local.stop_embedded()
    assert seen == ["hallo:lms"]


def test_periodic_slot_is_claimed_once(app) -> None:
    local = Jobs()
    runs: list[int] = []

    @local.periodic(minutes=5)
    def sweep() -> None:
        runs.append(1)

    local.init_app(app)
    with app.app_context():
        assert local._claim_slot(sweep) is True
        assert local._claim_slot(sweep) is False  # a second process in the same slot
        assert get_state_store().add("x", 1, 60) is True
        assert get_state_store().add("x", 2, 60) is False
