"""Shared fixtures: an empty database per test, the tool and the LTI platform double over loopback HTTP.

The database is SQLite by default; set MEDIENWERK_TEST_DATABASE_URI (the test command does, for the
PostgreSQL run) to use another. Tests that drive the app over HTTP need committed data, so a rolled-back
transaction per test would not do. Instead the tables are created once per test process: on SQLite each
test gets a copy of a template file with every table; on PostgreSQL each test process has a schema of its
own whose rows (and sequences) are emptied before each test.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from lms import create_app
from lms.core.extensions import db
from lms.demo.platform import PlatformDouble, create_platform_app, register_double

POSTGRES = os.environ.get("MEDIENWERK_TEST_DATABASE_URI", "").startswith("postgresql")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass runs what can turn out differently there: the tests that reach the database through
    ``db_uri`` (every app, launch and command fixture builds on it) or are marked ``database``. The others (the
    command line's help, the wheel install, the content checker, pure functions) ran in the SQLite pass."""
    if not POSTGRES:
        return
    keep, same = [], []
    for item in items:
        names = getattr(item, "fixturenames", ())
        uses_database = "db_uri" in names or "postgres_schema_uri" in names or item.get_closest_marker("database")
        (keep if uses_database else same).append(item)
    if same:
        config.hook.pytest_deselected(items=same)
        items[:] = keep


@pytest.fixture(scope="session")
def postgres_schema_uri() -> Iterator[str | None]:
    """On PostgreSQL, a schema of this test run's own, so concurrent runs on one database don't collide."""
    base = os.environ.get("MEDIENWERK_TEST_DATABASE_URI", "")
    if not base.startswith("postgresql"):
        yield None
        return
    import uuid

    import sqlalchemy

    schema = f"t_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(base)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture
def db_uri(tmp_path: Path, postgres_schema_uri: str | None) -> str:
    return postgres_schema_uri or f"sqlite:///{tmp_path / 'test.sqlite'}"


class _KeyPool:
    """RSA private keys made once per test process and handed out in turn.

    Generating a 2048-bit key costs 50-200 ms, and most tests make two (the tool's and the platform
    double's). A key comes round again only after ``SIZE`` others, so the keys that live together in one
    test's database (or in a module-wide one) are always different, and rotation stays observable.
    """

    SIZE = 64

    def __init__(self) -> None:
        self.keys: dict[tuple[int, int], list[Any]] = {}
        self.turn: dict[tuple[int, int], int] = {}

    def generate_private_key(self, public_exponent: int, key_size: int, backend: Any = None) -> Any:
        from cryptography.hazmat.primitives.asymmetric import rsa

        kind = (public_exponent, key_size)
        pool = self.keys.setdefault(kind, [])
        n = self.turn.get(kind, 0)
        self.turn[kind] = (n + 1) % self.SIZE
        if n == len(pool):
            pool.append(rsa.generate_private_key(public_exponent=public_exponent, key_size=key_size))
        return pool[n]


_KEYS = _KeyPool()


@pytest.fixture(autouse=True)
def _pooled_rsa_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    import lti.keys

    monkeypatch.setattr(lti.keys, "rsa", _KEYS)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file with every table and no rows, made once per test process and copied for each test."""
    path = tmp_path_factory.mktemp("template") / "empty.sqlite"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "template"})
    with app.app_context():
        db.create_all()
        db.session.commit()
        db.engine.dispose()
    return path


def _empty_postgres_schema() -> None:
    """Every table of the models, without rows and with fresh sequences (as after ``create_all``).

    DELETE in reverse dependency order is much faster than TRUNCATE or dropping and creating ~40 tables.
    A test that dropped tables itself (the migration tests) leaves them to be created again.
    """
    from sqlalchemy import inspect, text

    with db.engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    tables = db.metadata.sorted_tables
    if not {table.name for table in tables} <= present:
        db.drop_all()
        db.create_all()
        return
    with db.engine.begin() as conn:
        for table in reversed(tables):
            conn.execute(table.delete())
        conn.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'S' AND n.nspname = current_schema()"
            )
        )


@pytest.fixture
def app(db_uri: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    if not POSTGRES:
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "test.sqlite")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": db_uri,
            "SECRET_KEY": "test-secret",
            "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite"),
            # the doubles answer on loopback; tests of the URL policy itself use a stub resolver instead
            "ALLOWED_PRIVATE_HOSTS": ("127.0.0.1",),
        }
    )
    if POSTGRES:
        with app.app_context():
            _empty_postgres_schema()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


class LiveServer:
    def __init__(self, wsgi: Any) -> None:
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        # a short poll interval: shutdown() returns quickly at the end of each test
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.01,), daemon=True)

    def start(self) -> LiveServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve a WSGI app on 127.0.0.1 (random port) for the block; yield its root URL."""
    server = LiveServer(app).start()
    try:
        yield server.url
    finally:
        server.stop()


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    """The action and hidden fields of the first form on a page (an auto-posting LTI form)."""
    action = re.search(r'<form[^>]*action="([^"]*)"', page)
    assert action, page[:500]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page))
    return html.unescape(action.group(1)), {k: html.unescape(v) for k, v in fields.items()}


