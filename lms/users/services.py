"""Writes for people and courses: what a launch records, coordinator grants."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from lms.db import utcnow
from lms.extensions import db
from lms.platforms.models import Platform
from lms.users.models import Course, Enrollment, User
from lti.claims import Launch
from lti.roles import Role


class UserError(ValueError):
    """A request about users that cannot be carried out; the message is for the operator."""


@dataclass(frozen=True)
class LaunchRecord:
    user: User
    course: Course | None
    role: Role


def effective_role(user: User, launch_role: Role) -> Role:
    """The highest of the platform's role and a coordinator grant."""
    return max(launch_role, Role.COORDINATOR if user.is_coordinator else Role.VOLUNTEER)


def record_launch(launch: Launch, platform: Platform) -> LaunchRecord:
    """Create or update the user, the course and the user's role in it from a validated launch."""
    now = utcnow()
    user = db.session.execute(
        select(User).where(User.issuer == launch.issuer, User.sub == launch.user.sub)
    ).scalar_one_or_none()
    if user is None:
        user = User(issuer=launch.issuer, sub=launch.user.sub, chamber_id=platform.chamber_id)
        db.session.add(user)
    user.chamber_id = platform.chamber_id
    # store exactly what this launch sent: a withheld field is removed
    user.name = launch.user.name
    user.given_name = launch.user.given_name
    user.family_name = launch.user.family_name
    user.email = launch.user.email
    user.locale = launch.locale
    user.last_launch_at = now
    role = effective_role(user, launch.role)

    course = None
    if launch.context is not None:
        course = db.session.execute(
            select(Course).where(Course.issuer == launch.issuer, Course.context_id == launch.context.id)
        ).scalar_one_or_none()
        if course is None:
            course = Course(issuer=launch.issuer, context_id=launch.context.id, chamber_id=platform.chamber_id)
            db.session.add(course)
        course.title = launch.context.title
        course.label = launch.context.label
        course.chamber_id = platform.chamber_id
        db.session.flush()
        enrollment = db.session.execute(
            select(Enrollment).where(Enrollment.user_id == user.id, Enrollment.course_id == course.id)
        ).scalar_one_or_none()
        if enrollment is None:
            enrollment = Enrollment(user=user, course=course, role=role.key)
            db.session.add(enrollment)
        enrollment.role = role.key
        enrollment.last_launch_at = now
    db.session.flush()
    return LaunchRecord(user=user, course=course, role=role)


def _platforms_of(issuer: str) -> list[Platform]:
    return list(db.session.execute(select(Platform).where(Platform.issuer == issuer)).scalars())


def find_user_for_grant(issuer: str, sub: str | None, email: str | None, *, create: bool) -> User:
    if bool(sub) == bool(email):
        raise UserError("give either --sub or --email")
    platforms = _platforms_of(issuer)
    if not platforms:
        raise UserError(f"no registration for issuer {issuer!r}")
    if sub:
        user = db.session.execute(
            select(User).where(User.issuer == issuer, User.sub == sub)
        ).scalar_one_or_none()
        if user is None:
            if not create:
                raise UserError("no such user")
            chambers = {p.chamber_id for p in platforms}
            if len(chambers) > 1:
                raise UserError("this issuer belongs to several chambers; the user must launch the tool once first")
            user = User(issuer=issuer, sub=sub, chamber_id=chambers.pop())
            db.session.add(user)
        return user
    users = list(
        db.session.execute(select(User).where(User.issuer == issuer, User.email == email)).scalars()
    )
    if not users:
        raise UserError(
            "no user with this e-mail has launched the tool from this platform yet "
            "(or the platform does not share e-mails); use --sub instead"
        )
    if len(users) > 1:
        raise UserError("several users have this e-mail; use --sub instead")
    return users[0]


def set_coordinator(issuer: str, sub: str | None, email: str | None, granted: bool) -> User:
    user = find_user_for_grant(issuer, sub, email, create=granted)
    user.is_coordinator = granted
    db.session.flush()
    return user
