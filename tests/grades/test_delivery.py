"""Scores from progress changes to the platform double's gradebook, over loopback HTTP (AGS + OAuth2)."""

from __future__ import annotations

import datetime as dt
import os
import re
import threading

import pytest
from sqlalchemy import select, update

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.grades import services
from lms.grades.models import GradeLink, GradeLinkUser, ScoreOutbox
from lms.users.models import User
from tests.grades.conftest import LTI, M1, M2, Grades

POSTGRES = os.environ.get("MEDIENWERK_TEST_DATABASE_URI", "").startswith("postgresql")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")


def test_score_flows_from_a_progress_change_to_the_gradebook(grades: Grades) -> None:
    assert grades.lti.launch("volunteer").status_code == 200
    link = grades.links()[0]
    assert link.lineitem_url and "type_id=1" in link.lineitem_url and link.gradable
    assert grades.rows() == []  # nothing done yet: no 0 % score on the first launch
    lena = grades.user_id()

    grades.change(lena, M1, 50)  # the link shows the overview: the mean over M1 and M2
    [row] = grades.rows()
    assert (row.status, row.score_given, row.platform_user_id) == ("pending", 25.0, "demo-lena")

    outcomes = grades.deliver()
    assert [o.delivered for o in outcomes] == [True]
    grade = grades.services.grade("demo-lena")
    assert grade is not None
    assert (grade.score_given, grade.score_maximum) == (25.0, 100.0)
    assert (grade.activity_progress, grade.grading_progress) == ("InProgress", "FullyGraded")
    assert ISO_MS.match(grade.timestamp)
    assert grade.comment and "25 %" in grade.comment
    assert grades.rows()[0].status == "delivered"
    assert grades.services.token_requests[grades.lti.double.client_id] == 1

    grades.change(lena, M1, 100)
    grades.change(lena, M2, 100)
    grades.deliver()
    grade = grades.services.grade("demo-lena")
    # every module done, but the course-wide link is completed only with the highest tier, which also needs live
    # tutorials (tests/certificates/test_gradebook.py)
    assert grade is not None and grade.score_given == 100.0 and grade.activity_progress == "InProgress"


def test_module_link_reports_that_module_and_ignores_others(grades: Grades) -> None:
    grades.lti.launch_with("volunteer", **{LTI + "custom": {"module": M2}})
    [link] = grades.links()
    assert (link.item_kind, link.module_id) == ("module", M2)
    lena = grades.user_id()
    grades.change(lena, M1, 100)
    assert grades.rows() == []
    grades.change(lena, M2, 40)
    grades.deliver()
    grade = grades.services.grade("demo-lena")
    assert grade is not None and grade.score_given == 40.0


