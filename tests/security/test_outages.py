"""Outages of the database or Redis: /readyz says so, every page answers a readable 503 within the configured
timeouts (no wall clock here: the timeouts are asserted where they are set), and a hand-in is not lost."""

from __future__ import annotations

import base64
import json
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from lms.core.extensions import db
from tests.conftest import POSTGRES, page_text
from tests.security.conftest import Actor, World

UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:{port}/none"
LTI_LOCALE = "https://purl.imsglobal.org/spec/lti/claim/launch_presentation"


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def new_app(make_app: Any) -> Any:
    def make(db_uri: str, tmp_path: Path, **config: Any) -> Flask:
        return make_app(db_uri, **config)

    return make


@pytest.fixture
def redis_down(db_uri: str, tmp_path: Path, closed_port: int, new_app: Any) -> Iterator[Flask]:
    """The tool with its tables and a registered LMS, and MEDIENWERK_REDIS_URL pointing at nothing."""
    from lms.platforms.services import add_platform

    app = new_app(db_uri, tmp_path, REDIS_URL=f"redis://127.0.0.1:{closed_port}/0")
    with app.app_context():
        db.drop_all()
        db.create_all()
        add_platform(
            issuer="https://lms.example.org",
            client_id="c1",
            deployment_id="1",
            auth_login_url="https://lms.example.org/auth",
            auth_token_url="https://lms.example.org/token",
            key_set_url="https://lms.example.org/jwks",
        )
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


# --- readiness --------------------------------------------------------------------------------------------


def test_readyz_names_each_dependency(client: Any) -> None:
    resp = client.get("/readyz")
    assert resp.status_code == 200
    assert resp.get_json() == {
        "status": "ok",
        "checks": {"database": "ok", "redis": "not configured", "jobs": "ok"},
    }


def test_readyz_with_redis(db_uri: str, tmp_path: Path, new_app: Any) -> None:
    app = new_app(db_uri, tmp_path, REDIS_URL="redis://127.0.0.1:6379/15")
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["checks"] == {"database": "ok", "redis": "ok", "jobs": "ok"}


def test_readyz_is_503_when_redis_is_down_and_healthz_stays_ok(redis_down: Flask) -> None:
    client = redis_down.test_client()
    resp = client.get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json() == {
        "status": "unavailable",
        "checks": {"database": "ok", "redis": "unavailable", "jobs": "unavailable"},
    }
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path, closed_port: int, new_app: Any) -> None:
    app = new_app(UNREACHABLE_DB.format(port=closed_port), tmp_path)
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 503
    assert resp.get_json()["checks"] == {"database": "unavailable", "redis": "not configured", "jobs": "ok"}


# --- timeouts -------------------------------------------------------------------------------------------


def test_postgresql_gets_connect_and_statement_timeouts_and_keeps_the_uri_options(tmp_path: Path, new_app: Any) -> None:
    uri = "postgresql+psycopg://u@db.example.org/medienwerk?options=-csearch_path%3Dt_1"
    options = new_app(uri, tmp_path, DB_CONNECT_TIMEOUT=4.0, DB_STATEMENT_TIMEOUT=12.0).config[
        "SQLALCHEMY_ENGINE_OPTIONS"
    ]
    args = options["connect_args"]
    assert args["connect_timeout"] == 4 and options["pool_timeout"] == 4.0
    assert args["options"] == "-csearch_path=t_1 -c statement_timeout=12000"
    assert args["tcp_user_timeout"] == 4000 and args["keepalives"] == 1
    assert options["pool_pre_ping"] is True and options["hide_parameters"] is True


