"""Writes for people and courses: what a launch records, coordinator grants."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select, update

from lms.core.db import clip, fits, get_or_create, utcnow
from lms.core.errors import Invalid
from lms.core.extensions import db
from lms.platforms.models import Chamber, Platform
from lms.users.models import Enrollment, LmsCourse, User
from lti.claims import Launch
from lti.roles import Role


class UserError(Invalid):
    """A request about users that cannot be carried out; the message is for the operator."""


@dataclass(frozen=True)
class LaunchRecord:
    user: User
    course_id: int | None
    role: Role
    email_withdrawn: bool = False  # the launch no longer shares (or sends no usable) e-mail the person had


# characters that never belong in a bare address (addr-spec): separators of lists, display names, quoting
_NOT_IN_ADDRESS = frozenset(',;:<>()[]"\\')


def plausible_email(value: str | None) -> bool:
    """Whether an address from outside (an LMS claim) is one plausible bare address that fits its column and
    can go into a mail header: ``local@domain``, a single ``@``, no white space, control characters, list
    separators or quoting. Not a full RFC 5322 check: anything odd is not stored, so it is never mailed."""
    if not value or not fits(value, User.email):
        return False
    if any(ch.isspace() or ch in _NOT_IN_ADDRESS or unicodedata.category(ch)[0] in "CZ" for ch in value):
        return False
    local, at, domain = value.partition("@")
    if not at or not local or "@" in domain:
        return False
    return all(domain.split("."))  # a domain, without empty labels ("a@", "a@.b", "a@b..c", "a@b.")


def effective_role(user: User, launch_role: Role) -> Role:
    """The highest of the platform's role and a coordinator grant."""
    return max(launch_role, Role.COORDINATOR if user.is_coordinator else Role.VOLUNTEER)