def page_text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


# what the error page says for a refusal (lms/core/errors.py), in German
REFUSALS = {
    401: "Deine Sitzung ist abgelaufen.",
    403: "Dafür hast du keine Berechtigung.",
    404: "Diese Seite gibt es nicht.",
}


def assert_refused(resp: requests.Response, status: int) -> None:
    """The person gets the readable error page for this refusal, with its status."""
    text = page_text(resp.text)
    assert resp.status_code == status, (resp.status_code, text[:300])
    assert REFUSALS[status] in text, text[:300]


@dataclass
class Lti:
    """Drives launches from the platform double to the tool, like a browser would."""

    tool: LiveServer
    platform: LiveServer
    double: PlatformDouble
    app: Flask

    def login(
        self, persona: str = "volunteer", method: str = "GET", **params: Any
    ) -> tuple[requests.Session, requests.Response]:
        session = requests.Session()
        data = {**self.double.login_params(persona), **params}
        data = {k: v for k, v in data.items() if v is not None}
        if method == "GET":
            resp = session.get(self.tool.url + "/lti/login", params=data, allow_redirects=False, timeout=10)
        else:
            resp = session.post(self.tool.url + "/lti/login", data=data, allow_redirects=False, timeout=10)
        return session, resp

    def auth_request(self, persona: str = "volunteer", method: str = "GET") -> tuple[requests.Session, dict[str, str]]:
        """Start a login and return the OIDC authentication request the tool sent to the platform."""
        session, resp = self.login(persona, method)
        assert resp.status_code == 302, resp.text[:500]
        location = resp.headers["Location"]
        assert location.startswith(self.double.auth_login_url)
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        return session, query

    def launch(self, persona: str = "volunteer", method: str = "GET") -> requests.Response:
        """A full, valid launch: login → platform auth → id_token POST → the tool's landing page."""
        session, query = self.auth_request(persona, method)
        auth = session.get(self.double.auth_login_url, params=query, timeout=10)
        assert auth.status_code == 200, auth.text[:300]
        action, fields = form_fields(auth.text)
        return session.post(action, data=fields, timeout=10)

    def launch_with(
        self,
        persona: str = "volunteer",
        *,
        headers: dict[str, Any] | None = None,
        token: str | None = None,
        state: str | None = None,
        **overrides: Any,
    ) -> requests.Response:
        """A launch whose id_token the test shapes itself (same login, nonce and state as a real one)."""
        session, query = self.auth_request(persona)
        claims = self.double.claims(persona, query["nonce"], **overrides)
        id_token = token if token is not None else self.double.sign(claims, headers=headers)
        return session.post(
            self.tool.url + "/lti/launch",
            data={"id_token": id_token, "state": state if state is not None else query["state"]},
            timeout=10,
        )


def platform_double_for(tool: LiveServer) -> tuple[PlatformDouble, LiveServer]:
    """An LTI platform double on its own loopback port, pointed at the tool (not started, not registered)."""
    double = PlatformDouble(issuer="http://placeholder")
    platform = LiveServer(create_platform_app(double))
    double.issuer = platform.url
    double.tool_login_url = tool.url + "/lti/login"
    double.tool_launch_url = tool.url + "/lti/launch"
    return double, platform


def register(app: Flask, double: PlatformDouble, *, name: str, chamber_slug: str) -> None:
    with app.app_context():
        register_double(double, name=name, chamber_slug=chamber_slug)
        db.session.commit()


@pytest.fixture
def lti(app: Flask) -> Iterator[Lti]:
    tool = LiveServer(app)
    double, platform = platform_double_for(tool)
    register(app, double, name="Test-LMS", chamber_slug="hwk-test")
    tool.start()
    platform.start()
    yield Lti(tool=tool, platform=platform, double=double, app=app)
    tool.stop()
    platform.stop()


@pytest.fixture
def second_lms(lti: Lti) -> Iterator[Lti]:
    """Another LMS, registered for another chamber (hwk-zwei), launching the same tool."""
    double, platform = platform_double_for(lti.tool)
    register(lti.app, double, name="Zweites LMS", chamber_slug="hwk-zwei")
    platform.start()
    yield Lti(tool=lti.tool, platform=platform, double=double, app=lti.app)
    platform.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium per test module (see tests/browser.py)."""
    from tests.browser import chromium

    with chromium() as instance:
        yield instance
