"""Fixtures for roster sync: the double's NRPS service and a helper to sync a course."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from flask import Flask
from sqlalchemy import select

from lms.core.extensions import db
from lms.demo.platform_services import Membership, PlatformServices
from lms.grades.clients import StoreTokenCache
from lms.rosters.models import RosterMember
from lms.users.models import LmsCourse
from tests.conftest import Lti


@pytest.fixture(autouse=True)
def _fresh_token_memo() -> Iterator[None]:
    StoreTokenCache.forget()
    yield
    StoreTokenCache.forget()


@dataclass
class Rosters:
    lti: Lti

    @property
    def app(self) -> Flask:
        return self.lti.app

    @property
    def services(self) -> PlatformServices:
        return self.lti.platform.server.app.extensions["platform_services"]  # type: ignore[attr-defined,no-any-return]

    def course_id(self) -> int:
        with self.app.app_context():
            return db.session.execute(select(LmsCourse.id)).scalar_one()

    def sync(self) -> object:
        from lms.rosters.jobs import sync_course

        with self.app.app_context():
            return sync_course(self.course_id())

    def members(self) -> dict[str, RosterMember]:
        with self.app.app_context():
            rows = {m.platform_user_id: m for m in db.session.execute(select(RosterMember)).scalars()}
            db.session.expunge_all()
            return rows

    def add_members(self, count: int, *, prefix: str = "m", roles: tuple[str, ...] = ("Learner",)) -> None:
        self.services.members.extend(
            Membership(f"{prefix}{n:03d}", list(roles), "Active", f"Person {n}", email=f"p{n}@example.org")
            for n in range(count)
        )


@pytest.fixture
def rosters(lti: Lti) -> Rosters:
    return Rosters(lti)
