"""Demo data: a chamber with volunteers at every stage, so that the coordinators' pages show something on the
first start of ``medienwerk demo``. Invented people (names from lists, e-mails at example.org), deterministic,
written through the same services as real progress. Only for the demo; never for a real installation.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import select

from lms.core.db import get_or_create, utcnow
from lms.core.extensions import db
from lms.courses.content import Module
from lms.courses.setup import current_course
from lms.live_sessions.models import Attendance, LiveSession, Signup
from lms.platforms.models import Platform
from lms.progress import services
from lms.progress.models import ItemProgress, ProgressEvent, QuizAttempt, TaskSubmission
from lms.progress.scoring import draw_questions, grade
from lms.rosters.models import RosterMember, RosterSource
from lms.users.models import Enrollment, LmsCourse, User

SUB_PREFIX = "demo-seed-"
GIVEN = (
    "Mia",
    "Jonas",
    "Lea",
    "Finn",
    "Emma",
    "Luca",
    "Hannah",
    "Ben",
    "Sofia",
    "Elias",
    "Lina",
    "Noah",
    "Marie",
    "Paul",
    "Emilia",
    "Leon",
    "Clara",
    "Felix",
    "Amira",
    "Tim",
    "Zeynep",
    "Milan",
    "Ida",
    "Karim",
)
FAMILY = (
    "Becker",
    "Yilmaz",
    "Schmidt",
    "Kowalski",
    "Wagner",
    "Hoffmann",
    "Nguyen",
    "Schulz",
    "Krüger",
    "Demir",
    "Weber",
    "Lehmann",
    "Fischer",
    "Popescu",
    "Meyer",
    "Wolf",
)


def seed_demo(platform: Platform, context: dict[str, Any], volunteers: int = 36) -> int:
    """Fill the demo chamber once (nothing when seeded volunteers exist); returns how many were added."""
    already = db.session.execute(select(User.id).where(User.sub.like(f"{SUB_PREFIX}%")).limit(1)).first()
    if already is not None:
        return 0
    rng = random.Random(7)
    course = current_course()
    now = utcnow()
    lms_course, _ = get_or_create(
        LmsCourse,
        {"title": context.get("title"), "label": context.get("label")},
        chamber_id=platform.chamber_id,
        issuer=platform.issuer,
        context_id=str(context["id"]),
    )
    people = []
    for n in range(volunteers):
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n * 7) % len(FAMILY)]
        user = User(
            chamber_id=platform.chamber_id,
            issuer=platform.issuer,
            sub=f"{SUB_PREFIX}{n}",
            name=f"{given} {family}",
            given_name=given,
            family_name=family,
            email=f"{given.lower()}.{family.lower()}@example.org".replace("ü", "ue") if n % 3 else None,
            last_launch_at=now - dt.timedelta(days=rng.choice((0, 1, 2, 4, 9, 15, 26, 40, 65))),
        )
        db.session.add(user)
        db.session.flush()
        db.session.add(
            Enrollment(user_id=user.id, course_id=lms_course.id, role="volunteer", last_launch_at=user.last_launch_at)
        )
        people.append(user)
    trainer = User(
        chamber_id=platform.chamber_id,
        issuer=platform.issuer,
        sub=f"{SUB_PREFIX}trainer",
        name="Petra Sommer",
        given_name="Petra",
        family_name="Sommer",
    )
    db.session.add(trainer)
    db.session.flush()
    db.session.add(Enrollment(user_id=trainer.id, course_id=lms_course.id, role="trainer"))
    for user in people:
        modules = rng.choice((0, 1, 1, 2, 2, 3, 3, 4, 5, 7))
        for index, module in enumerate(course.modules[:modules]):
            _work_on(user.id, module, rng, finish=index < modules - 1 or rng.random() < 0.5)
        _spread_in_time(user.id, rng.randint(0, 70), now)
    _review_most(trainer.id, course, rng)
    _tutorials(platform, people, rng, now)
    _roster(platform, lms_course, people, now)
    db.session.flush()
    return len(people)


def _work_on(user_id: int, module: Module, rng: random.Random, *, finish: bool) -> None:
    lessons = module.lessons if finish else module.lessons[: rng.randint(1, max(1, len(module.lessons) - 1))]
    for lesson in lessons:
        services.record_view(user_id, module, lesson)
        services.complete_lesson(user_id, module, lesson)
    if not finish or module.quiz is None:
        return
    quiz = module.quiz
    seen: set[str] = set()
    for _attempt in range(rng.choice((1, 1, 2))):
        asked = draw_questions(quiz, seen, rng)  # a question pool shows a drawn set per attempt
        seen = {q.id for q in asked}
        answers = {
            q.id: q.correct_indices
            if rng.random() < 0.8
            else frozenset({(min(q.correct_indices) + 1) % len(q.answers)})
            for q in asked
        }
        services.record_quiz_attempt(user_id, module, quiz, grade(quiz, answers, asked))
    task = module.task
    if task is None or rng.random() < 0.3:
        return
    if task.submission == "checklist":
        hand_in = services.HandIn(checked_items=len(task.checklist))
    elif task.submission == "link":
        hand_in = services.HandIn(link="https://example.org/demo-video")
    else:
        hand_in = services.HandIn(text="Meine Abgabe für die Demo: Ich habe die Aufgabe so gelöst …")
    services.submit_task(user_id, module, task, hand_in)


def _review_most(trainer_id: int, course: Any, rng: random.Random) -> None:
    """A trainer approved most hand-ins that need a review; some wait, a few came back with a comment."""
    waiting = (
        db.session.execute(
            select(TaskSubmission).where(TaskSubmission.status == "submitted", TaskSubmission.review_required.is_(True))
        )
        .scalars()
        .all()
    )
    for submission in waiting:
        module = course.module(submission.module_id)
        item = module.item(submission.item_id) if module is not None else None
        if item is None or rng.random() < 0.35:
            continue
        approve = rng.random() < 0.85
        services.review_submission(
            submission,
            module,
            item,
            reviewer_id=trainer_id,
            reviewer_role="trainer",
            approve=approve,
            comment=None if approve else "Bitte ergänze noch ein Beispiel.",
        )


def _spread_in_time(user_id: int, days_ago: int, now: dt.datetime) -> None:
    """Progress written now is moved back in time, as if it had happened over the last weeks."""
    shift = dt.timedelta(days=days_ago, hours=days_ago % 7)
    for row in db.session.execute(select(ItemProgress).where(ItemProgress.user_id == user_id)).scalars():
        row.first_viewed_at = row.first_viewed_at and row.first_viewed_at - shift
        row.completed_at = row.completed_at and row.completed_at - shift
    moved: tuple[tuple[Any, str], ...] = (
        (ProgressEvent, "created_at"),
        (QuizAttempt, "created_at"),
        (TaskSubmission, "submitted_at"),
    )
    for model, column in moved:
        for other in db.session.execute(select(model).where(model.user_id == user_id)).scalars():
            setattr(other, column, getattr(other, column) - shift)


def _tutorials(platform: Platform, people: list[User], rng: random.Random, now: dt.datetime) -> None:
    for n, days in enumerate((-40, -19, -5, 6, 20)):
        starts = (now + dt.timedelta(days=days)).replace(hour=17, minute=0, second=0, microsecond=0)
        live = LiveSession(
            chamber_id=platform.chamber_id,
            title=("Sprechstunde BigBlueButton", "Übung: Online-Infoabend")[n % 2],
            starts_at=starts,
            timezone="Europe/Berlin",
            duration_minutes=60,
            capacity=12,
            audience="chamber",
            meeting_id=f"demo-seed-{n}",
            callback_token=f"demo-seed-cb-{n}",
        )
        db.session.add(live)
        db.session.flush()
        for user in rng.sample(people, 10):
            db.session.add(Signup(session_id=live.id, user_id=user.id, status="confirmed"))
            if days < 0:
                there = rng.random() < 0.75
                db.session.add(
                    Attendance(session_id=live.id, user_id=user.id, minutes=55 if there else 0, attended=there)
                )


def _roster(platform: Platform, course: LmsCourse, people: list[User], now: dt.datetime) -> None:
    """The LMS roster: the seeded volunteers and a few learners who never opened medienwerk."""
    get_or_create(
        RosterSource,
        {"platform_id": platform.id, "memberships_url": platform.issuer + "/nrps/demo"},
        course_id=course.id,
    )
    members: list[tuple[str, str | None, int | None]] = [(u.sub, u.name, u.id) for u in people]
    members += [
        (f"{SUB_PREFIX}roster-{n}", name, None)
        for n, name in enumerate(("Jana Roth", "Mehmet Kaya", "Sophie Brandt", "Artur Nowak", "Greta Lang"))
    ]
    for sub, name, user_id in members:
        db.session.add(
            RosterMember(
                course_id=course.id,
                platform_user_id=sub,
                user_id=user_id,
                roles=[],
                role="volunteer",
                status="Active",
                name=name,
                first_seen_at=now,
                last_seen_at=now,
                status_changed_at=now,
            )
        )
