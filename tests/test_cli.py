"""The medienwerk command: registrations, coordinator grants, keys, migrations."""

from __future__ import annotations

from sqlalchemy import select

from lms.core.extensions import db
from lms.platforms.models import Chamber, Platform
from lms.users.models import User

MOODLE = "https://moodle.hwk-musterstadt.de"
ARGS = [
    "--issuer",
    MOODLE,
    "--client-id",
    "abc123",
    "--deployment-id",
    "1",
    "--auth-login-url",
    MOODLE + "/mod/lti/auth.php",
    "--auth-token-url",
    MOODLE + "/mod/lti/token.php",
    "--key-set-url",
    MOODLE + "/mod/lti/certs.php",
]


def test_platform_add_list_and_update(app, runner) -> None:
    result = runner.invoke(args=["platform", "add", *ARGS, "--name", "HWK Musterstadt"])
    assert result.exit_code == 0, result.output
    assert "Registered HWK Musterstadt" in result.output
    assert "/lti/login" in result.output
    result = runner.invoke(args=["platform", "add", *ARGS[:4], "--deployment-id", "7", *ARGS[6:]])
    assert result.exit_code == 0 and "Deployment 7 added" in result.output
    listed = runner.invoke(args=["platform", "list"])
    assert "HWK Musterstadt [enabled]" in listed.output
    assert "deployments:    1, 7" in listed.output
    for label in ("Tool URL", "Initiate login URL", "Redirection URI(s)", "Public keyset URL"):
        assert label in listed.output
    with app.app_context():
        assert db.session.execute(select(Platform)).scalar_one().chamber.slug == "hwk-musterstadt"


def test_platform_add_with_chamber_and_central(app, runner) -> None:
    result = runner.invoke(args=["platform", "add", *ARGS, "--chamber", "zentrale", "--central"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        chamber = db.session.execute(select(Chamber)).scalar_one()
        assert chamber.slug == "zentrale" and chamber.is_central


def test_second_client_of_same_issuer_joins_its_chamber(app, runner) -> None:
    runner.invoke(args=["platform", "add", *ARGS])
    args = list(ARGS)
    args[3] = "other-client"
    assert runner.invoke(args=["platform", "add", *args]).exit_code == 0
    with app.app_context():
        assert len(db.session.execute(select(Chamber)).all()) == 1
        assert len(db.session.execute(select(Platform)).all()) == 2


def test_platform_add_rejects_bad_urls(app, runner) -> None:
    args = list(ARGS)
    args[9] = "ftp://nope"
    result = runner.invoke(args=["platform", "add", *args])
    assert result.exit_code != 0
    assert "--auth-token-url must be an http(s) URL" in result.output
    with app.app_context():
        assert db.session.execute(select(Platform)).first() is None


def test_disable_and_enable(app, runner) -> None:
    runner.invoke(args=["platform", "add", *ARGS])
    assert "Disabled" in runner.invoke(args=["platform", "disable", "--issuer", MOODLE]).output
    assert "[DISABLED]" in runner.invoke(args=["platform", "list"]).output
    assert "Enabled" in runner.invoke(args=["platform", "enable", "--issuer", MOODLE, "--client-id", "abc123"]).output
    result = runner.invoke(args=["platform", "disable", "--issuer", "https://unknown.example"])
    assert result.exit_code != 0 and "no registration" in result.output


def test_coordinator_grants(app, runner) -> None:
    runner.invoke(args=["platform", "add", *ARGS])
    result = runner.invoke(args=["coordinator", "add", "--issuer", MOODLE, "--sub", "42"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.is_coordinator and user.sub == "42"
        user.email = "koordination@hwk.example"
        db.session.commit()
    result = runner.invoke(args=["coordinator", "remove", "--issuer", MOODLE, "--email", "koordination@hwk.example"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert not db.session.execute(select(User)).scalar_one().is_coordinator
    unknown = runner.invoke(args=["coordinator", "add", "--issuer", MOODLE, "--email", "nobody@example.org"])
    assert unknown.exit_code != 0 and "no user with this e-mail" in unknown.output
    both = runner.invoke(args=["coordinator", "add", "--issuer", MOODLE, "--sub", "1", "--email", "x@y.z"])
    assert both.exit_code != 0 and "either --sub or --email" in both.output
    wrong = runner.invoke(args=["coordinator", "add", "--issuer", "https://other.example", "--sub", "1"])
    assert wrong.exit_code != 0 and "no registration" in wrong.output


def test_coordinator_grant_applies_at_next_launch(lti, runner) -> None:
    result = runner.invoke(args=["coordinator", "add", "--issuer", lti.double.issuer, "--sub", "demo-lena"])
    assert result.exit_code == 0, result.output
    from tests.conftest import page_text

    assert "Koordination" in page_text(lti.launch("volunteer").text)


def test_keys_rotate_and_retire(app, runner, client) -> None:
    assert client.get("/lti/jwks").get_json()["keys"] == []  # requests create no key
    assert "active" in runner.invoke(args=["keys", "list"]).output  # commands do, when there is none
    first = client.get("/lti/jwks").get_json()["keys"]
    assert len(first) == 1 and first[0]["alg"] == "RS256" and "d" not in first[0]
    old_kid = first[0]["kid"]
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0
    kids = [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]]
    assert len(kids) == 2 and old_kid in kids
    listing = runner.invoke(args=["keys", "list"]).output
    assert "active" in listing and "published" in listing
    new_kid = next(k for k in kids if k != old_kid)
    refused = runner.invoke(args=["keys", "retire", new_kid])
    assert refused.exit_code != 0 and "active key cannot be retired" in refused.output
    assert runner.invoke(args=["keys", "retire", old_kid]).exit_code == 0
    assert [k["kid"] for k in client.get("/lti/jwks").get_json()["keys"]] == [new_kid]
    assert runner.invoke(args=["keys", "retire", "nope"]).exit_code != 0


def test_db_upgrade_twice_then_check(db_uri, tmp_path, monkeypatch) -> None:
    """Migrations apply from empty, are safe to run twice, and match the models."""
    from lms import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_uri})
    with app.app_context():
        db.drop_all()
        from sqlalchemy import text

        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["db", "upgrade"])
        assert result.exit_code == 0, result.output
    check = runner.invoke(args=["db", "check"])
    assert check.exit_code == 0, check.output
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        db.engine.dispose()


def test_a_kid_that_starts_with_a_dash_can_be_retired(app, runner) -> None:
    from lms.core.extensions import db
    from lms.platforms.models import ToolKey

    with app.app_context():
        db.session.add(ToolKey(kid="-Dash_kid", private_pem="x", public_jwk={}, active=False))
        db.session.commit()
    result = runner.invoke(args=["keys", "retire", "-Dash_kid"])
    assert result.exit_code == 0, result.output
    assert "Retired key -Dash_kid." in result.output
