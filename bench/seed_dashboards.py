"""Seed data for the coordinators' dashboards: N volunteers in 20 chambers with realistic progress.

What it creates (deterministic for a given --seed):
- 20 chambers: one central (slug ``zentrale``, the central team, no volunteers) and 19 others with a skewed
  size distribution (the largest holds about a fifth of all volunteers: ~2,000 of 10,000); per chamber a
  platform (``https://moodle.hwk-{i}.example``) with deployment "1", 1-5 LMS courses, one coordinator and two
  trainers;
- the volunteers (German-looking names, a few without names as with Moodle's privacy setting), one enrollment
  each (some two), last launches spread over the last 180 days;
- progress in the course served now (every item of every module): item states, self-check attempts with
  per-question results (each question has its own difficulty), task hand-ins (approved, waiting for review,
  returned), the completions the app remembers (module_completion) and the event log the detail page's timeline
  reads; many start module 1-2, few finish all;
- about 10 live tutorials per chamber (past 12 months and next 2), sign-ups (confirmed, waitlisted) and
  attendance for the past ones;
- NRPS rosters for some courses, including learners who never launched the tool.

    .venv/bin/python bench/seed_dashboards.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dbench_dash
    .venv/bin/python bench/seed_dashboards.py --db sqlite:////tmp/dash.sqlite --volunteers 2000

THE GIVEN DATABASE IS EMPTIED: the seed runs ``db.drop_all(); db.create_all()`` on it (in the schema named by a
``search_path`` option, which is created if missing). Use a scratch database or schema.
Rows go in with SQLAlchemy Core bulk inserts in batches; ids are assigned here (the table is empty) and the
PostgreSQL sequences are moved past them afterwards.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

BATCH = 5000
CENTRAL_SLUG = "zentrale"

GIVEN_NAMES = (  # noqa: SIM905 - a word list reads better than 80 lines of strings
    "Anna Lena Marie Sophie Laura Julia Lea Hannah Sarah Lisa Katharina Johanna Clara Emma Mia Paula Nina Sabine "
    "Petra Monika Ursula Birgit Andrea Claudia Heike Susanne Ayşe Elif Zeynep Jana Merle Frieda Greta Ida Lotte "
    "Jonas Lukas Leon Felix Paul Maximilian Tim Timo Jan Niklas Moritz Tobias Florian Stefan Thomas Michael "
    "Andreas Markus Frank Jürgen Klaus Uwe Wolfgang Mehmet Ali Emre Dmitri Piotr Jannik Ole Malte Henrik Karl "
    "Sven Kai Dirk Björn Lars Mustafa Luca Noah Elias Finn"
).split()
FAMILY_NAMES = (  # noqa: SIM905
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein "
    "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause "
    "Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz "
    "Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann "
    "Franke Albrecht Schuster Simon Ludwig Böhm Winter Kraus Martin Schumacher Krämer Vogt Stein Jäger Otto "
    "Sommer Groß Seidel Heinrich Brandt Haas Schreiber Graf Yılmaz Kaya Demir Şahin Nowak Kowalski Petersen "
    "Jansen Hansen Thiele Ahrens Brinkmann Dietrich Engel Pohl Kuhn Busch Horn Bergmann Kühn Voigt Sauer Arnold"
).split()
CITIES = (  # noqa: SIM905
    "Aachen|Berlin|Braunschweig-Lüneburg-Stade|Bremen|Chemnitz|Cottbus|Dortmund|Dresden|Düsseldorf|Erfurt|"
    "Flensburg|Frankfurt-Rhein-Main|Freiburg|Hamburg|Hannover|Heilbronn-Franken|Kassel|Koblenz|Köln|Konstanz|"
    "Leipzig|Lübeck|Magdeburg|Mannheim Rhein-Neckar-Odenwald|München und Oberbayern|Münster|"
    "Niederbayern-Oberpfalz|Oldenburg|Osnabrück-Emsland-Grafschaft Bentheim|Ostwestfalen-Lippe zu Bielefeld|"
    "der Pfalz|Potsdam|Region Stuttgart|Rheinhessen|des Saarlandes|für Schwaben|Schwerin|Trier|Ulm|für Unterfranken"
).split("|")
TUTORIALS = (
    ("Übungs-Slot Modul 2: live beraten mit BigBlueButton", ["m2-live-beraten-mit-bigbluebutton"]),
    ("Übung Modul 3: eine Online-Infoveranstaltung moderieren", ["m3-online-infoveranstaltungen-moderieren"]),
    ("Sprechstunde für Botschafter*innen", []),
    ("Fragen zu Recht am Bild und Datenschutz", ["m6-recht-am-bild-und-datenschutz"]),
    ("Social Media in der Berufsorientierung: Austausch", ["m5-social-media-fuer-die-berufsorientierung"]),
)
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
# how many modules a volunteer has started (0..7): many stop after module 1-2, few finish all
STARTED_WEIGHTS = (15, 24, 20, 12, 8, 6, 5, 10)


# --- helpers shared with bench/dashboards.py ----------------------------------------------------------------------


def search_path_of(uri: str) -> str | None:
    """The schema a PostgreSQL URI selects with ``?options=-csearch_path=NAME`` (None: none)."""
    if not uri.startswith("postgresql") or "?" not in uri:
        return None
    options = parse_qs(uri.split("?", 1)[1]).get("options", [])
    for option in options:
        for part in unquote(option).split():
            if part.startswith("-csearch_path="):
                return part.split("=", 1)[1].split(",")[0].strip() or None
    return None


def ensure_schema(uri: str) -> None:
    """Create the schema a PostgreSQL URI's search_path names, if missing (the bench's own schema)."""
    schema = search_path_of(uri)
    if schema is None:
        return
    import sqlalchemy

    if not schema.replace("_", "").isalnum():
        raise SystemExit(f"unexpected schema name {schema!r}")
    engine = sqlalchemy.create_engine(uri)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()


def chamber_sizes(volunteers: int, chambers: int) -> list[int]:
    """Volunteers per non-central chamber, largest first: a power law whose largest share is about 20 %."""
    n = max(1, chambers - 1)
    if n == 1:
        return [volunteers]
    target = 0.2 if n >= 6 else 1.0 / n + 0.1

    def top_share(s: float) -> float:
        weights = [1 / (i + 1) ** s for i in range(n)]
        return weights[0] / sum(weights)

    low, high = 0.0, 4.0
    for _ in range(60):
        mid = (low + high) / 2
        if top_share(mid) < target:
            low = mid
        else:
            high = mid
    weights = [1 / (i + 1) ** low for i in range(n)]
    total = sum(weights)
    raw = [volunteers * w / total for w in weights]
    sizes = [int(r) for r in raw]
    for i in sorted(range(n), key=lambda i: raw[i] - sizes[i], reverse=True)[: volunteers - sum(sizes)]:
        sizes[i] += 1
    return sizes


# --- the seed ------------------------------------------------------------------------------------------------------


@dataclass
class SeedSummary:
    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    insert_seconds: Counter[str] = field(default_factory=Counter)
    central_chamber_id: int = 0
    largest_chamber_id: int = 0
    volunteers_per_chamber: dict[int, int] = field(default_factory=dict)

    def print(self) -> None:
        print(f"seeded in {self.seconds:.1f} s:")
        for table, n in sorted(self.counts.items()):
            print(f"  {table:<26} {n:>9,} rows  {self.insert_seconds[table]:6.1f} s insert")
        sizes = sorted(self.volunteers_per_chamber.values(), reverse=True)
        print(f"  volunteers per chamber (largest first): {', '.join(str(s) for s in sizes)}")


class Writer:
    """Buffers rows per model and writes them with bulk inserts, parents before children."""

    def __init__(self, db: Any, order: Iterable[Any]) -> None:
        self.db = db
        self.order = list(order)
        self.rows: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self.pending = 0

    def add(self, model: Any, row: dict[str, Any]) -> None:
        self.rows[model].append(row)
        self.pending += 1
        if self.pending >= BATCH * 4:
            self.flush()

    def flush(self) -> None:
        from sqlalchemy import insert

        for model in self.order:
            rows = self.rows.pop(model, None)
            if not rows:
                continue
            t0 = time.perf_counter()
            # insert(Table), not insert(Model): the ORM's bulk path leaves out keys whose value is None and splits
            # rows with different None columns into one statement each (25 s instead of 1 s for item_progress)
            for start in range(0, len(rows), BATCH):
                self.db.session.execute(insert(model.__table__), rows[start : start + BATCH])
            self.counts[model.__tablename__] += len(rows)
            self.seconds[model.__tablename__] += time.perf_counter() - t0
        self.pending = 0


class Ids:
    def __init__(self) -> None:
        self.last: Counter[str] = Counter()

    def next(self, table: str) -> int:
        self.last[table] += 1
        return self.last[table]


def _name(rng: random.Random) -> tuple[str, str]:
    return rng.choice(GIVEN_NAMES), rng.choice(FAMILY_NAMES)


def _token(rng: random.Random, n: int = 16) -> str:
    return rng.getrandbits(n * 8).to_bytes(n, "big").hex()


def seed(app: Any, *, volunteers: int = 10_000, chambers: int = 20, seed: int = 42) -> SeedSummary:  # noqa: C901, PLR0915
    """Empty the app's database (drop_all/create_all) and fill it; see the module docstring."""
    from sqlalchemy import text

    from lms.core.extensions import db
    from lms.courses.setup import current_course
    from lms.live_sessions.models import Attendance, LiveSession, Signup
    from lms.platforms.models import Chamber, Deployment, Platform
    from lms.platforms.services import ensure_active_key, slugify
    from lms.progress.models import (
        APPROVED,
        COMPLETED,
        QUIZ_ATTEMPTED,
        RETURNED,
        SUBMITTED,
        TASK_APPROVED,
        TASK_RETURNED,
        TASK_SUBMITTED,
        VIEWED,
        ItemProgress,
        ModuleCompletion,
        ProgressEvent,
        QuestionResult,
        QuizAttempt,
        TaskSubmission,
    )
    from lms.rosters.models import ACTIVE, RosterMember, RosterSource
    from lms.users.models import Enrollment, LmsCourse, User

    started_at = time.perf_counter()
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    chambers = max(2, chambers)
    summary = SeedSummary()
    ids = Ids()

    with app.app_context():
        course_content = current_course()
        modules = list(course_content.modules)
        db.drop_all()
        db.create_all()
        ensure_active_key()
        w = Writer(
            db,
            [
                Chamber,
                Platform,
                Deployment,
                LmsCourse,
                User,
                Enrollment,
                QuizAttempt,
                QuestionResult,
                TaskSubmission,
                ItemProgress,
                ModuleCompletion,
                ProgressEvent,
                LiveSession,
                Signup,
                Attendance,
                RosterSource,
                RosterMember,
            ],
        )
        difficulty = {q.id: rng.uniform(0.5, 0.97) for m in modules if m.quiz is not None for q in m.quiz.questions}

        # -- chambers, platforms, courses, staff ------------------------------------------------------------------
        sizes = chamber_sizes(volunteers, chambers)
        cities = rng.sample(CITIES, k=min(len(CITIES), chambers - 1))
        chamber_rows: list[dict[str, Any]] = []
        courses_of: dict[int, list[int]] = {}
        trainers_of: dict[int, list[int]] = {}
        coordinator_of: dict[int, int] = {}
        platform_of: dict[int, tuple[int, str]] = {}
        for i in range(chambers):
            chamber_id = ids.next("chamber")
            central = i == 0
            city = "Zentrale Koordination" if central else (cities[(i - 1) % len(cities)] if cities else f"Kammer {i}")
            name = "Zentrale Koordination (ZDH)" if central else f"Handwerkskammer {city}"
            slug = CENTRAL_SLUG if central else "hwk-" + slugify(city)
            if not central and i - 1 >= len(cities):
                slug += f"-{i}"
            created = now - dt.timedelta(days=400 + i)
            chamber_rows.append({"id": chamber_id, "slug": slug, "name": name, "is_central": central})
            w.add(Chamber, {"id": chamber_id, "slug": slug, "name": name, "is_central": central, "created_at": created})
            issuer = f"https://moodle.hwk-{i}.example"
            platform_id = ids.next("platform")
            platform_of[chamber_id] = (platform_id, issuer)
            w.add(
                Platform,
                {
                    "id": platform_id,
                    "chamber_id": chamber_id,
                    "name": f"Moodle {name}",
                    "issuer": issuer,
                    "client_id": f"medienwerk-{i}",
                    "auth_login_url": f"{issuer}/mod/lti/auth.php",
                    "auth_token_url": f"{issuer}/mod/lti/token.php",
                    "auth_audience": None,
                    "key_set_url": f"{issuer}/mod/lti/certs.php",
                    "enabled": True,
                    "created_at": created,
                    "updated_at": created,
                },
            )
            w.add(
                Deployment, {"platform_id": platform_id, "deployment_id": "1", "enabled": True, "created_at": created}
            )
            n_courses = 1 if central else rng.randint(1, 5)
            courses_of[chamber_id] = []
            for k in range(n_courses):
                course_id = ids.next("course")
                courses_of[chamber_id].append(course_id)
                year = 2024 + k % 3
                w.add(
                    LmsCourse,
                    {
                        "id": course_id,
                        "chamber_id": chamber_id,
                        "issuer": issuer,
                        "context_id": f"kurs-{k + 1}",
                        "title": "Koordination medienwerk"
                        if central
                        else f"Digitale Botschafter*innen {year} – Gruppe {chr(65 + k)}",
                        "label": f"DB{year}-{chr(65 + k)}",
                        "created_at": created,
                        "updated_at": created,
                    },
                )
            staff: list[int] = []
            for role in ("coordinator", "trainer", "trainer"):
                user_id = ids.next("user_account")
                given, family = _name(rng)
                w.add(
                    User,
                    {
                        "id": user_id,
                        "chamber_id": chamber_id,
                        "issuer": issuer,
                        "sub": f"staff-{role}-{user_id}",
                        "name": f"{given} {family}",
                        "given_name": given,
                        "family_name": family,
                        "email": f"{role}.{user_id}@hwk-{i}.example",
                        "locale": "de",
                        "is_coordinator": role == "coordinator",
                        "created_at": created,
                        "last_launch_at": now - dt.timedelta(days=rng.randint(0, 10)),
                    },
                )
                for course_id in courses_of[chamber_id]:
                    w.add(
                        Enrollment,
                        {
                            "user_id": user_id,
                            "course_id": course_id,
                            "role": role,
                            "created_at": created,
                            "last_launch_at": now - dt.timedelta(days=rng.randint(0, 10)),
                        },
                    )
                staff.append(user_id)
            coordinator_of[chamber_id] = staff[0]
            trainers_of[chamber_id] = staff[1:]

        # -- volunteers and their progress ----------------------------------------------------------------------------
        progress_models = (ItemProgress, ProgressEvent, QuizAttempt, QuestionResult, TaskSubmission, ModuleCompletion)
        non_central = [c["id"] for c in chamber_rows if not c["is_central"]]
        summary.central_chamber_id = chamber_rows[0]["id"]
        summary.largest_chamber_id = non_central[0]
        members_of: dict[int, list[tuple[int, str, str, str]]] = defaultdict(
            list
        )  # course -> (user, sub, given, family)
        progressed: dict[int, list[tuple[int, int]]] = defaultdict(list)  # chamber -> (user, modules started)
        for chamber_id, size in zip(non_central, sizes, strict=False):
            summary.volunteers_per_chamber[chamber_id] = size
            platform_id, issuer = platform_of[chamber_id]
            chamber_courses = courses_of[chamber_id]
            course_weights = [rng.uniform(0.5, 2.0) for _ in chamber_courses]
            for _ in range(size):
                user_id = ids.next("user_account")
                given, family = _name(rng)
                private = rng.random() < 0.03  # Moodle's privacy setting: no names
                last = now - dt.timedelta(days=180 * rng.random() ** 1.3, seconds=rng.randint(0, 86_399))
                n_started = rng.choices(range(len(modules) + 1), weights=STARTED_WEIGHTS[: len(modules) + 1])[0]
                span = dt.timedelta(days=rng.uniform(1, 25) * max(1, n_started))
                begin = max(now - dt.timedelta(days=365), last - span)
                created = begin - dt.timedelta(hours=rng.randint(0, 48))
                sub = f"{rng.getrandbits(48):012x}-{user_id}"
                w.add(
                    User,
                    {
                        "id": user_id,
                        "chamber_id": chamber_id,
                        "issuer": issuer,
                        "sub": sub,
                        "name": None if private else f"{given} {family}",
                        "given_name": None if private else given,
                        "family_name": None if private else family,
                        "email": None if private or rng.random() < 0.2 else f"v{user_id}@mail.example",
                        "locale": "de",
                        "is_coordinator": False,
                        "created_at": created,
                        "last_launch_at": last,
                    },
                )
                mine = rng.choices(chamber_courses, weights=course_weights)[0]
                enrolled = [mine]
                if len(chamber_courses) > 1 and rng.random() < 0.1:
                    enrolled.append(rng.choice([c for c in chamber_courses if c != mine]))
                for course_id in enrolled:
                    w.add(
                        Enrollment,
                        {
                            "user_id": user_id,
                            "course_id": course_id,
                            "role": "volunteer",
                            "created_at": created,
                            "last_launch_at": last,
                        },
                    )
                    members_of[course_id].append((user_id, sub, given, family))
                progressed[chamber_id].append((user_id, n_started))
                if n_started:
                    _progress(
                        w, ids, rng, modules, difficulty, user_id, n_started, begin, last, now,
                        trainers_of[chamber_id],
                        models=progress_models,
                        kinds=(VIEWED, COMPLETED, QUIZ_ATTEMPTED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED),
                        statuses=(SUBMITTED, APPROVED, RETURNED),
                    )  # fmt: skip
        w.flush()

        # -- live tutorials, sign-ups, attendance --------------------------------------------------------------------
        for chamber_id in non_central:
            people = progressed[chamber_id]
            if not people:
                continue
            weights = [1 + 3 * min(s, 3) for _u, s in people]
            n_sessions = 8 + len(people) // 400
            for k in range(n_sessions):
                session_id = ids.next("live_session")
                title, module_ids = TUTORIALS[k % len(TUTORIALS)]
                starts = now + dt.timedelta(days=rng.uniform(-365, 60))
                starts = starts.replace(minute=0, second=0, microsecond=0, hour=rng.choice((8, 15, 16, 17)))
                capacity = rng.randint(20, 40)
                past = starts < now
                cancelled = starts - dt.timedelta(days=2) if rng.random() < 0.05 else None
                w.add(
                    LiveSession,
                    {
                        "id": session_id,
                        "chamber_id": chamber_id,
                        "course_id": courses_of[chamber_id][0],
                        "created_by_id": coordinator_of[chamber_id],
                        "title": title,
                        "description": "",
                        "module_ids": module_ids,
                        "starts_at": starts,
                        "timezone": "Europe/Berlin",
                        "duration_minutes": 60,
                        "capacity": capacity,
                        "audience": "chamber",
                        "record": False,
                        "mute_on_start": True,
                        "wait_for_moderator": True,
                        "welcome": "",
                        "early_entry_minutes": 15,
                        "cancelled_at": cancelled,
                        "meeting_id": f"mw-{session_id}-{_token(rng, 8)}",
                        "callback_token": _token(rng, 24),
                        "meeting_started_at": starts if past and not cancelled else None,
                        "meeting_ended_at": starts + dt.timedelta(minutes=60) if past and not cancelled else None,
                        "created_at": starts - dt.timedelta(days=40),
                        "updated_at": starts - dt.timedelta(days=40),
                    },
                )
                confirmed = rng.randint(int(capacity * (0.6 if past else 0.3)), capacity)
                waitlisted = rng.randint(0, 6) if confirmed == capacity else 0
                chosen: set[int] = set()
                pool_size = min(len(people), confirmed + waitlisted)
                while len(chosen) < pool_size:
                    chosen.update(u for u, _s in rng.choices(people, weights=weights, k=pool_size - len(chosen)))
                for rank, user_id in enumerate(sorted(chosen, key=lambda _u: rng.random())):
                    status = "confirmed" if rank < confirmed else "waitlisted"
                    signed = starts - dt.timedelta(days=rng.uniform(1, 30))
                    w.add(
                        Signup,
                        {
                            "session_id": session_id,
                            "user_id": user_id,
                            "status": status,
                            "queued_at": signed,
                            "created_at": signed,
                            "updated_at": signed,
                        },
                    )
                    if status != "confirmed" or not past or cancelled:
                        continue
                    roll = rng.random()
                    if roll < 0.75:
                        minutes = rng.randint(45, 60)
                    elif roll < 0.88:
                        continue  # a no-show without a row
                    else:
                        minutes = rng.randint(0, 30)
                    w.add(
                        Attendance,
                        {
                            "session_id": session_id,
                            "user_id": user_id,
                            "role": "VIEWER",
                            "intervals": [],
                            "minutes": minutes,
                            "attended": minutes >= 45,
                            "attended_override": None,
                            "source": "poll",
                            "updated_at": starts + dt.timedelta(minutes=70),
                        },
                    )
        w.flush()

        # -- rosters (NRPS) for some courses, with learners who never launched ---------------------------------------
        for chamber_id in non_central:
            platform_id, issuer = platform_of[chamber_id]
            for course_id in courses_of[chamber_id]:
                if rng.random() < 0.4:
                    continue
                members = members_of.get(course_id, [])
                never = max(1, int(len(members) * rng.uniform(0.1, 0.25)))
                synced = now - dt.timedelta(hours=rng.randint(1, 30))
                w.add(
                    RosterSource,
                    {
                        "course_id": course_id,
                        "platform_id": platform_id,
                        "memberships_url": f"{issuer}/mod/lti/services.php/{course_id}/bindings/1/memberships",
                        "last_synced_at": synced,
                        "last_attempt_at": synced,
                        "member_count": len(members) + never,
                        "created_at": synced - dt.timedelta(days=90),
                        "updated_at": synced,
                    },
                )
                for user_id, sub, given, family in members:
                    first = synced - dt.timedelta(days=rng.randint(1, 200))
                    w.add(
                        RosterMember,
                        {
                            "course_id": course_id,
                            "platform_user_id": sub,
                            "user_id": user_id,
                            "roles": [LEARNER],
                            "role": "volunteer",
                            "status": ACTIVE if rng.random() < 0.95 else "Inactive",
                            "name": f"{given} {family}",
                            "given_name": given,
                            "family_name": family,
                            "email": None,
                            "first_seen_at": first,
                            "last_seen_at": synced,
                            "status_changed_at": first,
                        },
                    )
                for k in range(never):
                    given, family = _name(rng)
                    first = synced - dt.timedelta(days=rng.randint(1, 200))
                    w.add(
                        RosterMember,
                        {
                            "course_id": course_id,
                            "platform_user_id": f"nl-{course_id}-{k}",
                            "user_id": None,
                            "roles": [LEARNER],
                            "role": "volunteer",
                            "status": ACTIVE,
                            "name": f"{given} {family}",
                            "given_name": given,
                            "family_name": family,
                            "email": f"nl{course_id}.{k}@mail.example",
                            "first_seen_at": first,
                            "last_seen_at": synced,
                            "status_changed_at": first,
                        },
                    )
        w.flush()
        db.session.commit()

        if db.engine.dialect.name == "postgresql":
            # ids were assigned here: move each sequence past them, so the app's own inserts do not collide
            with db.engine.begin() as conn:
                for table in ids.last:
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
                            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
                        )
                    )
            # statistics and the visibility map, as autovacuum leaves a running database (index-only scans need it)
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        summary.counts = w.counts
        summary.insert_seconds = w.seconds
    summary.seconds = time.perf_counter() - started_at
    return summary


