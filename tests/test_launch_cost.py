"""What a login and a launch cost the database, counted (statement counts are deterministic; nothing here measures
time: bench/launch.py does), and the per-process registrations staying correct across processes.

In production the launch state (nonces, the platforms' key sets, the registrations' version) lives in Redis; a
returning person's launch then costs at most 6 SQL statements and the login none. With the embedded state store
those are database statements too: three more per launch (storage marker, nonce, version), two per login.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from sqlalchemy import event, select

from lms import create_app
from lms.core.extensions import db
from lms.core.state import RedisStateStore, get_state_store
from lms.platforms.models import Deployment
from lms.platforms.services import add_platform, set_platform_enabled
from lms.users.models import User
from tests.conftest import Lti

REDIS_URL = "redis://127.0.0.1:6379/15"
RETURNING_LAUNCH_STATEMENTS = 6  # the goal, with the launch state in Redis
EMBEDDED_STATE_STATEMENTS = 3  # what the state store adds per launch when it is the database


class Counter:
    """The SQL statements the app sends (every thread) while active."""

    def __init__(self, app: Flask) -> None:
        with app.app_context():
            self.engine = db.engine
        self.statements: list[str] = []

    def _seen(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(" ".join(statement.split())[:100])

    def __enter__(self) -> Counter:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


def _redis_store(app: Flask, prefix: str) -> RedisStateStore:
    """The app's launch state in Redis, under keys of this test's own (other test runs use the same Redis)."""
    store = RedisStateStore(REDIS_URL, prefix=prefix)
    app.extensions["medienwerk"]["state_store"] = store
    return store


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    prefix = f"medienwerk-test-{uuid.uuid4().hex}:"
    yield prefix
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(prefix + "*"))
    if keys:
        client.delete(*keys)


def counted_launch(lti: Lti, persona: str = "volunteer") -> tuple[int, list[str], list[str]]:
    """A full OIDC login and launch (without following the redirect to the landing page): the launch's status and
    the statements of the login and of the launch."""
    http = requests.Session()
    with Counter(lti.app) as login:
        resp = http.get(
            lti.tool.url + "/lti/login", params=lti.double.login_params(persona), allow_redirects=False, timeout=10
        )
    assert resp.status_code == 302, resp.text[:300]
    query = {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}
    target, fields = lti.double.authorize(query)
    with Counter(lti.app) as launch:
        resp = http.post(target, data=fields, allow_redirects=False, timeout=10)
    return resp.status_code, login.statements, launch.statements


def test_a_returning_volunteers_launch_costs_at_most_six_statements(lti: Lti, redis_prefix: str) -> None:
    _redis_store(lti.app, redis_prefix)
    status, _, first = counted_launch(lti)  # first launch: person, course, enrolment, grade link, roster source
    assert status == 303
    status, login, launch = counted_launch(lti)
    assert status == 303
    assert login == [], "the login reads the registrations from the process and the nonce goes to Redis"
    assert len(launch) <= RETURNING_LAUNCH_STATEMENTS, "\n".join(launch)
    assert len(first) > len(launch)
    # the same for a trainer (not graded: the grade link is only read)
    assert counted_launch(lti, "trainer")[0] == 303
    status, _, launch = counted_launch(lti, "trainer")
    assert status == 303 and len(launch) <= RETURNING_LAUNCH_STATEMENTS, "\n".join(launch)


def test_a_new_volunteer_in_a_known_course(lti: Lti, redis_prefix: str) -> None:
    """A first launch creates the person, the enrolment and the grade-link membership and queues the score: more
    statements, but a bounded number (the figure the README gives)."""
    _redis_store(lti.app, redis_prefix)
    assert counted_launch(lti, "trainer")[0] == 303  # the course and the link exist
    status, _, launch = counted_launch(lti, "volunteer")
    assert status == 303
    assert len(launch) <= 25, "\n".join(launch)


def test_with_the_embedded_state_store_the_state_adds_its_statements(lti: Lti) -> None:
    assert counted_launch(lti)[0] == 303
    status, login, launch = counted_launch(lti)
    assert status == 303
    assert len(login) <= 2, "\n".join(login)  # the registrations' version, the nonce
    assert len(launch) <= RETURNING_LAUNCH_STATEMENTS + EMBEDDED_STATE_STATEMENTS, "\n".join(launch)


def test_a_changed_name_and_course_title_still_arrive(lti: Lti, redis_prefix: str) -> None:
    """The fast path only matches what is stored unchanged; anything else takes the full path."""
    _redis_store(lti.app, redis_prefix)
    assert counted_launch(lti)[0] == 303
    lti.double.context = {**lti.double.context, "title": "Ein neuer Kurstitel"}
    resp = lti.launch_with("volunteer", name="Lena S.", email="lena@example.org")
    assert resp.status_code == 200
    with lti.app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert (user.name, user.email) == ("Lena S.", "lena@example.org")
        from lms.users.models import LmsCourse

        assert db.session.execute(select(LmsCourse.title)).scalar_one() == "Ein neuer Kurstitel"


# -- the registrations kept per process: a change through one process reaches the others at once -----------------


@pytest.fixture
def second_process(lti: Lti, db_uri: str, tmp_path: Path) -> Iterator[Flask]:
    """Another application on the same database (and state store): what a second gunicorn worker or the
    command line is to the serving process."""
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": db_uri,
            "SECRET_KEY": "test-secret",
            "JOBS_SQLITE_PATH": str(tmp_path / "jobs-2.sqlite"),
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("store", ["database", "redis"])
def test_disabling_in_another_process_is_refused_at_once(
    lti: Lti, second_process: Flask, redis_prefix: str, store: str
) -> None:
    if store == "redis":
        _redis_store(lti.app, redis_prefix)
        _redis_store(second_process, redis_prefix)
    assert counted_launch(lti)[0] == 303  # the serving process now keeps the registration
    with second_process.app_context():
        set_platform_enabled(lti.double.issuer, None, False)
        db.session.commit()
    _, resp = lti.login()
    assert resp.status_code == 400 and "platform_disabled" in resp.text
    with second_process.app_context():
        set_platform_enabled(lti.double.issuer, None, True)
        db.session.commit()
    assert counted_launch(lti)[0] == 303
    with second_process.app_context():
        db.session.execute(select(Deployment)).scalar_one().enabled = False
        db.session.commit()
    resp = lti.launch()
    assert resp.status_code == 403 and "deployment_disabled" in resp.text


def test_a_launch_writes_no_new_registrations_version(lti: Lti, redis_prefix: str) -> None:
    """Launches read platforms and deployments but never change them: the processes keep what they loaded."""
    store = _redis_store(lti.app, redis_prefix)
    assert counted_launch(lti)[0] == 303
    version = store.get("platforms:version")
    assert counted_launch(lti)[0] == 303
    assert store.get("platforms:version") == version


def test_adding_a_platform_publishes_its_version_once_after_the_outermost_commit(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    """``platform add`` writes the platform and creates the signing key in a savepoint: the version goes out
    after the outer commit, and on SQLite without waiting for the write lock the transaction still holds."""
    with app.app_context():
        assert get_state_store().get("platforms:version") is None
        moodle = "https://moodle.example.org"
        add_platform(
            issuer=moodle,
            client_id="client-1",
            deployment_id="1",
            auth_login_url=moodle + "/mod/lti/auth.php",
            auth_token_url=moodle + "/mod/lti/token.php",
            key_set_url=moodle + "/mod/lti/certs.php",
            chamber_slug="hwk-a",
        )
        assert get_state_store().get("platforms:version") is None  # not before the commit
        db.session.commit()
        assert get_state_store().get("platforms:version") is not None
    assert "could not publish" not in caplog.text
