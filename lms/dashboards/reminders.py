"""Friendly reminders to selected volunteers: only to people whose LMS shared an e-mail, at most one per person
and week, each batch in the audit log. Sent through the mail outbox (stored instead of sent in the demo)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from lms.audit.services import record
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.dashboards.queries import volunteer_clause
from lms.mail.models import OutboxMail
from lms.mail.services import queue_mail
from lms.users.models import User
from lms.users.scope import Scope

CATEGORY = "volunteer-reminder"
INTERVAL = dt.timedelta(days=7)
SUBJECT_MAX = 150
MESSAGE_MAX = 3000
MAX_RECIPIENTS = 500
DEFAULT_SUBJECT = "Deine Qualifizierung als Botschafter*in: Wir freuen uns auf dich"


def default_message() -> str:
    # German by default: the programme's language; the coordinator edits it before sending
    return (
        "Hallo,\n\n"
        "wir haben gesehen, dass du in medienwerk schon angefangen hast. Super!\n"
        "Die nächsten Schritte dauern oft nur ein paar Minuten. Du findest medienwerk in deinem Kurs auf der "
        "Lernplattform.\n\n"
        "Wenn etwas nicht klappt oder du Fragen hast, melde dich gern bei uns.\n\n"
        "Viele Grüße\n"
        "deine Koordination der Botschafter*innen"
    )


@dataclass(frozen=True)
class Plan:
    """Who of the selection gets a reminder, and why the others do not."""

    to_send: list[User]
    without_email: list[User]
    recently_reminded: list[User]
    not_found: int  # ids outside the scope (or not volunteers): never told who they are


def plan(scope: Scope, user_ids: list[int], now: dt.datetime | None = None) -> Plan:
    """Two statements: the people (in the scope), and who had a reminder in the last week."""
    now = now or utcnow()
    ids = user_ids[:MAX_RECIPIENTS]
    people = (
        list(
            db.session.execute(
                select(User).where(User.id.in_(ids), scope.users_clause(), volunteer_clause()).order_by(User.id)
            ).scalars()
        )
        if ids
        else []
    )
    recent = (
        set(
            db.session.execute(
                select(OutboxMail.user_id).where(
                    OutboxMail.user_id.in_([p.id for p in people]),
                    OutboxMail.category == CATEGORY,
                    OutboxMail.created_at > now - INTERVAL,
                )
            ).scalars()
        )
        if people
        else set()
    )
    to_send = [p for p in people if p.email and p.id not in recent]
    return Plan(
        to_send=to_send,
        without_email=[p for p in people if not p.email],
        recently_reminded=[p for p in people if p.email and p.id in recent],
        not_found=len(set(user_ids)) - len(people),
    )


def check(subject: str, message: str) -> dict[str, str]:
    errors = {}
    if not subject or len(subject) > SUBJECT_MAX:
        errors["subject"] = _("Bitte gib einen Betreff mit höchstens %(max)s Zeichen ein.", max=SUBJECT_MAX)
    if not message or len(message) > MESSAGE_MAX:
        errors["message"] = _("Bitte schreibe eine Nachricht mit höchstens %(max)s Zeichen.", max=MESSAGE_MAX)
    return errors


def send(plan: Plan, subject: str, message: str, *, sender: User, sender_role: str) -> int:
    """Queue one mail per person (in the request's transaction) and log the batch per chamber."""
    sent = 0
    per_chamber: dict[int, list[int]] = {}
    for person in plan.to_send:
        mail = queue_mail(
            person, subject=subject, template="volunteer_reminder.txt", category=CATEGORY, message=message
        )
        if mail is not None:
            sent += 1
            per_chamber.setdefault(person.chamber_id, []).append(person.id)
    for chamber_id, ids in per_chamber.items():
        record(
            "reminder_sent",
            chamber_id=chamber_id,
            actor=sender,
            actor_role=sender_role,
            detail={"recipients": len(ids), "user_ids": ids},
        )
    return sent
