"""Fixtures for live tutorials: the BBB double on a loopback port, the tool on another, people with launch
tokens made directly in the database (fast), and helpers that post forms with their CSRF token."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from flask import Flask

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.demo.bbb_double import BBBDouble, create_bbb_double
from tests.conftest import LiveServer

BBB_SECRET = "live-test-secret-4f1c9a0e7b2d48d6a1f3"


@dataclass
class Bbb:
    url: str
    double: BBBDouble
    server: LiveServer


@pytest.fixture
def bbb() -> Iterator[Bbb]:
    double_app = create_bbb_double(BBB_SECRET, "sha256")
    server = LiveServer(double_app).start()
    yield Bbb(url=server.url + "/bigbluebutton/", double=double_app.extensions["bbb_double"], server=server)
    double_app.extensions["bbb_double"].release_hangs()
    server.stop()


@dataclass
class Person:
    env: LiveEnv
    user_id: int
    token: str
    csrf: str
    http: requests.Session = field(default_factory=requests.Session)

    @property
    def base(self) -> str:
        return f"{self.env.tool.url}/t/{self.token}/live"

    def get(self, path: str = "/", **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 20)
        return self.http.get(self.base + path, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 20)
        body = {"csrf_token": self.csrf, **(data or {})}
        return self.http.post(self.base + path, data=body, **kwargs)


@dataclass
class LiveEnv:
    app: Flask
    tool: LiveServer
    bbb: Bbb
    chamber_id: int
    platform_id: int
    course_id: int
    _n: int = 0

    @property
    def double(self) -> BBBDouble:
        return self.bbb.double

    def person(
        self,
        role: str = "volunteer",
        *,
        name: str | None = "Vera Volunteer",
        email: str | None = "auto",
        course_id: int | None | str = "default",
        chamber_id: int | None = None,
    ) -> Person:
        from lms.core.security import create_launch_session, csrf_token
        from lms.users.models import Enrollment, User

        self._n += 1
        with self.app.app_context():
            user = User(
                issuer="https://lms.test",
                sub=f"{role}-{self._n}",
                chamber_id=chamber_id or self.chamber_id,
                name=name,
                email=(f"person{self._n}@example.org" if email == "auto" else email),
            )
            db.session.add(user)
            db.session.flush()
            course = self.course_id if course_id == "default" else course_id
            if course is not None:
                db.session.add(Enrollment(user_id=user.id, course_id=course, role=role))
            session, token = create_launch_session(
                user_id=user.id, course_id=course, platform_id=self.platform_id, deployment_id="1", role=role
            )
            csrf = csrf_token(session)
            db.session.commit()
            return Person(self, user.id, token, csrf)

    def schedule(self, trainer: Person, *, starts_in: dt.timedelta = dt.timedelta(minutes=5), **fields: Any) -> int:
        """Schedule through the form; returns the new session's id."""
        from lms.live_sessions.timeutil import utc_to_local

        start = utc_to_local(utcnow() + starts_in, "Europe/Berlin")
        data = {
            "title": "Sicher im Netz – live",
            "date": start.date().isoformat(),
            "time": f"{start:%H:%M}",
            "tz": "Europe/Berlin",
            "duration": "60",
            "audience": "course",
            "early_entry": "15",
            "mute_on_start": "1",
            "weeks": "1",
        }
        data.update({k: v for k, v in fields.items() if v is not None})
        for key in [k for k, v in fields.items() if v is None]:
            data.pop(key, None)
        resp = trainer.post("/new", data, allow_redirects=False)
        assert resp.status_code == 303, resp.text[:2000]
        found = re.search(r"/live/(\d+)", resp.headers["Location"])
        assert found
        return int(found.group(1))

    def mails(self, category: str | None = None) -> list[Any]:
        from sqlalchemy import select

        from lms.mail.models import OutboxMail

        with self.app.app_context():
            stmt = select(OutboxMail).order_by(OutboxMail.id)
            if category:
                stmt = stmt.where(OutboxMail.category == category)
            rows = list(db.session.execute(stmt).scalars())
            db.session.expunge_all()
            return rows

    def session(self, session_id: int) -> Any:
        from lms.live_sessions.models import LiveSession

        with self.app.app_context():
            live = db.session.get(LiveSession, session_id)
            db.session.expunge_all()
            return live


@pytest.fixture
def live(app: Flask, bbb: Bbb) -> Iterator[LiveEnv]:
    from lms.core.jobs import jobs
    from lms.platforms.models import Chamber, Platform
    from lms.users.models import LmsCourse

    app.config.update(BBB_URL=bbb.url, BBB_SECRET=BBB_SECRET, BBB_CHECKSUM="sha256", BBB_TIMEOUT=3.0)
    assert jobs.huey is not None
    jobs.huey.immediate = True  # jobs enqueued by callbacks run at once
    with app.app_context():
        chamber = Chamber(slug="hwk-live", name="HWK Live")
        db.session.add(chamber)
        db.session.flush()
        platform = Platform(
            chamber_id=chamber.id,
            name="LMS",
            issuer="https://lms.test",
            client_id="c1",
            auth_login_url="https://lms.test/auth",
            auth_token_url="https://lms.test/token",
            key_set_url="https://lms.test/jwks",
        )
        course = LmsCourse(chamber_id=chamber.id, issuer="https://lms.test", context_id="course-1", title="Kurs")
        db.session.add_all([platform, course])
        db.session.commit()
        ids = (chamber.id, platform.id, course.id)
    tool = LiveServer(app).start()
    yield LiveEnv(app, tool, bbb, *ids)
    tool.stop()
