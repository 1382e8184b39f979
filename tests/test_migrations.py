"""Upgrading a running install: the schema of the previous release with data in it goes to head and back.

The previous release is revision 9f71e37af57c, head of the first release (29 November 2026: learner pages,
live tutorials, grades, rosters). An install at that revision gets representative rows (a chamber, an LMS
registration, two active signing keys as concurrent first launches could leave them, a volunteer with
enrolment, progress, a self-check attempt and a delivered grade); `db upgrade` takes it to head, the rows are
read back through today's models, the data migration left one active key, and `db check` finds models and
migrations in agreement. `db downgrade` back to the previous release keeps the rows, and upgrading again works.
Upgrading from an empty database is tests/test_cli.py's `test_db_upgrade_twice_then_check`.

Runs on SQLite and, in the PostgreSQL pass (MEDIENWERK_TEST_DATABASE_URI), in a schema of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from flask import Flask
from sqlalchemy import MetaData, Table, select, text

from lms import create_app
from lms.core.extensions import db

pytestmark = pytest.mark.database  # its own empty schema on PostgreSQL, not db_uri

PREVIOUS_RELEASE = "9f71e37af57c"
ISSUER = "https://moodle.hwk-alt.example"
WHEN = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)
M1 = "m1-sicher-im-netz"


@pytest.fixture
def empty_uri(tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or on PostgreSQL a schema of this test's own (dropped afterwards)."""
    base = os.environ.get("MEDIENWERK_TEST_DATABASE_URI", "")
    if not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'release.sqlite'}"
        return
    schema = f"m_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    engine = sqlalchemy.create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def release_app(empty_uri: str, tmp_path: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": empty_uri,
            "SECRET_KEY": "migration-test",
            "JOBS_SQLITE_PATH": str(tmp_path / "jobs.sqlite"),
        }
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _cli(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _insert(conn: Any, table: str, **values: Any) -> None:
    """A row into the table as the database has it now (the previous release's columns)."""
    conn.execute(Table(table, MetaData(), autoload_with=conn).insert().values(**values))


def _seed_previous_release(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        _insert(conn, "chamber", id=1, slug="hwk-alt", name="HWK Alt", is_central=False, created_at=WHEN)
        _insert(
            conn,
            "platform",
            id=1,
            chamber_id=1,
            name="Moodle HWK Alt",
            issuer=ISSUER,
            client_id="client-1",
            auth_login_url=ISSUER + "/mod/lti/auth.php",
            auth_token_url=ISSUER + "/mod/lti/token.php",
            key_set_url=ISSUER + "/mod/lti/certs.php",
            enabled=True,
            created_at=WHEN,
            updated_at=WHEN,
        )
        _insert(conn, "deployment", id=1, platform_id=1, deployment_id="1", enabled=True, created_at=WHEN)
        for number, (kid, created) in enumerate((("older", WHEN - dt.timedelta(days=1)), ("newer", WHEN)), 1):
            _insert(
                conn,
                "tool_key",
                id=number,
                kid=kid,
                private_pem="-----BEGIN PRIVATE KEY-----\n(test)\n-----END PRIVATE KEY-----\n",
                public_jwk={"kty": "RSA", "kid": kid, "n": "AQAB", "e": "AQAB"},
                active=True,  # two active keys: what concurrent first launches could leave behind
                created_at=created,
            )
        _insert(
            conn,
            "user_account",
            id=1,
            chamber_id=1,
            issuer=ISSUER,
            sub="lena-1",
            name="Lena Alt",
            email="lena@example.org",
            is_coordinator=False,
            created_at=WHEN,
            last_launch_at=WHEN,
        )
        _insert(
            conn,
            "course",
            id=1,
            chamber_id=1,
            issuer=ISSUER,
            context_id="kurs-1",
            title="Botschafter*innen",
            created_at=WHEN,
            updated_at=WHEN,
        )
        _insert(
            conn, "enrollment", id=1, user_id=1, course_id=1, role="volunteer", created_at=WHEN, last_launch_at=WHEN
        )
        _insert(
            conn,
            "item_progress",
            id=1,
            user_id=1,
            module_id=M1,
            item_id="01-passwoerter",
            kind="lesson",
            attempts=0,
            completed_at=WHEN,
            updated_at=WHEN,
        )
        _insert(
            conn,
            "quiz_attempt",
            id=1,
            user_id=1,
            module_id=M1,
            item_id="90-selbstcheck",
            module_version="1",
            content_hash="0" * 64,
            score=80,
            correct_count=4,
            question_count=5,
            pass_mark=70,
            passed=True,
            created_at=WHEN,
        )
        _insert(
            conn,
            "grade_link",
            id=1,
            platform_id=1,
            course_id=1,
            deployment_id="1",
            resource_link_id="rl-1",
            item_kind="overview",
            lineitem_url=ISSUER + "/mod/lti/services.php/1/lineitems/7/lineitem",
            scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
            created_at=WHEN,
            updated_at=WHEN,
        )
        _insert(
            conn,
            "grade_link_user",
            id=1,
            link_id=1,
            user_id=1,
            platform_user_id="lena-1",
            first_launch_at=WHEN,
            last_launch_at=WHEN,
        )
        _insert(
            conn,
            "score_outbox",
            id=1,
            link_id=1,
            user_id=1,
            platform_user_id="lena-1",
            score_given=25.0,
            score_maximum=100.0,
            activity_progress="InProgress",
            grading_progress="FullyGraded",
            scored_at=WHEN,
            version=1,
            status="delivered",
            attempts=1,
            next_attempt_at=WHEN,
            delivered_at=WHEN,
            delivered_score=25.0,
            delivered_version=1,
            sent_timestamp=WHEN,
            created_at=WHEN,
            updated_at=WHEN,
        )


def _check_rows_through_todays_models(app: Flask) -> None:
    from lms.grades.models import ScoreOutbox
    from lms.platforms.models import Platform, ToolKey
    from lms.progress.models import ItemProgress, QuizAttempt
    from lms.users.models import Enrollment, LmsCourse, User

    with app.app_context():
        user = db.session.execute(select(User).where(User.sub == "lena-1")).scalar_one()
        assert (user.chamber.slug, user.issuer, user.name, user.email) == (
            "hwk-alt",
            ISSUER,
            "Lena Alt",
            "lena@example.org",
        )
        course = db.session.execute(select(LmsCourse)).scalar_one()
        assert (course.chamber_id, course.context_id) == (user.chamber_id, "kurs-1")
        enrollment = db.session.execute(select(Enrollment)).scalar_one()
        assert (enrollment.user_id, enrollment.course_id, enrollment.role) == (user.id, course.id, "volunteer")
        platform = db.session.execute(select(Platform)).scalar_one()
        assert (platform.client_id, [d.deployment_id for d in platform.deployments]) == ("client-1", ["1"])
        progress = db.session.execute(select(ItemProgress)).scalar_one()
        assert (progress.user_id, progress.module_id, progress.completed_at) == (user.id, M1, WHEN)
        attempt = db.session.execute(select(QuizAttempt)).scalar_one()
        assert (attempt.score, attempt.passed) == (80, True)
        row = db.session.execute(select(ScoreOutbox)).scalar_one()
        assert (row.status, row.score_given, row.sent_timestamp, row.link.resource_link_id) == (
            "delivered",
            25.0,
            WHEN,
            "rl-1",
        )
        keys = {k.kid: k.active for k in db.session.execute(select(ToolKey)).scalars()}
        assert keys == {"older": False, "newer": True}  # the newest stays active, the other stays published
        db.session.remove()


def test_the_previous_release_with_data_upgrades_to_head_and_back(release_app: Flask) -> None:
    _cli(release_app, "db", "upgrade", PREVIOUS_RELEASE)
    _seed_previous_release(release_app)

    _cli(release_app, "db", "upgrade")
    _check_rows_through_todays_models(release_app)
    _cli(release_app, "db", "check")

    _cli(release_app, "db", "downgrade", PREVIOUS_RELEASE)
    with release_app.app_context(), db.engine.connect() as conn:
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        counts = {
            table: conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: S608 - fixed names
            for table in ("user_account", "course", "enrollment", "item_progress", "quiz_attempt", "score_outbox")
        }
        tables = set(sqlalchemy.inspect(conn).get_table_names())
    assert version == PREVIOUS_RELEASE
    assert counts == dict.fromkeys(counts, 1)
    assert "module_completion" not in tables and "audit_entry" not in tables

    _cli(release_app, "db", "upgrade")
    _check_rows_through_todays_models(release_app)
    _cli(release_app, "db", "check")