def test_defaults_and_sqlite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, new_app: Any) -> None:
    pg = new_app("postgresql+psycopg://u@db.example.org/m", tmp_path).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert pg["connect_args"]["connect_timeout"] == 5
    assert pg["connect_args"]["options"] == "-c statement_timeout=15000"
    sqlite = new_app(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert sqlite["connect_args"] == {"timeout": 5.0} and "pool_timeout" not in sqlite
    monkeypatch.setenv("MEDIENWERK_DB_STATEMENT_TIMEOUT", "0")
    no_limit = new_app("postgresql+psycopg://u@db.example.org/m", tmp_path).config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "options" not in no_limit["connect_args"]


def test_every_redis_client_has_timeouts(redis_down: Flask) -> None:
    from lms.core.jobs import jobs

    store = redis_down.extensions["medienwerk"]["state_store"]
    limiter = redis_down.extensions["medienwerk"]["limiter"]
    pools = [
        store._redis.connection_pool,  # launch state, caches
        jobs.huey.storage.pool,  # the job queue
        limiter.storage.storage.connection_pool,  # rate limits
    ]
    for pool in pools:
        assert pool.connection_kwargs["socket_timeout"] == 5.0
        assert pool.connection_kwargs["socket_connect_timeout"] == 5.0


@pytest.mark.postgres_only
@pytest.mark.skipif(not POSTGRES, reason="statement_timeout is PostgreSQL's (MEDIENWERK_TEST_DATABASE_URI)")
def test_a_postgresql_statement_timeout_is_in_force(postgres_schema_uri: str, tmp_path: Path, new_app: Any) -> None:
    app = new_app(postgres_schema_uri, tmp_path, DB_STATEMENT_TIMEOUT=0.2)
    with app.app_context():
        with pytest.raises(OperationalError):  # QueryCanceled: an outage page, not a hanging request
            db.session.execute(select(func.pg_sleep(2)))
        db.session.rollback()
        assert db.session.execute(select(func.current_setting("search_path"))).scalar_one().startswith("t_")


# --- pages during an outage ----------------------------------------------------------------------------------


def _id_token(locale: str) -> str:
    body = base64.urlsafe_b64encode(json.dumps({LTI_LOCALE: {"locale": locale}}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{body}.c2ln"


def test_login_and_launch_with_redis_down_answer_a_readable_503(
    redis_down: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    client = redis_down.test_client()
    login = client.get(
        "/lti/login",
        query_string={
            "iss": "https://lms.example.org",
            "client_id": "c1",
            "login_hint": "x",
            "target_link_uri": "http://localhost/lti/launch",
        },
    )
    assert login.status_code == 503 and login.headers["Retry-After"]
    text = page_text(login.get_data(as_text=True))
    assert "medienwerk ist gerade nicht erreichbar" in text and "Fehlercode: 503" in text
    assert "Traceback" not in text and "redis" not in text.lower()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="lms.core.errors"):
        launch = client.post("/lti/launch", data={"id_token": _id_token("en-GB"), "state": "s"})
    assert launch.status_code == 503
    assert "medienwerk is not available right now" in page_text(launch.get_data(as_text=True))
    assert "not saved" in page_text(launch.get_data(as_text=True))
    lines = [r.getMessage() for r in caplog.records if r.name == "lms.core.errors"]
    assert lines == [lines[0]] and lines[0].startswith("outage on POST lti.launch: ConnectionError")


def test_pages_after_a_launch_answer_503_when_the_database_is_unreachable(
    tmp_path: Path, closed_port: int, new_app: Any
) -> None:
    from itsdangerous import URLSafeTimedSerializer

    from lms.core.security import TOKEN_SALT

    app = new_app(UNREACHABLE_DB.format(port=closed_port), tmp_path)
    token = URLSafeTimedSerializer("test-secret", salt=TOKEN_SALT).dumps("a-session-id")
    resp = app.test_client().get(f"/t/{token}/m/")
    assert resp.status_code == 503
    assert "medienwerk ist gerade nicht erreichbar" in page_text(resp.get_data(as_text=True))
    # the LMS may show the page in its frame: no frame-ancestors that would need the database
    assert "frame-ancestors" not in resp.headers["Content-Security-Policy"]
    json_resp = app.test_client().get(f"/t/{token}/live/1/status.json")
    assert json_resp.status_code == 503 and json_resp.is_json


# --- a hand-in is not lost ---------------------------------------------------------------------------------


def _new_volunteer(world: World) -> Actor:
    from lms.core.security import create_launch_session, csrf_token
    from lms.users.models import Enrollment, User

    course = world.a.courses[0]
    with world.app.test_request_context():
        user = User(chamber_id=world.a.chamber_id, issuer="https://lms-a.example.org", sub="writer")
        db.session.add(user)
        db.session.flush()
        db.session.add(Enrollment(user_id=user.id, course_id=course.course_id, role="volunteer"))
        session, token = create_launch_session(
            user_id=user.id,
            course_id=course.course_id,
            platform_id=world.a.platform_id,
            deployment_id="1",
            role="volunteer",
        )
        db.session.commit()
        return Actor("volunteer", user.id, course.course_id, token, csrf_token(session))


def _task_url(world: World, actor: Actor) -> str:
    from lms.courses.setup import current_course
    from tests.progress.helpers import M2

    with world.app.app_context():
        module = current_course().module(M2)
        assert module is not None and module.task is not None and module.task.submission == "text"
        return actor.url(f"m/{M2}/{module.task.id}")


def _submissions(world: World, user_id: int) -> int:
    from lms.progress.models import TaskSubmission

    with world.app.app_context():
        stmt = select(func.count()).select_from(TaskSubmission).where(TaskSubmission.user_id == user_id)
        return int(db.session.execute(stmt).scalar_one())


TYPED = "Mein Text für die Praxisaufgabe, den ich lange geschrieben habe – <bitte> nicht verlieren & so."


def _assert_kept(resp: Any) -> None:
    assert resp.status_code == 503 and resp.headers["Retry-After"]
    html = resp.get_data(as_text=True)
    assert "Deine Abgabe konnte gerade nicht gespeichert werden" in page_text(html)
    assert (
        "Mein Text für die Praxisaufgabe, den ich lange geschrieben habe – &lt;bitte&gt; nicht verlieren &amp; so."
        in html
    )
    assert 'name="csrf_token"' in html  # the form again: "Abgeben" works once the database is back


def test_a_hand_in_is_kept_in_the_form_when_the_save_fails(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from lms.progress import services

    actor = _new_volunteer(world)

    def database_gone(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError(
            "INSERT INTO task_submission …", {"text": TYPED}, Exception("server closed the connection")
        )

    monkeypatch.setattr(services, "submit_task", database_gone)
    with caplog.at_level(logging.WARNING, logger="lms.core.errors"):
        resp = world.client.post(_task_url(world, actor), data={"csrf_token": actor.csrf, "text": TYPED})
    _assert_kept(resp)
    assert not any(TYPED[:20] in r.getMessage() or "INSERT" in r.getMessage() for r in caplog.records)
    assert any(r.getMessage().startswith("outage on POST courses.item: OperationalError") for r in caplog.records)


def test_a_hand_in_is_kept_in_the_form_when_the_commit_fails(world: World) -> None:
    actor = _new_volunteer(world)
    url = _task_url(world, actor)

    def database_gone(session: Session) -> None:
        raise OperationalError("COMMIT", None, Exception("server closed the connection"))

    event.listen(Session, "before_commit", database_gone)
    try:
        resp = world.client.post(url, data={"csrf_token": actor.csrf, "text": TYPED})
    finally:
        event.remove(Session, "before_commit", database_gone)
    _assert_kept(resp)
    assert "Content-Security-Policy" in resp.headers
    assert _submissions(world, actor.user_id) == 0
    # and once the database is back, the same form saves
    again = world.client.post(url, data={"csrf_token": actor.csrf, "text": TYPED})
    assert again.status_code == 303 and _submissions(world, actor.user_id) == 1
