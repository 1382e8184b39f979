"""Fixtures for grade delivery: the double's services, a controllable progress source, helpers that send a
progress change (the real signal when the progress domain exists, else a stand-in) and run deliveries."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms.core.extensions import db
from lms.demo.platform_services import PlatformServices
from lms.grades import services as grade_services
from lms.grades.clients import StoreTokenCache
from lms.grades.models import GradeLink, ScoreOutbox
from lms.users.models import User
from tests.conftest import Lti

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
M1 = "m1-sicher-im-netz"
M2 = "m2-live-beraten-mit-bigbluebutton"


@pytest.fixture(autouse=True)
def _fresh_token_memo() -> Iterator[None]:
    StoreTokenCache.forget()  # a new "process" per test: tokens come from the test's own state store
    yield
    StoreTokenCache.forget()


@dataclass
class Progress:
    """Stands in for the progress domain: percent per (user id, module id)."""

    percent: dict[tuple[int, str], int] = field(default_factory=dict)
    review: set[tuple[int, str]] = field(default_factory=set)
    modules: tuple[str, ...] = (M1, M2)

    def by_module(self, user_id: int) -> dict[str, grade_services.ModuleState]:
        return {
            m: grade_services.ModuleState(self.percent.get((user_id, m), 0), (user_id, m) in self.review)
            for m in self.modules
        }


@pytest.fixture
def progress(monkeypatch: pytest.MonkeyPatch) -> Progress:
    stand_in = Progress()
    monkeypatch.setattr(grade_services, "progress_by_module", stand_in.by_module)
    return stand_in


def progress_signal() -> Any:
    """The progress domain's signal, or a stand-in with our receiver connected (same name and kwargs)."""
    try:
        from lms.core.signals import progress_changed
    except ImportError:
        from blinker import Namespace

        from lms.grades.setup import on_progress_changed

        progress_changed = Namespace().signal("progress-changed")
        progress_changed.connect(on_progress_changed, weak=False)
    return progress_changed


@dataclass
class Grades:
    lti: Lti
    progress: Progress

    @property
    def app(self) -> Flask:
        return self.lti.app

    @property
    def services(self) -> PlatformServices:
        return self.lti.platform.server.app.extensions["platform_services"]  # type: ignore[attr-defined,no-any-return]

    def user_id(self, sub: str = "demo-lena") -> int:
        with self.app.app_context():
            return db.session.execute(select(User.id).where(User.sub == sub)).scalar_one()

    def change(self, user_id: int, module_id: str, percent: int, *, review: bool = False) -> None:
        """A progress change, as the progress domain makes it: in a transaction, signal, commit."""
        self.progress.percent[(user_id, module_id)] = percent
        if review:
            self.progress.review.add((user_id, module_id))
        else:
            self.progress.review.discard((user_id, module_id))
        with self.app.app_context():
            progress_signal().send(self.change, user_id=user_id, module_id=module_id)
            db.session.commit()

    def deliver(self) -> list[grade_services.Outcome]:
        from lms.grades.jobs import deliver_due

        with self.app.app_context():
            outcomes = deliver_due()
            db.session.commit()
            return outcomes

    def rows(self) -> list[ScoreOutbox]:
        with self.app.app_context():
            rows = list(db.session.execute(select(ScoreOutbox).order_by(ScoreOutbox.id)).scalars())
            db.session.expunge_all()
            return rows

    def links(self) -> list[GradeLink]:
        with self.app.app_context():
            links = list(db.session.execute(select(GradeLink).order_by(GradeLink.id)).scalars())
            db.session.expunge_all()
            return links

    def make_due(self) -> None:
        """Pretend the backoff has passed."""
        from sqlalchemy import update

        from lms.core.db import utcnow

        with self.app.app_context():
            db.session.execute(
                update(ScoreOutbox).where(ScoreOutbox.status == "pending").values(next_attempt_at=utcnow())
            )
            db.session.commit()


@pytest.fixture
def grades(lti: Lti, progress: Progress) -> Grades:
    return Grades(lti, progress)


def csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page[:300]
    return found.group(1)


def csrf_for(app: Flask, landing_url: str) -> str:
    """The CSRF token of a launch, for pages that show no form."""
    from lms.core.security import csrf_token, load_launch_session

    token = landing_url.rstrip("/").rsplit("/t/", 1)[1].split("/")[0]
    with app.app_context():
        session = load_launch_session(token)
        assert session is not None
        return csrf_token(session)