def test_latest_score_wins_one_row_and_one_post(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    for percent in (20, 40, 60):
        grades.change(lena, M1, percent)
    [row] = grades.rows()
    assert (row.score_given, row.version, row.status) == (30.0, 3, "pending")
    grades.deliver()
    assert len(grades.services.score_log) == 1
    assert grades.services.score_log[0][1]["scoreGiven"] == 30.0
    grades.change(lena, M1, 60)  # same progress again: nothing new to send
    assert grades.rows()[0].status == "delivered"


def test_a_newer_score_during_delivery_is_not_marked_delivered(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    grades.change(lena, M1, 20)
    with grades.app.app_context():
        [claimed] = services.claim()
        db.session.commit()
    grades.change(lena, M1, 80)  # arrives while the first one is in flight
    with grades.app.app_context():
        outcome = services.deliver(claimed)
        db.session.commit()
    assert outcome.status == "pending"
    grades.deliver()
    grade = grades.services.grade("demo-lena")
    assert grade is not None and grade.score_given == 40.0
    assert grades.rows()[0].status == "delivered"


def test_backoff_and_retry_while_the_platform_is_down(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    grades.services.outage = True
    grades.change(lena, M1, 50)
    before = utcnow()
    [outcome] = grades.deliver()
    assert (outcome.delivered, outcome.status) == (False, "pending")
    [row] = grades.rows()
    assert (row.attempts, row.last_error_code, row.last_http_status) == (1, "token_refused", 503)
    assert before + dt.timedelta(seconds=14) <= row.next_attempt_at <= before + dt.timedelta(seconds=46)
    assert grades.deliver() == []  # not due yet

    grades.make_due()
    grades.deliver()
    [row] = grades.rows()
    assert row.attempts == 2 and row.status == "pending"
    assert row.next_attempt_at >= utcnow() + dt.timedelta(seconds=29)  # 60 s ± 50 %: grows

    grades.services.outage = False
    grades.make_due()
    [outcome] = grades.deliver()
    assert outcome.delivered
    assert grades.services.grade("demo-lena") is not None
    assert grades.rows()[0].last_error_code is None


def test_server_errors_on_the_score_post_are_retried(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.services.fail_next_scores = [502]
    grades.change(grades.user_id(), M1, 50)
    [outcome] = grades.deliver()
    assert outcome.status == "pending" and outcome.error_code == "unavailable"
    grades.make_due()
    assert grades.deliver()[0].delivered


def test_retries_end_in_failed_after_the_limit(grades: Grades) -> None:
    grades.app.config["GRADES_MAX_ATTEMPTS"] = 2
    grades.lti.launch("volunteer")
    grades.services.fail_next_scores = [503, 503]
    grades.change(grades.user_id(), M1, 50)
    grades.deliver()
    grades.make_due()
    [outcome] = grades.deliver()
    assert outcome.status == "failed"


def test_401_gets_exactly_one_new_token(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    grades.change(lena, M1, 50)
    grades.deliver()
    client_id = grades.lti.double.client_id
    assert grades.services.token_requests[client_id] == 1

    grades.services.revoke_tokens()  # the platform forgot the token: next call answers 401
    grades.change(lena, M1, 100)
    [outcome] = grades.deliver()
    assert outcome.delivered
    assert grades.services.token_requests[client_id] == 2

    grades.services.unauthorized_next = 2  # 401 even with the fresh token: one refresh, then retry later
    grades.change(lena, M2, 100)
    [outcome] = grades.deliver()
    assert (outcome.delivered, outcome.status, outcome.error_code) == (False, "pending", "unauthorized")
    assert grades.services.token_requests[client_id] == 3


def test_409_is_resent_with_a_later_timestamp_never_an_error(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    grades.change(lena, M1, 50)
    grades.deliver()
    stored = grades.services.grade("demo-lena")
    assert stored is not None
    # the gradebook has a score from the next second (a tie with the clock, or another writer)
    stored.timemodified = int(utcnow().timestamp()) + 1
    grades.change(lena, M1, 100)
    [outcome] = grades.deliver()
    assert outcome.delivered and outcome.conflicts >= 1
    statuses = [status for _, _, status in grades.services.score_log]
    assert statuses[-1] == 200 and 409 in statuses
    [row] = grades.rows()
    assert (row.status, row.last_error_code, row.last_error) == ("delivered", None, None)
    grade = grades.services.grade("demo-lena")
    assert grade is not None and grade.score_given == 50.0


def test_a_score_sent_again_after_its_worker_stopped_keeps_its_timestamp_and_the_lms_records_one_change(
    grades: Grades,
) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    grades.change(lena, M1, 50)
    with grades.app.app_context():
        [claimed] = services.claim()
        db.session.commit()
        rows = services.load_claimed([claimed])
        sent = services.send(claimed)  # the POST reaches the LMS ...
        assert sent.error is None
        db.session.rollback()  # ... and the worker stops before it records the delivery
        del rows
        db.session.execute(update(ScoreOutbox).values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
        db.session.commit()
    [outcome] = grades.deliver()  # the lease ran out: another worker sends the score again
    assert (outcome.delivered, outcome.status) == (True, "delivered")
    log = grades.services.score_log
    assert [status for _, _, status in log] == [200, 409]  # the LMS recorded one change
    assert log[0][1]["timestamp"] == log[1][1]["timestamp"]  # fixed when queued, not when sent
    grade = grades.services.grade("demo-lena")
    assert grade is not None and grade.score_given == 25.0 and grade.timestamp == log[0][1]["timestamp"]
    [row] = grades.rows()
    assert (row.attempts, row.sent_timestamp) == (2, row.scored_at)

    grades.change(lena, M1, 100)  # the next change is a second newer at least, and is recorded
    grades.deliver()
    assert [status for _, _, status in grades.services.score_log] == [200, 409, 200]
    grade = grades.services.grade("demo-lena")
    assert grade is not None and grade.score_given == 50.0


def test_a_retry_sends_the_timestamp_the_score_was_queued_with(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.services.fail_next_scores = [503]
    grades.change(grades.user_id(), M1, 50)
    [row] = grades.rows()
    queued = row.scored_at
    grades.deliver()
    grades.make_due()
    [outcome] = grades.deliver()
    assert outcome.delivered
    log = grades.services.score_log
    assert [status for _, _, status in log] == [503, 200]
    assert {dt.datetime.fromisoformat(body["timestamp"]) for _, body, _ in log} == {
        queued.replace(microsecond=queued.microsecond // 1000 * 1000)
    }


def test_a_burst_of_changes_keeps_the_time_of_the_last_one(grades: Grades) -> None:
    """Scores replaced before they left do not push the next timestamp into the future."""
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    for percent in (20, 40, 60, 80):
        grades.change(lena, M1, percent)
    [row] = grades.rows()
    assert row.scored_at <= utcnow()


def test_scores_within_one_second_get_increasing_timestamps(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    for percent in (10, 20, 30):
        grades.change(lena, M1, percent)
        grades.deliver()
    log = grades.services.score_log
    assert [status for _, _, status in log] == [200, 200, 200]
    seconds = [int(dt.datetime.fromisoformat(body["timestamp"]).timestamp()) for _, body, _ in log]
    assert seconds == sorted(set(seconds))


def test_permanent_4xx_is_recorded_and_not_retried(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.services.gradable.discard("demo-lena")  # e.g. not enrolled as a student in Moodle
    grades.change(grades.user_id(), M1, 50)
    [outcome] = grades.deliver()
    assert (outcome.delivered, outcome.status) == (False, "failed")
    [row] = grades.rows()
    assert (row.last_error_code, row.last_http_status) == ("rejected", 403)
    assert "not gradable" in (row.last_error or "")
    grades.make_due()
    assert grades.deliver() == []


def test_pending_review_sends_pending_and_moodle_drops_the_number(grades: Grades) -> None:
    grades.lti.launch_with("volunteer", **{LTI + "custom": {"module": M1}})
    grades.change(grades.user_id(), M1, 90, review=True)
    grades.deliver()
    grade = grades.services.grade("demo-lena")
    assert grade is not None
    assert (grade.grading_progress, grade.score_given) == ("Pending", None)


def test_line_item_found_or_created_by_tag_when_the_launch_has_none(grades: Grades) -> None:
    grades.services.ags_mode = "lineitems"
    grades.lti.launch_with("volunteer", **{LTI + "custom": {"module": M1}})
    [link] = grades.links()
    assert link.lineitem_url is None and link.gradable
    lena = grades.user_id()
    grades.change(lena, M1, 30)
    grades.deliver()
    items = list(grades.services.lineitems.values())
    assert len(items) == 1
    item = items[0]
    assert (item["resourceLinkId"], item["tag"], item["scoreMaximum"]) == ("demo-link-1", f"medienwerk:{M1}", 100.0)
    grade = grades.services.grade("demo-lena", item)
    assert grade is not None and grade.score_given == 30.0
    assert grades.links()[0].found_lineitem_url == item["id"]

    grades.change(lena, M1, 60)
    grades.deliver()
    assert len(grades.services.lineitems) == 1  # reused, not created again
    grade = grades.services.grade("demo-lena", item)
    assert grade is not None and grade.score_given == 60.0
    lineitem_posts = [p for m, p in grades.services.requests_log if m == "POST" and p.endswith("/lineitems")]
    assert len(lineitem_posts) == 1


def test_existing_line_item_is_found_across_pages(grades: Grades) -> None:
    grades.services.ags_mode = "lineitems"
    grades.services.lineitems_page_size = 2
    grades.lti.launch("volunteer")
    for n in range(5):
        grades.services.add_lineitem("demo-course-1", f"anderes {n}", 10, tag=f"other-{n}")
    mine = grades.services.add_lineitem(
        "demo-course-1", "medienwerk", 100, resource_link_id="demo-link-1", tag="medienwerk"
    )
    # filters ignored, as some platforms do: the client pages and checks itself
    grades.services.lineitems_page_size = 2
    grades.change(grades.user_id(), M1, 50)
    grades.deliver()
    assert grades.services.grade("demo-lena", mine) is not None
    assert len(grades.services.lineitems) == 6


def test_ags_off_means_nothing_is_queued(grades: Grades) -> None:
    grades.services.ags_mode = "off"
    grades.lti.launch("volunteer")
    [link] = grades.links()
    assert not link.gradable
    grades.change(grades.user_id(), M1, 50)
    assert grades.rows() == []


def test_trainers_are_not_scored(grades: Grades) -> None:
    grades.lti.launch("trainer")
    with grades.app.app_context():
        assert db.session.execute(select(GradeLinkUser)).first() is None


def test_a_link_added_later_is_filled_in_from_existing_progress(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    lena = grades.user_id()
    grades.progress.percent[(lena, M1)] = 100  # progress made elsewhere, before this link existed
    grades.lti.double.resource_link = {"id": "later-link", "title": "Modul 1 (neu)"}
    grades.lti.launch_with("volunteer", **{LTI + "custom": {"module": M1}})
    rows = grades.rows()
    assert [(r.score_given, r.activity_progress) for r in rows] == [(100.0, "Completed")]
    grades.deliver()
    later = grades.services.link_lineitem("demo-course-1", "later-link")
    grade = grades.services.grade("demo-lena", later)
    assert grade is not None and grade.score_given == 100.0


def test_token_is_cached_across_deliveries_users_and_processes(grades: Grades) -> None:
    from lms.grades.clients import StoreTokenCache

    grades.lti.launch("volunteer")
    grades.lti.launch("volunteer-private")
    lena, timo = grades.user_id("demo-lena"), grades.user_id("demo-timo")
    for percent in (10, 20):
        grades.change(lena, M1, percent)
        grades.change(timo, M1, percent)
        grades.deliver()
        StoreTokenCache.forget()  # another process: finds the token in the shared store
    assert grades.services.grade("demo-timo") is not None
    assert sum(grades.services.token_requests.values()) == 1


def _volunteers_with_scores(grades: Grades, prefix: str, count: int) -> None:
    """``count`` more volunteers of the launched link, each with a queued score."""
    subs = [f"{prefix}-{n}" for n in range(count)]
    grades.services.known_users.update(subs)
    grades.services.gradable.update(subs)
    with grades.app.app_context():
        link = db.session.execute(select(GradeLink)).scalar_one()
        for sub in subs:
            user = User(issuer=grades.lti.double.issuer, sub=sub, chamber_id=link.platform.chamber_id)
            db.session.add(user)
            db.session.flush()
            member = GradeLinkUser(link_id=link.id, user_id=user.id, platform_user_id=sub)
            db.session.add(member)
            db.session.flush()
            services.queue_score(link, member, services.CurrentScore(50, False))
        db.session.info.pop(services.SESSION_KEY, None)  # delivered below, not by the job queue
        db.session.commit()


def test_a_batch_costs_the_same_statements_for_few_and_many_scores(grades: Grades) -> None:
    from sqlalchemy import event

    from lms.grades.jobs import deliver_due

    grades.lti.launch("volunteer")
    _volunteers_with_scores(grades, "first", 1)
    grades.deliver()  # the token is fetched once: not part of what is counted
    counts = []
    seen = {"statements": 0, "commits": 0}

    def statement(*_: object, **__: object) -> None:
        seen["statements"] += 1

    def commit(*_: object) -> None:
        seen["commits"] += 1

    for prefix, count in (("few", 3), ("many", 30)):
        _volunteers_with_scores(grades, prefix, count)
        seen.update(statements=0, commits=0)
        with grades.app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", statement)
            event.listen(engine, "commit", commit)
            try:
                outcomes = deliver_due(limit=count)
                db.session.commit()
            finally:
                event.remove(engine, "before_cursor_execute", statement)
                event.remove(engine, "commit", commit)
        assert len(outcomes) == count and all(o.delivered for o in outcomes)
        counts.append((seen["statements"], seen["commits"]))
    # one statement claims, one reads the rows with links and registrations, one the signing key, one records;
    # a commit after the claim and one after the record
    assert counts == [(4, 2), (4, 2)]
    assert len(grades.services.grades) == 34


def test_a_stopping_worker_gives_its_claimed_scores_back_unsent(grades: Grades) -> None:
    from lms.core.jobs import jobs
    from lms.grades.jobs import deliver_ids

    grades.lti.launch("volunteer")
    grades.change(grades.user_id(), M1, 50)
    [row] = grades.rows()
    jobs.stopping.set()  # what a graceful shutdown sets
    try:
        with grades.app.app_context():
            assert deliver_ids([row.id]) == []
    finally:
        jobs.stopping.clear()
    [row] = grades.rows()
    assert (row.status, row.attempts, row.claimed_until) == ("pending", 0, None)
    assert grades.services.score_log == []
    assert grades.deliver()[0].delivered  # due at once for the next worker


def test_claims_are_exclusive(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.change(grades.user_id(), M1, 50)
    with grades.app.app_context():
        first = services.claim()
        db.session.commit()
        second = services.claim()
        db.session.commit()
    assert len(first) == 1 and second == []


def test_a_claim_whose_worker_died_is_due_after_the_lease(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.change(grades.user_id(), M1, 50)
    with grades.app.app_context():
        assert len(services.claim()) == 1
        db.session.execute(update(ScoreOutbox).values(claimed_until=utcnow() - dt.timedelta(seconds=1)))
        db.session.commit()
    assert grades.deliver()[0].delivered


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="row claiming under concurrency needs PostgreSQL")
def test_two_workers_never_deliver_the_same_row_twice(grades: Grades) -> None:
    from lms.grades.jobs import deliver_due

    grades.lti.launch("volunteer")
    subs = [f"bench-{n}" for n in range(60)]
    grades.services.known_users.update(subs)
    grades.services.gradable.update(subs)
    with grades.app.app_context():
        link = db.session.execute(select(GradeLink)).scalar_one()
        chamber = link.platform.chamber_id
        members = []
        for sub in subs:
            user = User(issuer=grades.lti.double.issuer, sub=sub, chamber_id=chamber)
            db.session.add(user)
            db.session.flush()
            member = GradeLinkUser(link_id=link.id, user_id=user.id, platform_user_id=sub)
            db.session.add(member)
            members.append(member)
        db.session.flush()
        for member in members:
            services.queue_score(link, member, services.CurrentScore(50.0, False))
        db.session.commit()

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        try:
            with grades.app.app_context():
                barrier.wait()
                deliver_due(limit=1000)
                db.session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    posted = [body["userId"] for _, body, status in grades.services.score_log]
    assert sorted(posted) == sorted(subs)  # each exactly once
    assert {r.status for r in grades.rows()} == {"delivered"}
    assert sum(grades.services.token_requests.values()) == 1


def test_sweep_enqueues_due_rows(grades: Grades) -> None:
    from lms.core.jobs import jobs
    from lms.grades.jobs import sweep_scores

    grades.lti.launch("volunteer")
    grades.change(grades.user_id(), M1, 50)
    before = jobs.huey.pending_count()
    with grades.app.app_context():
        assert sweep_scores() == 1
    assert jobs.huey.pending_count() == before + 1


def test_committed_rows_are_delivered_by_the_job_queue(grades: Grades) -> None:
    """The whole wiring: the commit enqueues the delivery job, huey (immediate mode here) runs it."""
    from lms.core.jobs import jobs

    grades.lti.launch("volunteer")
    jobs.huey.immediate = True
    try:
        grades.change(grades.user_id(), M1, 50)
    finally:
        jobs.huey.immediate = False
    grade = grades.services.grade("demo-lena")
    assert grade is not None and grade.score_given == 25.0
    assert grades.rows()[0].status == "delivered"


def test_rolled_back_progress_queues_nothing(grades: Grades) -> None:
    from tests.grades.conftest import progress_signal

    grades.lti.launch("volunteer")
    lena = grades.user_id()
    grades.progress.percent[(lena, M1)] = 50
    with grades.app.app_context():
        progress_signal().send(None, user_id=lena, module_id=M1)
        db.session.rollback()
    assert grades.rows() == []