def _progress(  # noqa: C901, PLR0912, PLR0913, PLR0915
    w: Writer,
    ids: Ids,
    rng: random.Random,
    modules: list[Any],
    difficulty: dict[str, float],
    user_id: int,
    n_started: int,
    begin: dt.datetime,
    last: dt.datetime,
    now: dt.datetime,
    trainers: list[int],
    *,
    models: tuple[Any, ...],
    kinds: tuple[str, ...],
    statuses: tuple[str, ...],
) -> None:
    """One volunteer's item states, attempts, hand-ins and events, in the order of the course."""
    ItemProgress, ProgressEvent, QuizAttempt, QuestionResult, TaskSubmission, ModuleCompletion = models  # noqa: N806
    VIEWED, COMPLETED, QUIZ_ATTEMPTED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED = kinds  # noqa: N806
    SUBMITTED, APPROVED, RETURNED = statuses  # noqa: N806

    # what is touched: all items of the modules before the last started one; a part of the last one
    plan: list[tuple[Any, int, bool]] = []  # module, items viewed, finish the module
    for k in range(n_started):
        module = modules[k]
        if k < n_started - 1 or rng.random() < 0.3:
            plan.append((module, len(module.items), True))
        else:
            plan.append((module, rng.randint(1, len(module.items)), False))
    steps = sum(v for _m, v, _f in plan)
    span = (last - begin).total_seconds()
    moments = sorted(begin + dt.timedelta(seconds=rng.uniform(0, span)) for _ in range(steps))
    step = 0

    def event(kind: str, module: Any, item: Any, at: dt.datetime, **fields: Any) -> None:
        row = {
            "user_id": user_id,
            "kind": kind,
            "module_id": module.id,
            "item_id": item.id,
            "module_version": module.version,
            "score": None,
            "passed": None,
            "attempt_id": None,
            "submission_id": None,
            "actor_id": None,
            "created_at": at,
        }
        row.update(fields)
        w.add(ProgressEvent, row)

    for module, viewed, finish in plan:
        completions: list[dt.datetime] = []
        for index, item in enumerate(module.items[:viewed]):
            at = moments[step]
            step += 1
            last_viewed = index == viewed - 1
            # in an unfinished module the last item looked at is not done (yet), the earlier ones are
            complete = finish or not last_viewed or rng.random() < 0.4
            row: dict[str, Any] = {
                "user_id": user_id,
                "module_id": module.id,
                "item_id": item.id,
                "kind": item.kind,
                "first_viewed_at": at,
                "completed_at": None,
                "best_score": None,
                "attempts": 0,
                "task_status": None,
                "updated_at": at,
            }
            event(VIEWED, module, item, at)
            if item.kind == "lesson":
                if complete:
                    done = at + dt.timedelta(minutes=rng.randint(3, 25))
                    row["completed_at"] = row["updated_at"] = done
                    event(COMPLETED, module, item, done)
            elif item.kind == "quiz":
                attempts = rng.choice((1, 1, 1, 2, 2, 3)) if complete else rng.choice((0, 1, 1, 2))
                t = at
                questions = list(item.questions)
                pass_mark = item.pass_mark or module.pass_mark or 80
                best = 0
                for a in range(attempts):
                    t = t + dt.timedelta(minutes=rng.randint(5, 30) if a == 0 else rng.randint(10, 3000))
                    passed = complete and a == attempts - 1
                    correct = [rng.random() < difficulty[q.id] for q in questions]
                    need = -(-pass_mark * len(questions) // 100)
                    while passed and sum(correct) < need:
                        correct[correct.index(False)] = True
                    while not passed and sum(correct) >= need:
                        correct[correct.index(True)] = False
                    score = sum(correct) * 100 // max(1, len(questions))
                    best = max(best, score)
                    attempt_id = ids.next("quiz_attempt")
                    w.add(
                        QuizAttempt,
                        {
                            "id": attempt_id,
                            "user_id": user_id,
                            "module_id": module.id,
                            "item_id": item.id,
                            "module_version": module.version,
                            "content_hash": item.content_hash,
                            "score": score,
                            "correct_count": sum(correct),
                            "question_count": len(questions),
                            "pass_mark": pass_mark,
                            "passed": passed,
                            "created_at": t,
                        },
                    )
                    for position, (q, ok) in enumerate(zip(questions, correct, strict=True), start=1):
                        w.add(
                            QuestionResult,
                            {"attempt_id": attempt_id, "question_id": q.id, "position": position, "correct": ok},
                        )
                    event(QUIZ_ATTEMPTED, module, item, t, score=score, passed=passed, attempt_id=attempt_id)
                    if passed:
                        row["completed_at"] = t
                        event(COMPLETED, module, item, t)
                row["attempts"] = attempts
                row["best_score"] = best if attempts else None
                row["updated_at"] = t
            else:  # task
                hand_ins: list[tuple[str, dt.datetime | None]] = []  # (final status, reviewed at)
                t = at + dt.timedelta(hours=rng.uniform(1, 72))
                if item.review:
                    if complete:
                        outcome = rng.choices((APPROVED, SUBMITTED, RETURNED), weights=(75, 15, 10))[0]
                    else:
                        outcome = rng.choice((None, SUBMITTED, RETURNED))
                    if outcome == APPROVED and rng.random() < 0.15:
                        hand_ins.append((RETURNED, t + dt.timedelta(days=rng.uniform(0.5, 4))))
                    if outcome is not None:
                        hand_ins.append((outcome, None))
                elif complete:
                    hand_ins.append((SUBMITTED, None))
                status = None
                for n, (status, reviewed) in enumerate(hand_ins):
                    if n:
                        t = (hand_ins[n - 1][1] or t) + dt.timedelta(days=rng.uniform(0.5, 6))
                    t = min(t, now - dt.timedelta(minutes=30))
                    if status in (APPROVED, RETURNED) and reviewed is None:
                        reviewed = t + dt.timedelta(days=rng.uniform(0.2, 5))
                    if reviewed is not None:
                        reviewed = min(reviewed, now - dt.timedelta(minutes=5))
                    submission_id = ids.next("task_submission")
                    reviewer = rng.choice(trainers) if reviewed is not None and trainers else None
                    w.add(
                        TaskSubmission,
                        {
                            "id": submission_id,
                            "user_id": user_id,
                            "module_id": module.id,
                            "item_id": item.id,
                            "module_version": module.version,
                            "submission_type": item.submission or "text",
                            "link": "https://cloud.hwk.example/s/abgabe" if item.submission == "link" else None,
                            "text": "Abgabe" if item.submission in ("text", None) else None,
                            "checked_items": len(item.checklist) if item.submission == "checklist" else None,
                            "review_required": item.review,
                            "status": status,
                            "submitted_at": t,
                            "reviewer_id": reviewer,
                            "reviewer_role": "trainer" if reviewer else None,
                            "reviewed_at": reviewed,
                            "comment": "Bitte noch die Quelle ergänzen." if status == RETURNED else None,
                        },
                    )
                    event(TASK_SUBMITTED, module, item, t, submission_id=submission_id)
                    if not item.review:
                        row["completed_at"] = t
                        event(COMPLETED, module, item, t)
                    elif reviewed is not None:
                        kind = TASK_APPROVED if status == APPROVED else TASK_RETURNED
                        event(kind, module, item, reviewed, submission_id=submission_id, actor_id=reviewer)
                        if status == APPROVED:
                            row["completed_at"] = reviewed
                    t = reviewed or t
                row["task_status"] = status
                row["updated_at"] = t
            w.add(ItemProgress, row)
            if row["completed_at"] is not None:
                completions.append(row["completed_at"])
        if len(completions) == len(module.items):  # the app remembers the first completion of a module
            w.add(
                ModuleCompletion,
                {
                    "user_id": user_id,
                    "module_id": module.id,
                    "module_version": module.version,
                    "completed_at": max(completions),
                },
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description="Seed the coordinators' dashboards with volunteers, progress, live tutorials and rosters. "
        "WARNING: runs db.drop_all() and db.create_all() on the given database (in the schema its search_path "
        "option names, created if missing): everything in it is deleted.",
        epilog=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--db", required=True, help="SQLAlchemy URI of a scratch database (it is emptied)")
    parser.add_argument("--volunteers", type=int, default=10_000)
    parser.add_argument("--chambers", type=int, default=20)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from lms import create_app

    ensure_schema(args.db)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": args.db, "SECRET_KEY": "bench-seed"})
    summary = seed(app, volunteers=max(1, min(args.volunteers, 200_000)), chambers=args.chambers, seed=args.seed)
    print(f"database {args.db.split('@')[-1]}")
    summary.print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
