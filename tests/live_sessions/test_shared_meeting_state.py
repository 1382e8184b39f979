"""The meeting's state and the create claim are shared by all workers (lms.live_sessions.meetings): a crowd of
status polls while BBB hangs asks BBB once, a surge of joins asks getMeetingInfo a few times and creates once.

No sleeps for synchronisation: a barrier starts the requests together, the double's hang holds BBB, and
futures tell when requests are done."""

from __future__ import annotations

from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from threading import Barrier
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from lms.core.extensions import db
from tests.live_sessions.conftest import LiveEnv, Person

N = 12


def _forget(live: LiveEnv, sid: int) -> None:
    from lms.live_sessions import meetings
    from lms.live_sessions.models import LiveSession

    with live.app.app_context():
        meetings.forget(db.session.get(LiveSession, sid))


def _together(people: list[Person], call) -> list[requests.Response]:  # type: ignore[no-untyped-def]
    barrier = Barrier(len(people))

    def one(person: Person) -> requests.Response:
        barrier.wait(timeout=30)
        return call(person)

    with ThreadPoolExecutor(max_workers=len(people)) as pool:
        return list(pool.map(one, people))


def _signed_up(live: LiveEnv, sid: int, n: int) -> list[Person]:
    people = [live.person("volunteer") for _ in range(n)]
    for person in people:
        assert person.post(f"/{sid}/signup", allow_redirects=False).status_code == 303
    return people


def test_status_polls_while_bbb_hangs_ask_bbb_once(live: LiveEnv) -> None:
    live.app.config["BBB_TIMEOUT"] = 30.0  # the hanging call must not time out before the others are done
    trainer = live.person("trainer")
    sid = live.schedule(trainer, wait_for_moderator="1")
    assert trainer.post(f"/{sid}/join", allow_redirects=False).status_code == 303  # the meeting exists
    people = _signed_up(live, sid, N)
    _forget(live, sid)  # nothing cached: the first poll must ask BBB
    before = live.double.call_count("getMeetingInfo")
    live.double.hang_seconds = 60  # BBB hangs until released

    barrier = Barrier(N)

    def poll(person: Person) -> dict[str, object]:
        barrier.wait(timeout=30)
        return person.get(f"/{sid}/status.json", timeout=60).json()

    with ThreadPoolExecutor(max_workers=N) as pool:
        futures = [pool.submit(poll, p) for p in people]
        # all but the one that asks BBB answer at once, while BBB still hangs
        pending = set(futures)
        answered = []
        while len(answered) < N - 1:
            done, pending = wait(pending, timeout=30, return_when=FIRST_COMPLETED)
            assert done, "the polls waited for the hanging BBB"
            answered += [f.result() for f in done]
        assert live.double.call_count("getMeetingInfo") == before + 1
        assert all(a["known"] is False and a["ready"] is False for a in answered)
        live.double.release_hangs()
        (last,) = [f.result(timeout=30) for f in pending]
    assert last["known"] is True and last["ready"] is False  # the trainer never entered the room
    assert live.double.call_count("getMeetingInfo") == before + 1

    # the answer is now shared: more polls ask nobody
    for person in people[:3]:
        assert person.get(f"/{sid}/status.json").json()["known"] is True
    assert live.double.call_count("getMeetingInfo") == before + 1


def test_a_stale_state_is_refreshed_by_one_poll_while_the_others_get_the_last_known(
    live: LiveEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lms.live_sessions import meetings

    live.app.config["BBB_TIMEOUT"] = 30.0
    trainer = live.person("trainer")
    sid = live.schedule(trainer, wait_for_moderator="1")
    enter_url = trainer.post(f"/{sid}/join", allow_redirects=False).headers["Location"]
    assert requests.get(enter_url, timeout=10).status_code == 200  # the trainer is in the room
    people = _signed_up(live, sid, N)
    monkeypatch.setattr(meetings, "FRESH_SECONDS", 0.0)  # every cached state is stale at once
    before = live.double.call_count("getMeetingInfo")
    live.double.hang_seconds = 60

    barrier = Barrier(N)

    def poll(person: Person) -> dict[str, object]:
        barrier.wait(timeout=30)
        return person.get(f"/{sid}/status.json", timeout=60).json()

    with ThreadPoolExecutor(max_workers=N) as pool:
        futures = [pool.submit(poll, p) for p in people]
        pending = set(futures)
        answered = []
        while len(answered) < N - 1:
            done, pending = wait(pending, timeout=30, return_when=FIRST_COMPLETED)
            assert done, "the polls waited for the hanging BBB"
            answered += [f.result() for f in done]
        # the last known state (written when the trainer created the meeting) stands in
        assert all(a["known"] is True and a["moderator"] is False for a in answered)
        assert live.double.call_count("getMeetingInfo") == before + 1
        live.double.release_hangs()
        (last,) = [f.result(timeout=30) for f in pending]
    assert last["moderator"] is True and last["ready"] is True


def test_a_join_surge_creates_once_and_asks_getmeetinginfo_a_few_times(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, wait_for_moderator=None)
    first_wave = _signed_up(live, sid, N)
    second_wave = _signed_up(live, sid, N)

    def join(person: Person) -> requests.Response:
        return person.post(f"/{sid}/join", allow_redirects=False, timeout=60)

    results = _together(first_wave, join)  # no meeting yet: one creates, the others wait for its createTime
    results += _together(second_wave, join)  # the meeting exists: its state comes from the shared cache
    assert [r.status_code for r in results] == [303] * (2 * N), [r.text[:300] for r in results if r.status_code != 303]
    meeting_id = live.session(sid).meeting_id
    assert live.double.call_count("create") == 1
    assert live.double.create_count(meeting_id) == 1
    assert live.double.call_count("getMeetingInfo") <= 3
    times = {parse_qs(urlsplit(r.headers["Location"]).query)["createTime"][0] for r in results}
    assert times == {str(live.session(sid).meeting_create_time)}
