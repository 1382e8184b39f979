"""Writes for awards. Services flush; the request (or the job, or the command line) commits.

**The rule** (:func:`award_if_reached`): a tier is awarded once when the person has completed its modules and
attended its live tutorials (``lms.progress.queries.qualification_progress``, the same the volunteer sees). It is
checked after every progress change (the ``progress_changed`` signal), when the volunteer opens the module
overview or the certificates page, and daily for everyone whose attendance changed (attendance is corrected in
the live-sessions domain, which sends no signal). An award, once made, stays: later content changes or attendance
corrections never take it away, and a revoked award is not made again by the rule (a coordinator re-issues it).
"""

from __future__ import annotations

import datetime as dt
import secrets
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record
from lms.certificates.models import AWARD_ID_LENGTH, Award, CertificateName
from lms.core.db import clip, dialect_insert, utcnow
from lms.core.errors import Conflict, Invalid
from lms.core.extensions import db
from lms.core.signals import progress_changed
from lms.courses.content import FRAMEWORK, Course
from lms.courses.setup import current_course
from lms.live_sessions.models import Attendance
from lms.progress import queries as progress_queries
from lms.users.models import User

NAME_MAX = 120
REISSUED = "Neu ausgestellt"
PERSON_DELETED = "Daten der Person gelöscht (Art. 17 DSGVO)"
ATTENDANCE_LOOKBACK = dt.timedelta(days=2)  # the daily scan overlaps a day, so a missed run loses nothing


def new_award_id() -> str:
    award_id = secrets.token_urlsafe(16)
    assert len(award_id) == AWARD_ID_LENGTH
    return award_id


def certificate_name(user: User) -> str | None:
    """The name for a new certificate: what the LMS sent, else what the volunteer typed, else none yet."""
    if user.display_name:
        return clip(user.display_name, Award.display_name)
    typed = db.session.get(CertificateName, user.id)
    return typed.name if typed is not None else None


def award_if_reached(user_id: int, course: Course | None = None) -> list[Award]:
    """Award every tier the person has reached and does not hold yet; returns the new awards. Idempotent and
    safe when two requests run it at once (the second finds the first's award). One query when every tier is
    held, three otherwise."""
    course = course or current_course()
    if not course.qualifications:
        return []
    held = set(db.session.execute(select(Award.tier_id).where(Award.user_id == user_id)).scalars())
    if all(q.id in held for q in course.qualifications):
        return []
    user = db.session.get(User, user_id)
    if user is None:
        return []
    progress = progress_queries.course_progress(user_id, course)
    new = []
    for tier in progress_queries.qualification_progress(user_id, progress, course):
        if tier.qualification.id in held or not tier.achieved:
            continue
        award = _insert(user, tier)
        if award is not None:
            new.append(award)
    if new:
        # the gradebook's course-wide link reports the highest tier (lms.grades listens to this signal); the
        # module id is empty: no module changed
        progress_changed.send(award_if_reached, user_id=user_id, module_id="")
    return new


def _insert(user: User, tier: progress_queries.QualificationProgress) -> Award | None:
    """INSERT … ON CONFLICT DO NOTHING on the current-award index: of two at once, one inserts."""
    modules = [module for module, _done in tier.modules]
    award_id = new_award_id()
    values = {
        "id": award_id,
        "user_id": user.id,
        "chamber_id": user.chamber_id,
        "tier_id": tier.qualification.id,
        "tier_title": clip(tier.qualification.title, Award.tier_title),
        "module_versions": {m.id: m.version for m in modules},
        "details": {
            "description": tier.qualification.description,
            "framework": FRAMEWORK,
            "live_tutorials": tier.qualification.live_tutorials,
            "modules": [
                {
                    "id": m.id,
                    "title": m.title,
                    "version": m.version,
                    "competences": [[c.id, c.level] for c in m.competences],
                }
                for m in modules
            ],
        },
        "tutorials_attended": tier.tutorials_attended,
        "issued_at": utcnow(),
        "recipient_salt": secrets.token_hex(16),
        "display_name": certificate_name(user),
    }
    inserted = db.session.execute(
        dialect_insert()(Award)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["user_id", "tier_id"], index_where=Award.superseded_by.is_(None))
        .returning(Award.id)
    ).scalar_one_or_none()
    return db.session.get(Award, inserted) if inserted is not None else None


def on_progress_changed(sender: object, *, user_id: int, **_: object) -> None:
    """Receiver of ``progress_changed``: check the tiers (not for the signal this module sends itself)."""
    if sender is award_if_reached:
        return
    award_if_reached(user_id)


