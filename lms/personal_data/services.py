"""One person's data: export everything stored about them (Art. 15, 20 DSGVO) and delete it (Art. 17).

Both work from the schema itself, so a table added later is covered without code here: every foreign key to
``user_account`` names rows about the person. On deletion a ``CASCADE`` or missing ``ondelete`` means the rows
are the person's and go (with the rows that hang on them), ``SET NULL`` means the rows belong to someone else
and only lose the reference (a hand-in reviewed by the person stays, without the reviewer). Exceptions, each for
a reason, are listed in :data:`OWNED_ALTHOUGH_SET_NULL` and handled in :func:`delete_person`: e-mails in the
outbox carry the address, roster rows carry the name and e-mail the LMS sent, and the audit log is redacted, not
deleted (the one change its append-only rule allows).

Grades already delivered to the LMS stay there: the LMS is its own controller for its gradebook.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, delete, select, update
from sqlalchemy.sql.elements import ColumnElement

from lms.audit.services import redact_subject
from lms.certificates.services import forget_person as forget_awards
from lms.core.errors import Invalid, NotFound
from lms.core.extensions import db
from lms.platforms.models import Chamber
from lms.rosters.models import RosterMember
from lms.users.models import LmsCourse, User

USER_TABLE = "user_account"
# rows that point at the person with SET NULL (kept for others) but hold the person's data themselves
OWNED_ALTHOUGH_SET_NULL = {("mail_outbox", "user_id"), ("roster_member", "user_id")}
# redacted by lms.audit, never deleted
REDACTED = {("audit_entry", "subject_id"), ("audit_entry", "actor_id")}


class PersonNotFound(NotFound):
    pass


def find_person(issuer: str, sub: str, chamber_slug: str | None = None) -> User:
    """The person (issuer, sub) in the chamber; the chamber may be left out when only one holds them."""
    query = select(User).where(User.issuer == issuer, User.sub == sub)
    if chamber_slug is not None:
        query = query.join(Chamber, Chamber.id == User.chamber_id).where(Chamber.slug == chamber_slug)
    people = list(db.session.execute(query).scalars())
    if not people:
        raise PersonNotFound("no such person (issuer, sub" + (", chamber" if chamber_slug else "") + ")")
    if len(people) > 1:
        slugs = ", ".join(sorted(p.chamber.slug for p in people))
        raise Invalid(f"this person exists in several chambers ({slugs}); say which with --chamber")
    return people[0]


def _tables() -> list[Table]:
    return list(db.metadata.sorted_tables)


def _references_to(table_name: str) -> list[tuple[Table, Any, str | None]]:
    """(table, column, ondelete) of every foreign key pointing at ``table_name``."""
    found = []
    for table in _tables():
        for fk in table.foreign_keys:
            if fk.column.table.name == table_name:
                found.append((table, fk.parent, fk.ondelete))
    return found


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _rows(table: Table, where: ColumnElement[bool]) -> list[dict[str, Any]]:
    return [
        {k: _jsonable(v) for k, v in row._mapping.items()}
        for row in db.session.execute(select(table).where(where)).all()
    ]


def _roster_rows_clause(user: User) -> ColumnElement[bool]:
    """The LMS roster rows about the person: by their LMS id in the courses of their chamber and issuer."""
    courses = select(LmsCourse.id).where(LmsCourse.chamber_id == user.chamber_id, LmsCourse.issuer == user.issuer)
    return and_(RosterMember.platform_user_id == user.sub, RosterMember.course_id.in_(courses))


def export_person(user: User) -> dict[str, Any]:
    """Everything stored about the person, by table (JSON-ready)."""
    users = db.metadata.tables[USER_TABLE]
    data: dict[str, Any] = {
        "format": "medienwerk personal data export 1",
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "chamber": db.session.get(Chamber, user.chamber_id).slug,  # type: ignore[union-attr]
        "tables": {USER_TABLE: _rows(users, users.c.id == user.id)},
        "note": "Grades already delivered to the learning platform are stored there as well.",
    }
    tables: dict[str, list[dict[str, Any]]] = data["tables"]
    for table, column, _ondelete in _references_to(USER_TABLE):
        rows = _rows(table, column == user.id)
        if rows:
            tables.setdefault(table.name, []).extend(r for r in rows if r not in tables.get(table.name, []))
    roster = db.metadata.tables["roster_member"]
    extra = [r for r in _rows(roster, _roster_rows_clause(user)) if r not in tables.get("roster_member", [])]
    if extra:
        tables.setdefault("roster_member", []).extend(extra)
    # rows that hang on the person's rows (the questions of their self-check attempts)
    attempts = [r["id"] for r in tables.get("quiz_attempt", [])]
    if attempts:
        results = db.metadata.tables["question_result"]
        tables["question_result"] = _rows(results, results.c.attempt_id.in_(attempts))
    return data


@dataclass(frozen=True)
class Deleted:
    counts: dict[str, int]  # table -> rows deleted (or redacted / unlinked, see :func:`delete_person`)

    def lines(self) -> list[str]:
        return [f"{table}: {n}" for table, n in sorted(self.counts.items()) if n]


def _rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (a CursorResult's count; typed loosely by SQLAlchemy)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _delete_where(table: Table, where: ColumnElement[bool], counts: dict[str, int]) -> None:
    """Delete rows and, first, what hangs on them (children by foreign key), depth first."""
    pk = list(table.primary_key.columns)
    for child, column, ondelete in _references_to(table.name):
        if child is table or len(pk) != 1:
            continue
        parents = select(pk[0]).where(where)
        if ondelete == "SET NULL":
            result = db.session.execute(update(child).where(column.in_(parents)).values({column.name: None}))
        else:
            _delete_where(child, column.in_(parents), counts)
            continue
        counts[f"{child.name} (unlinked)"] = counts.get(f"{child.name} (unlinked)", 0) + _rowcount(result)
    result = db.session.execute(delete(table).where(where))
    counts[table.name] = counts.get(table.name, 0) + _rowcount(result)


def delete_person(user: User) -> Deleted:
    """Delete the person everywhere (in the caller's transaction). Afterwards no table holds their id, LMS id,
    name or e-mail; the audit log keeps that something happened, without them."""
    counts: dict[str, int] = {"audit_entry (redacted)": redact_subject(user.id)}
    # certificates stay verifiable as revoked, without the name and the salt (lms.certificates)
    counts["award (revoked, name removed)"] = forget_awards(user.id)
    _delete_where(db.metadata.tables["roster_member"], _roster_rows_clause(user), counts)
    user_id = user.id
    for table, column, ondelete in _references_to(USER_TABLE):
        key = (table.name, column.name)
        if key in REDACTED:
            continue
        if ondelete == "SET NULL" and key not in OWNED_ALTHOUGH_SET_NULL:
            result = db.session.execute(update(table).where(column == user_id).values({column.name: None}))
            counts[f"{table.name} (unlinked)"] = counts.get(f"{table.name} (unlinked)", 0) + _rowcount(result)
        else:
            _delete_where(table, column == user_id, counts)
    db.session.expunge(user)
    _delete_where(db.metadata.tables[USER_TABLE], db.metadata.tables[USER_TABLE].c.id == user_id, counts)
    return Deleted(counts)
