"""Two chambers with everything a page can name by id: courses, people of each role, live tutorials with
signups, attendance and recordings, hand-ins and grade deliveries — built directly in the database (fast), with
launch sessions for the test client (no loopback HTTP)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from lms.core.db import utcnow
from lms.core.extensions import db
from tests.progress.helpers import M2


@dataclass
class Actor:
    """A launched person: a page URL is ``/t/<token>/…``; POSTs carry ``csrf``."""

    role: str
    user_id: int
    course_id: int
    token: str
    csrf: str

    def url(self, path: str) -> str:
        return f"/t/{self.token}/{path.lstrip('/')}"


@dataclass
class CourseData:
    """What one course holds: a volunteer enrolled only here, and objects of that course."""

    course_id: int
    volunteer_id: int
    trainer_id: int
    session_id: int
    recording_id: int
    submission_id: int
    outbox_id: int
    chamber_id: int = 0

    def ids(self) -> dict[str, int]:
        """Values for the id parameters of the routes, by parameter name."""
        return {
            "chamber_id": self.chamber_id,
            "user_id": self.volunteer_id,
            "session_id": self.session_id,
            "recording_id": self.recording_id,
            "submission_id": self.submission_id,
            "outbox_id": self.outbox_id,
        }


@dataclass
class Tenant:
    chamber_id: int
    platform_id: int
    courses: list[CourseData]
    actors: dict[str, Actor] = field(default_factory=dict)  # volunteer, trainer, coordinator of courses[0]


@dataclass
class World:
    app: Flask
    client: FlaskClient
    a: Tenant
    b: Tenant


def _person(chamber_id: int, issuer: str, sub: str, name: str) -> int:
    from lms.users.models import User

    user = User(chamber_id=chamber_id, issuer=issuer, sub=sub, name=name, email=f"{sub}@example.org")
    db.session.add(user)
    db.session.flush()
    return int(user.id)


def _course(tenant_slug: str, chamber_id: int, platform_id: int, issuer: str, n: int) -> CourseData:
    from lms.courses.setup import current_course
    from lms.grades.models import GradeLink, ScoreOutbox
    from lms.live_sessions.models import Attendance, LiveSession, Recording, Signup
    from lms.progress import services
    from lms.users.models import Enrollment, LmsCourse

    course = LmsCourse(chamber_id=chamber_id, issuer=issuer, context_id=f"{tenant_slug}-course-{n}", title=f"Kurs {n}")
    db.session.add(course)
    db.session.flush()
    volunteer = _person(chamber_id, issuer, f"{tenant_slug}-volunteer-{n}", f"Vera {tenant_slug.upper()}{n}")
    trainer = _person(chamber_id, issuer, f"{tenant_slug}-trainer-{n}", f"Tom {tenant_slug.upper()}{n}")
    db.session.add_all(
        [
            Enrollment(user_id=volunteer, course_id=course.id, role="volunteer"),
            Enrollment(user_id=trainer, course_id=course.id, role="trainer"),
        ]
    )
    live = LiveSession(
        chamber_id=chamber_id,
        course_id=course.id,
        created_by_id=trainer,
        title=f"Live {tenant_slug} {n}",
        starts_at=utcnow() + dt.timedelta(days=2),
        timezone="Europe/Berlin",
        duration_minutes=60,
        audience="course",
        record=True,
        meeting_id=secrets.token_hex(16),
        callback_token=secrets.token_urlsafe(24),
    )
    db.session.add(live)
    db.session.flush()
    recording = Recording(
        session_id=live.id,
        record_id=secrets.token_hex(20),
        state="published",
        playback_url="https://bbb.example.org/playback/1",
        length_minutes=55,
    )
    db.session.add_all(
        [
            recording,
            Signup(session_id=live.id, user_id=volunteer, status="confirmed"),
            Attendance(session_id=live.id, user_id=volunteer, minutes=50, attended=True),
        ]
    )
    module = current_course().module(M2)
    assert module is not None and module.task is not None
    submission = services.submit_task(volunteer, module, module.task, services.HandIn(text=f"Abgabe {tenant_slug}{n}"))
    link = GradeLink(
        platform_id=platform_id,
        course_id=course.id,
        deployment_id="1",
        resource_link_id=f"rl-{n}",
        title="medienwerk",
        scopes=[],
    )
    db.session.add(link)
    db.session.flush()
    outbox = ScoreOutbox(
        link_id=link.id,
        user_id=volunteer,
        platform_user_id=f"{tenant_slug}-volunteer-{n}",
        score_given=50.0,
        activity_progress="InProgress",
        grading_progress="Pending",
        scored_at=utcnow(),
        status="failed",
    )
    db.session.add_all([outbox])
    db.session.flush()
    return CourseData(
        int(course.id),
        volunteer,
        trainer,
        int(live.id),
        int(recording.id),
        int(submission.id),
        int(outbox.id),
        chamber_id=chamber_id,
    )


def build_tenant(slug: str) -> Tenant:
    from lms.core.security import create_launch_session, csrf_token
    from lms.platforms.models import Chamber, Deployment, Platform
    from lms.users.models import Enrollment

    issuer = f"https://lms-{slug}.example.org"
    chamber = Chamber(slug=f"hwk-{slug}", name=f"HWK {slug.upper()}")
    db.session.add(chamber)
    db.session.flush()
    platform = Platform(
        chamber_id=chamber.id,
        name=f"LMS {slug}",
        issuer=issuer,
        client_id=f"client-{slug}",
        auth_login_url=f"{issuer}/auth",
        auth_token_url=f"{issuer}/token",
        key_set_url=f"{issuer}/jwks",
    )
    db.session.add(platform)
    db.session.flush()
    db.session.add(Deployment(platform_id=platform.id, deployment_id="1"))
    courses = [_course(slug, chamber.id, platform.id, issuer, n) for n in (1, 2)]
    tenant = Tenant(int(chamber.id), int(platform.id), courses)
    first = courses[0]
    coordinator = _person(chamber.id, issuer, f"{slug}-coordinator", f"Cora {slug.upper()}")
    db.session.add(Enrollment(user_id=coordinator, course_id=first.course_id, role="coordinator"))
    for role, user_id in (
        ("volunteer", first.volunteer_id),
        ("trainer", first.trainer_id),
        ("coordinator", coordinator),
    ):
        session, token = create_launch_session(
            user_id=user_id, course_id=first.course_id, platform_id=platform.id, deployment_id="1", role=role
        )
        tenant.actors[role] = Actor(role, user_id, first.course_id, token, csrf_token(session))
    return tenant


@pytest.fixture
def make_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``make_app(db_uri, **config)``: a tool app of its own (another Redis, other limits); its connections
    are closed at the end of the test, so no connection outlives it."""
    from lms import create_app

    apps: list[Flask] = []

    def make(db_uri: str, **config: Any) -> Flask:
        folder = tmp_path_factory.mktemp("app")
        app = create_app(
            {
                "TESTING": True,
                "SQLALCHEMY_DATABASE_URI": db_uri,
                "SECRET_KEY": "test-secret",
                "JOBS_SQLITE_PATH": str(folder / "jobs.sqlite"),
                **config,
            }
        )
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def build_world(app: Flask) -> World:
    with app.test_request_context():
        a, b = build_tenant("a"), build_tenant("b")
        db.session.commit()
    return World(app, app.test_client(), a, b)


@pytest.fixture
def world(app: Flask) -> World:
    return build_world(app)


@pytest.fixture(scope="module")
def module_world(tmp_path_factory: pytest.TempPathFactory, postgres_schema_uri: str | None) -> Iterator[World]:
    """One world for a whole module of read-mostly tests (the route walk): built once, dropped at the end."""
    from lms import create_app

    folder = tmp_path_factory.mktemp("world")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": postgres_schema_uri or f"sqlite:///{folder / 'world.sqlite'}",
            "SECRET_KEY": "test-secret",
            "JOBS_SQLITE_PATH": str(folder / "jobs.sqlite"),
        }
    )
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.commit()
    yield build_world(app)
    with app.app_context():
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def post_data(actor: Actor, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"csrf_token": actor.csrf, **(extra or {})}