def check_changed_attendance(now: dt.datetime | None = None) -> int:
    """Check the tiers of everyone whose attendance changed lately (the daily job); returns new awards."""
    since = (now or utcnow()) - ATTENDANCE_LOOKBACK
    people = db.session.execute(
        select(Attendance.user_id).where(Attendance.updated_at >= since).distinct().order_by(Attendance.user_id)
    ).scalars()
    course = current_course()
    return sum(len(award_if_reached(user_id, course)) for user_id in list(people))


# --- the name on the certificate ------------------------------------------------------------------------


def clean_name(raw: str) -> str:
    """A typed name, tidied: spaces collapsed; refused when empty, too long or with control characters."""
    name = " ".join(unicodedata.normalize("NFC", raw or "").split())
    if not name:
        raise Invalid(_("Bitte gib deinen Namen ein."))
    if len(name) > NAME_MAX:
        raise Invalid(_("Der Name ist zu lang (höchstens %(max)s Zeichen).", max=NAME_MAX))
    if any(unicodedata.category(ch)[0] == "C" for ch in name):
        raise Invalid(_("Der Name enthält Zeichen, die nicht gedruckt werden können."))
    return name


def set_typed_name(user: User, raw: str) -> str:
    """Store the name the volunteer typed (once) and put it on their valid certificates that have none."""
    if db.session.get(CertificateName, user.id) is not None:
        raise Conflict(_("Du hast deinen Namen für die Zertifikate schon eingegeben."))
    name = clean_name(raw)
    db.session.add(CertificateName(user_id=user.id, name=name, created_at=utcnow()))
    for award in db.session.execute(
        select(Award).where(
            Award.user_id == user.id,
            Award.display_name.is_(None),
            Award.revoked_at.is_(None),
            Award.superseded_by.is_(None),
        )
    ).scalars():
        award.display_name = name
    db.session.flush()
    return name


def needs_name(user: User) -> bool:
    """Whether the volunteer must type a name before downloading: the LMS sends none and none was typed."""
    return certificate_name(user) is None


# --- coordinators and operators -------------------------------------------------------------------------


def revoke(award: Award, reason: str, *, actor: User | None = None, actor_role: str = "operator") -> Award:
    """Revoke an award with a reason (its verification page then says revoked); logged."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise Invalid(_("Bitte gib einen Grund für den Widerruf an."))
    if award.revoked_at is not None:
        raise Conflict(_("Dieses Zertifikat ist bereits widerrufen."))
    award.revoked_at = utcnow()
    award.revoke_reason = reason[:500]
    db.session.flush()
    record(
        "award_revoked",
        chamber_id=award.chamber_id,
        actor=actor,
        actor_role=actor_role,
        subject_id=award.user_id,
        detail={"award": award.id, "tier": award.tier_id},
    )
    return award


def reissue(award: Award, *, actor: User | None = None, actor_role: str = "operator") -> Award:
    """A new award for the same tier and content with today's date, the person's current name and a new id; the
    old one is revoked and points to it (its verification page says replaced). Logged."""
    if award.superseded_by is not None:
        raise Conflict(_("Dieses Zertifikat wurde bereits ersetzt."))
    user = db.session.get(User, award.user_id) if award.user_id is not None else None
    if user is None:
        raise Conflict(_("Die Person ist nicht mehr gespeichert; das Zertifikat kann nicht neu ausgestellt werden."))
    now = utcnow()
    new = Award(
        id=new_award_id(),
        user_id=user.id,
        chamber_id=award.chamber_id,
        tier_id=award.tier_id,
        tier_title=award.tier_title,
        module_versions=dict(award.module_versions or {}),
        details=dict(award.details or {}),
        tutorials_attended=award.tutorials_attended,
        issued_at=now,
        recipient_salt=secrets.token_hex(16),
        display_name=certificate_name(user),
    )
    award.superseded_by = new.id  # first: one current award per person and tier at every moment
    if award.revoked_at is None:
        award.revoked_at = now
        award.revoke_reason = REISSUED
    db.session.flush()
    db.session.add(new)
    db.session.flush()
    record(
        "award_reissued",
        chamber_id=award.chamber_id,
        actor=actor,
        actor_role=actor_role,
        subject_id=user.id,
        detail={"award": award.id, "new_award": new.id, "tier": award.tier_id},
    )
    progress_changed.send(award_if_reached, user_id=user.id, module_id="")
    return new


def forget_person(user_id: int) -> int:
    """Before a person's data is deleted (lms.personal_data): their awards are revoked and lose the name and the
    salt; the rows stay, so a certificate shown later verifies as revoked, without the person. Returns the
    number of awards."""
    now = utcnow()
    awards = list(db.session.execute(select(Award).where(Award.user_id == user_id)).scalars())
    for award in awards:
        if award.revoked_at is None:
            award.revoked_at = now
            award.revoke_reason = PERSON_DELETED
        award.display_name = None
        award.recipient_salt = None
    db.session.flush()
    return len(awards)
