"""Writes for the chamber values (lms/courses/variables.py): checked per kind, flushed, logged in the audit log
(which names changed, never the values). The request or the command commits."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from urllib.parse import urlsplit

from sqlalchemy import select

from lms.audit.services import record
from lms.core.db import get_or_create, utcnow
from lms.core.errors import Invalid
from lms.core.extensions import db
from lms.courses.models import VALUE_LENGTH, ChamberValue
from lms.courses.variables import EMAIL, PHONE, TEXT, URL, ChamberVariable, variable
from lms.users.models import User

TEXT_MAX = 200
EMAIL_MAX = 254
PHONE_MAX = 40
AUDIT_ACTION = "chamber_values_changed"

_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
_PHONE_RE = re.compile(r"^\+?[0-9][0-9 ()/\-]*$")

# why a value was refused (the page and the command line say it in their words)
WHY = {
    "too_long": "too long",
    "email": "not an e-mail address (name@example.org)",
    "phone": "not a phone number (digits, spaces, + ( ) / -)",
    "url": "not a web address starting with https:// or http://",
    "unknown": "no such chamber value",
}


class ValuesInvalid(Invalid):
    """Some submitted values cannot be stored; `errors` maps each name to the reason's code (see WHY)."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {WHY.get(code, code)}" for name, code in self.errors.items()))


def clean(raw: str | None) -> str:
    """One line of text: control characters and line breaks become spaces, runs of spaces one, NFC."""
    text = _CONTROL_RE.sub(" ", raw or "")
    return " ".join(unicodedata.normalize("NFC", text).split())


def check_value(var: ChamberVariable, raw: str | None) -> str:
    """The value to store for `var` ("" clears it); raises ValuesInvalid."""
    value = clean(raw)
    if not value:
        return ""
    limit = {TEXT: TEXT_MAX, EMAIL: EMAIL_MAX, PHONE: PHONE_MAX, URL: VALUE_LENGTH}[var.kind]
    if len(value) > limit:
        raise ValuesInvalid({var.name: "too_long"})
    if var.kind == EMAIL and not _EMAIL_RE.match(value):
        raise ValuesInvalid({var.name: "email"})
    if var.kind == PHONE and (not _PHONE_RE.match(value) or sum(c.isdigit() for c in value) < 3):
        raise ValuesInvalid({var.name: "phone"})
    if var.kind == URL and not is_web_address(value):
        raise ValuesInvalid({var.name: "url"})
    return value


def is_web_address(value: str) -> bool:
    """An http(s) address with a host name, no spaces and no user name or password in it."""
    if any(c.isspace() for c in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https") or not host or "." not in host.strip("."):
        return False
    return parts.username is None and parts.password is None


def set_values(
    chamber_id: int, submitted: Mapping[str, str | None], *, actor: User | None = None, actor_role: str = "operator"
) -> list[str]:
    """Store the submitted values of one chamber (names not submitted stay as they are; "" clears one) and log
    which changed. All or nothing: raises ValuesInvalid naming every refused value. Returns the changed names."""
    errors: dict[str, str] = {}
    checked: dict[str, str] = {}
    for name, raw in submitted.items():
        var = variable(name)
        if var is None:
            errors[name] = "unknown"
            continue
        try:
            checked[name] = check_value(var, raw)
        except ValuesInvalid as exc:
            errors.update(exc.errors)
    if errors:
        raise ValuesInvalid(errors)
    rows = {
        row.name: row
        for row in db.session.execute(
            select(ChamberValue).where(ChamberValue.chamber_id == chamber_id, ChamberValue.name.in_(checked))
        ).scalars()
    }
    changed = []
    for name, value in checked.items():
        row = rows.get(name)
        if row is not None and not value:
            db.session.delete(row)
        elif row is not None and row.value != value:
            row.value = value
            row.updated_at = utcnow()
        elif row is None and value:
            # safe when two coordinators save at once: the second one updates the first one's row
            row, created = get_or_create(ChamberValue, {"value": value}, chamber_id=chamber_id, name=name)
            if not created:
                row.value = value
        else:
            continue
        changed.append(name)
    db.session.flush()
    if changed:
        record(AUDIT_ACTION, chamber_id=chamber_id, actor=actor, actor_role=actor_role, detail={"names": changed})
    return changed
