"""Whose data a launch may read on the coordinators' pages (CONTRACT: Tenancy).

- A chamber's coordinators: every volunteer of their chamber, over all its courses and registrations.
- The central team (a chamber marked central with ``platform add --central``): every chamber.
- Trainers: the volunteers of the courses in which they are enrolled as trainer (read-only views).
- Volunteers: nobody's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true

from lms.core.errors import Forbidden, NotFound
from lms.core.extensions import db
from lms.core.launch_session import LaunchSession
from lms.platforms.models import Chamber
from lms.users.models import Enrollment, User

TRAINER_ROLES = ("trainer", "coordinator")


@dataclass(frozen=True)
class Scope:
    chamber_ids: tuple[int, ...] | None  # None: every chamber (the central team)
    course_ids: tuple[int, ...] | None  # None: every course of those chambers
    role: str  # coordinator | trainer
    central: bool = False

    @property
    def may_manage(self) -> bool:
        """Coordinators act (reminders, exports of everything); trainers only look."""
        return self.role == "coordinator"

    def users_clause(self) -> ColumnElement[bool]:
        """A WHERE clause on User for the volunteers this scope may see."""
        clause: ColumnElement[bool] = true()
        if self.chamber_ids is not None:
            clause = User.chamber_id.in_(self.chamber_ids)
        if self.course_ids is not None:
            enrolled = select(Enrollment.user_id).where(Enrollment.course_id.in_(self.course_ids))
            clause = clause & User.id.in_(enrolled)
        return clause

    def narrowed_to(self, chamber_id: int | None) -> Scope:
        """The same scope, limited to one chamber (the central team drilling in); 404 outside the scope."""
        if chamber_id is None:
            return self
        if self.chamber_ids is not None and chamber_id not in self.chamber_ids:
            raise NotFound()
        return Scope((chamber_id,), self.course_ids, self.role, self.central)


def scope_of(launch: LaunchSession) -> Scope:
    """The scope of a launch; 403 for volunteers."""
    user = launch.user
    if launch.role == "coordinator":
        central = bool(db.session.execute(select(Chamber.is_central).where(Chamber.id == user.chamber_id)).scalar())
        return Scope(None if central else (user.chamber_id,), None, "coordinator", central)
    if launch.role == "trainer":
        courses = tuple(
            db.session.execute(
                select(Enrollment.course_id).where(Enrollment.user_id == user.id, Enrollment.role.in_(TRAINER_ROLES))
            ).scalars()
        )
        return Scope((user.chamber_id,), courses, "trainer")
    raise Forbidden()
