"""Reads for awards, returning dataclasses: a volunteer's certificates, the public verification, the coordinators'
list and the gradebook's question "has the volunteer reached the highest tier?"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select, true

from lms.certificates.models import Award
from lms.core.extensions import db
from lms.core.paging import Page, paginate
from lms.courses.content import DIGCOMP_22, Course
from lms.courses.setup import current_course
from lms.platforms.models import Chamber
from lms.users.models import User
from lms.users.scope import Scope

VALID = "valid"
REVOKED = "revoked"
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class CompetenceLine:
    id: str  # DigComp 2.2 competence, e.g. "4.1"
    label: str
    level: int


@dataclass(frozen=True)
class ModuleLine:
    id: str
    title: str
    version: str
    competences: tuple[CompetenceLine, ...]


@dataclass(frozen=True)
class Certificate:
    """Everything a certificate and its credential show, as recorded when the tier was reached."""

    id: str
    state: str  # valid | revoked | superseded
    tier_id: str
    tier_title: str
    description: str
    modules: tuple[ModuleLine, ...]
    tutorials_attended: int
    tutorials_required: int  # the tier's requirement on the day
    issued_at: dt.datetime
    chamber_id: int
    chamber_slug: str
    chamber_name: str
    name: str | None
    user_id: int | None
    revoked_at: dt.datetime | None
    superseded_by: str | None

    @property
    def competences(self) -> tuple[CompetenceLine, ...]:
        return competences_of(self.modules)


def competences_of(modules: tuple[ModuleLine, ...]) -> tuple[CompetenceLine, ...]:
    """Every competence of the modules once, with the highest level any module aims at, in DigComp order."""
    best: dict[str, CompetenceLine] = {}
    for module in modules:
        for c in module.competences:
            if c.id not in best or c.level > best[c.id].level:
                best[c.id] = c
    return tuple(sorted(best.values(), key=lambda c: tuple(int(p) for p in c.id.split(".") if p.isdigit())))


def module_lines(course: Course, module_ids: tuple[str, ...]) -> tuple[ModuleLine, ...]:
    """The served modules of a tier as the certificate lists them (for the tier's public Achievement)."""
    return tuple(
        ModuleLine(m.id, m.title, m.version, tuple(CompetenceLine(c.id, c.label, c.level) for c in m.competences))
        for module_id in module_ids
        if (m := course.module(module_id)) is not None
    )


def _certificate(award: Award, chamber: Chamber) -> Certificate:
    details = award.details or {}
    modules = tuple(
        ModuleLine(
            str(m.get("id", "")),
            str(m.get("title", "")),
            str(m.get("version") or award.module_versions.get(str(m.get("id", "")), "")),
            tuple(
                CompetenceLine(str(c), DIGCOMP_22.get(str(c), str(c)), int(level))
                for c, level in m.get("competences", [])
            ),
        )
        for m in details.get("modules", [])
    )
    return Certificate(
        id=award.id,
        state=award.state,
        tier_id=award.tier_id,
        tier_title=award.tier_title,
        description=str(details.get("description", "")),
        modules=modules,
        tutorials_attended=award.tutorials_attended,
        tutorials_required=int(details.get("live_tutorials", award.tutorials_attended)),
        issued_at=award.issued_at,
        chamber_id=chamber.id,
        chamber_slug=chamber.slug,
        chamber_name=chamber.name,
        name=award.display_name,
        user_id=award.user_id,
        revoked_at=award.revoked_at,
        superseded_by=award.superseded_by,
    )


def certificate(award_id: str) -> Certificate | None:
    """One award by its public id, for the verification page (one query)."""
    if not award_id or len(award_id) > 64:
        return None
    row = db.session.execute(
        select(Award, Chamber).join(Chamber, Chamber.id == Award.chamber_id).where(Award.id == award_id)
    ).first()
    return None if row is None else _certificate(row[0], row[1])


def certificates_of(user_id: int) -> list[Certificate]:
    """The person's current awards (valid or revoked; not the replaced ones), in the order of the tiers."""
    rows = db.session.execute(
        select(Award, Chamber)
        .join(Chamber, Chamber.id == Award.chamber_id)
        .where(Award.user_id == user_id, Award.superseded_by.is_(None))
        .order_by(Award.issued_at, Award.id)
    ).all()
    return [_certificate(award, chamber) for award, chamber in rows]


def own_certificate(user_id: int, award_id: str) -> Certificate | None:
    """The person's own valid award (downloads), else None."""
    found = certificate(award_id)
    if found is None or found.user_id != user_id or found.state != VALID:
        return None
    return found


def holds_highest_tier(user_id: int, course: Course | None = None) -> bool:
    """Whether the person holds a valid award of the course's highest (last) tier (one query; none without
    tiers). The LMS gradebook shows the course as completed then (lms.grades)."""
    course = course or current_course()
    if not course.qualifications:
        return False
    highest = course.qualifications[-1].id
    return bool(
        db.session.execute(
            select(
                exists().where(
                    Award.user_id == user_id,
                    Award.tier_id == highest,
                    Award.superseded_by.is_(None),
                    Award.revoked_at.is_(None),
                )
            )
        ).scalar_one()
    )


# --- the coordinators' list -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AwardRow:
    id: str
    state: str
    tier_id: str
    tier_title: str
    issued_at: dt.datetime
    revoked_at: dt.datetime | None
    name: str | None
    user_id: int | None
    chamber_name: str


def _in_scope(scope: Scope) -> ColumnElement[bool]:
    """Awards the scope may see: its chambers' (all for the central team); trainers only their courses'."""
    clause: ColumnElement[bool] = true()
    if scope.chamber_ids is not None:
        clause = Award.chamber_id.in_(scope.chamber_ids)
    if scope.course_ids is not None:
        clause = clause & Award.user_id.in_(select(User.id).where(scope.users_clause()))
    return clause


def awards_page(scope: Scope, page: int, tier_id: str | None = None, state: str | None = None) -> Page[AwardRow]:
    """The scope's awards, newest first, one page (two statements). Replaced awards are left out unless
    ``state`` asks for them."""
    where = [_in_scope(scope)]
    if tier_id:
        where.append(Award.tier_id == tier_id)
    if state == VALID:
        where += [Award.revoked_at.is_(None), Award.superseded_by.is_(None)]
    elif state == REVOKED:
        where += [Award.revoked_at.is_not(None), Award.superseded_by.is_(None)]
    elif state == SUPERSEDED:
        where.append(Award.superseded_by.is_not(None))
    else:
        where.append(Award.superseded_by.is_(None))
    stmt = (
        select(Award, Chamber.name)
        .join(Chamber, Chamber.id == Award.chamber_id)
        .where(*where)
        .order_by(Award.issued_at.desc(), Award.id)
    )
    return paginate(stmt, page).map(
        lambda row: AwardRow(
            row[0].id,
            row[0].state,
            row[0].tier_id,
            row[0].tier_title,
            row[0].issued_at,
            row[0].revoked_at,
            row[0].display_name,
            row[0].user_id,
            row[1],
        )
    )


def valid_counts(scope: Scope) -> dict[str, int]:
    """Valid awards per tier id in the scope (one query)."""
    rows = db.session.execute(
        select(Award.tier_id, func.count())
        .where(_in_scope(scope), Award.revoked_at.is_(None), Award.superseded_by.is_(None))
        .group_by(Award.tier_id)
    ).all()
    return {tier_id: int(n) for tier_id, n in rows}


def award_in_scope(scope: Scope, award_id: str) -> Award | None:
    """The award, if the scope may see it (else None: the view answers 404)."""
    if not award_id or len(award_id) > 64:
        return None
    return db.session.execute(select(Award).where(Award.id == award_id, _in_scope(scope))).scalar_one_or_none()


def certificate_of(award: Award) -> Certificate:
    chamber = db.session.get(Chamber, award.chamber_id)
    assert chamber is not None
    return _certificate(award, chamber)