def record_launch(launch: Launch, chamber_id: int) -> LaunchRecord:
    """Create or update the user, the course and the user's role in it from a validated launch.

    Everything is looked up within the platform's chamber: the same (issuer, sub) in another chamber is
    another person, and nothing of theirs is read or changed here.

    A returning person costs two statements: one UPDATE of their row (what this launch sent, and the time) that
    only matches while their stored e-mail is the one sent, and one UPDATE of their enrolment that only matches
    while the course's title and label are as sent. Anything else (a first launch, a changed e-mail or course)
    takes the full path.
    """
    now = utcnow()
    person = {
        # store exactly what this launch sent: a withheld field is removed; display text is cut to fit
        "name": clip(launch.user.name, User.name),
        "given_name": clip(launch.user.given_name, User.given_name),
        "family_name": clip(launch.user.family_name, User.family_name),
        "locale": clip(launch.locale, User.locale),
        "last_launch_at": now,
    }
    email = launch.user.email if plausible_email(launch.user.email) else None
    key = (User.chamber_id == chamber_id, User.issuer == launch.issuer, User.sub == launch.user.sub)
    user = db.session.execute(
        update(User)
        .where(*key, User.email.is_not_distinct_from(email))
        .values(**person)
        .returning(User)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    email_withdrawn = False
    if user is None:
        user, _ = get_or_create(
            User, {**person, "email": email}, chamber_id=chamber_id, issuer=launch.issuer, sub=launch.user.sub
        )
        email_withdrawn = user.email is not None and email is None
        for name, value in person.items():
            setattr(user, name, value)
        user.email = email
    role = effective_role(user, launch.role)

    course_id = None
    if launch.context is not None:
        course_id = _touch_enrollment(launch, chamber_id, user.id, role, now)
        if course_id is None:
            shown = {
                "title": clip(launch.context.title, LmsCourse.title),
                "label": clip(launch.context.label, LmsCourse.label),
            }
            course, _ = get_or_create(
                LmsCourse, shown, chamber_id=chamber_id, issuer=launch.issuer, context_id=launch.context.id
            )
            course.title, course.label = shown["title"], shown["label"]
            enrolled = {"role": role.key, "last_launch_at": now}
            enrollment, _ = get_or_create(Enrollment, enrolled, user_id=user.id, course_id=course.id)
            enrollment.role, enrollment.last_launch_at = role.key, now
            course_id = course.id
    if db.session.dirty or db.session.new:
        db.session.flush()
    return LaunchRecord(user=user, course_id=course_id, role=role, email_withdrawn=email_withdrawn)


def _touch_enrollment(launch: Launch, chamber_id: int, user_id: int, role: Role, now: dt.datetime) -> int | None:
    """Record the role and time on the person's enrolment if the course is stored as this launch names it; its id."""
    assert launch.context is not None
    unchanged_course = (
        select(LmsCourse.id)
        .where(
            LmsCourse.chamber_id == chamber_id,
            LmsCourse.issuer == launch.issuer,
            LmsCourse.context_id == launch.context.id,
            LmsCourse.title.is_not_distinct_from(clip(launch.context.title, LmsCourse.title)),
            LmsCourse.label.is_not_distinct_from(clip(launch.context.label, LmsCourse.label)),
        )
        .scalar_subquery()
    )
    course_id: int | None = db.session.execute(
        update(Enrollment)
        .where(Enrollment.user_id == user_id, Enrollment.course_id == unchanged_course)
        .values(role=role.key, last_launch_at=now)
        .returning(Enrollment.course_id)
        .execution_options(synchronize_session=False)
    ).scalar_one_or_none()
    return course_id


def _chamber_for_grant(issuer: str, chamber_slug: str | None) -> Chamber:
    """The chamber a grant applies to: the issuer's only one, or the one named (which must hold the issuer)."""
    chambers = list(
        db.session.execute(
            select(Chamber)
            .join(Platform, Platform.chamber_id == Chamber.id)
            .where(Platform.issuer == issuer)
            .distinct()
            .order_by(Chamber.slug)
        ).scalars()
    )
    if not chambers:
        raise UserError(f"no registration for issuer {issuer!r}")
    if chamber_slug is not None:
        chosen = next((c for c in chambers if c.slug == chamber_slug), None)
        if chosen is None:
            slugs = ", ".join(c.slug for c in chambers)
            raise UserError(f"issuer {issuer!r} is not registered in chamber {chamber_slug!r} (it is in: {slugs})")
        return chosen
    if len(chambers) > 1:
        slugs = ", ".join(c.slug for c in chambers)
        raise UserError(f"issuer {issuer!r} belongs to several chambers ({slugs}); say which with --chamber")
    return chambers[0]


def find_user_for_grant(
    issuer: str, sub: str | None, email: str | None, *, create: bool, chamber_slug: str | None = None
) -> User:
    if bool(sub) == bool(email):
        raise UserError("give either --sub or --email")
    chamber = _chamber_for_grant(issuer, chamber_slug)
    in_chamber = (User.chamber_id == chamber.id, User.issuer == issuer)
    if sub:
        user = db.session.execute(select(User).where(*in_chamber, User.sub == sub)).scalar_one_or_none()
        if user is None:
            if not create:
                raise UserError("no such user in this chamber")
            # granted in advance: the role applies from the person's first launch
            user = User(issuer=issuer, sub=sub, chamber_id=chamber.id)
            db.session.add(user)
        return user
    users = list(db.session.execute(select(User).where(*in_chamber, User.email == email)).scalars())
    if not users:
        raise UserError(
            "no user with this e-mail has launched the tool from this platform yet "
            "(or the platform does not share e-mails); use --sub instead, which also works in advance"
        )
    if len(users) > 1:
        raise UserError("several users have this e-mail; use --sub instead")
    return users[0]


def set_coordinator(
    issuer: str, sub: str | None, email: str | None, granted: bool, *, chamber_slug: str | None = None
) -> User:
    user = find_user_for_grant(issuer, sub, email, create=granted, chamber_slug=chamber_slug)
    user.is_coordinator = granted
    db.session.flush()
    return user
