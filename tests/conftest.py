"""Shared fixtures: a fresh database per test, the tool and the LTI platform double over loopback HTTP.

The database is SQLite by default; set MEDIENWERK_TEST_DATABASE_URI (the test command does, for the
PostgreSQL run) to use another. Tests that drive the app over HTTP need committed data, so every test
gets freshly created tables instead of a rolled-back transaction.
"""

from __future__ import annotations

import html
import os
import re
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


@pytest.fixture
def app(db_uri: str, tmp_path: Path) -> Iterator[Flask]:
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
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.drop_all()
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
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium per test module (see tests/browser.py)."""
    from tests.browser import chromium

    with chromium() as instance:
        yield instance
