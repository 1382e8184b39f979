"""Configuration, health, launch tokens, error pages, architecture rules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lms import create_app
from lms.core.config import ConfigError
from lti.roles import Role, map_role
from tests.conftest import Lti, page_text

ROOT = Path(__file__).resolve().parent.parent


def test_refuses_to_start_without_secret_key(monkeypatch) -> None:
    monkeypatch.delenv("MEDIENWERK_SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="MEDIENWERK_SECRET_KEY"):
        create_app()
    create_app({"DEMO": True})  # the demo makes its own


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("MEDIENWERK_BBB_CHECKSUM", "md5", "MEDIENWERK_BBB_CHECKSUM"),
        ("MEDIENWERK_TIMEZONE", "Mars/Olympus", "MEDIENWERK_TIMEZONE"),
        ("MEDIENWERK_PROXY_COUNT", "two", "MEDIENWERK_PROXY_COUNT"),
        ("MEDIENWERK_BBB_URL", "https://bbb.example/bigbluebutton/", "MEDIENWERK_BBB_SECRET"),
        ("MEDIENWERK_BBB_TIMEOUT", "fast", "MEDIENWERK_BBB_TIMEOUT"),
        ("MEDIENWERK_BBB_TIMEOUT", "0", "MEDIENWERK_BBB_TIMEOUT"),
        ("MEDIENWERK_LIVE_ATTENDED_PERCENT", "120", "MEDIENWERK_LIVE_ATTENDED_PERCENT"),
        ("MEDIENWERK_LIVE_RECORDING_RETENTION_DAYS", "0", "MEDIENWERK_LIVE_RECORDING_RETENTION_DAYS"),
        ("MEDIENWERK_SMTP_PORT", "smtp", "MEDIENWERK_SMTP_PORT"),
        ("MEDIENWERK_SMTP_STARTTLS", "vielleicht", "MEDIENWERK_SMTP_STARTTLS"),
    ],
)
def test_bad_configuration_is_named(monkeypatch, var: str, value: str, message: str) -> None:
    monkeypatch.setenv("MEDIENWERK_SECRET_KEY", "x")
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigError, match=message):
        create_app()


def test_cli_without_secret_key_says_what_to_do(monkeypatch) -> None:
    from click.testing import CliRunner

    from lms.cli import main

    monkeypatch.delenv("MEDIENWERK_SECRET_KEY", raising=False)
    result = CliRunner().invoke(main, ["run", "--port", "5999"])
    assert result.exit_code != 0
    assert "MEDIENWERK_SECRET_KEY is not set" in result.output
    assert "Traceback" not in result.output


def test_healthz(client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.get_json() == {"status": "ok"}


def test_healthz_is_liveness_and_readyz_tells_when_the_database_is_down() -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    client = app.test_client()
    assert client.get("/healthz").status_code == 200  # the process serves; a restart would not help
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.get_json()["checks"]["database"] == "unavailable"


def test_proxy_fix_follows_proxy_count(db_uri) -> None:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": db_uri, "PROXY_COUNT": 1})

    @app.get("/_scheme")
    def scheme() -> str:
        from flask import request

        return request.scheme

    resp = app.test_client().get("/_scheme", headers={"X-Forwarded-Proto": "https"})
    assert resp.text == "https"


def test_unknown_page_is_readable_404(client) -> None:
    resp = client.get("/nope")
    assert resp.status_code == 404 and "Diese Seite gibt es nicht" in page_text(resp.text)


def test_forged_or_expired_launch_token_is_401(lti: Lti) -> None:
    import requests

    resp = requests.get(lti.tool.url + "/t/forged.token.here/", timeout=10)
    assert resp.status_code == 401 and "Sitzung ist abgelaufen" in page_text(resp.text)
    ok = lti.launch()
    with lti.app.app_context():
        from lms.core.db import utcnow
        from lms.core.extensions import db
        from lms.core.launch_session import LaunchSession

        session = db.session.query(LaunchSession).one()
        session.expires_at = utcnow()
        db.session.commit()
    assert requests.get(ok.url, timeout=10).status_code == 401


def test_pages_after_launch_work_without_cookies(lti: Lti) -> None:
    import requests

    landing = lti.launch()
    fresh = requests.get(landing.url, timeout=10)  # no cookies at all
    assert fresh.status_code == 200 and "Hallo Lena Schreiner!" in page_text(fresh.text)
    assert fresh.headers["Referrer-Policy"] == "same-origin"
    assert "no-store" in fresh.headers["Cache-Control"]
    assert 'target="_blank"' in fresh.text  # open in a new window


def test_return_url_is_offered(lti: Lti) -> None:
    lti.double.return_url = "https://moodle.example/course/view.php?id=3"
    resp = lti.launch()
    assert "Zurück zum Kurs" in page_text(resp.text)
    assert 'href="https://moodle.example/course/view.php?id=3" target="_top"' in resp.text


def test_language_switch_sticks_for_the_launch(lti: Lti) -> None:
    import requests

    landing = lti.launch()
    en = requests.get(landing.url + "?lang=en", timeout=10)
    assert 'lang="en"' in en.text
    again = requests.get(landing.url, timeout=10)
    assert 'lang="en"' in again.text
    # an address under the launch that matches no page answers in the chosen language too
    missing = requests.get(landing.url + "no-such-page", timeout=10)
    assert missing.status_code == 404 and "This page does not exist." in page_text(missing.text)


def test_post_without_csrf_token_is_rejected(lti: Lti) -> None:
    import requests

    landing = lti.launch()
    resp = requests.post(landing.url, data={"x": "1"}, timeout=10)
    assert resp.status_code in (400, 405)


@pytest.mark.parametrize(
    ("roles", "role"),
    [
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"], Role.VOLUNTEER),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"], Role.TRAINER),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"], Role.TRAINER),
        (["TeachingAssistant"], Role.TRAINER),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], Role.COORDINATOR),
        (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator", "Learner"], Role.COORDINATOR),
        (["http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"], Role.VOLUNTEER),
        ([], Role.VOLUNTEER),
        ([""], Role.VOLUNTEER),
        (None, Role.VOLUNTEER),
        (["urn:unknown"], Role.VOLUNTEER),
    ],
)
def test_role_mapping(roles, role) -> None:
    assert map_role(roles) == role


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def test_lti_never_imports_lms() -> None:
    assert "lms" not in _imports("lti")


def test_only_lti_imports_pylti1p3() -> None:
    assert "pylti1p3" not in _imports("lms")
    assert "pylti1p3" in _imports("lti")


# imports of the project's own modules inside functions, on purpose: lms/__init__.py makes ``lms.create_app``
# importable without loading the app; gunicorn reads its settings module before the app exists
LAZY_IMPORTS_ON_PURPOSE = {("lms/__init__.py", "lms.app"), ("lms/gunicorn_conf.py", "lms.core.jobs")}


def test_no_import_of_the_project_hides_in_a_function() -> None:
    """The layers are one-way (import-linter checks the arrows); an import inside a function would only hide a
    cycle from that check, so every import of lms or lti sits at the top of its module."""
    import ast

    hidden = set()
    for path in sorted((ROOT / "lms").rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.ImportFrom) and inner.module and inner.module.split(".")[0] in ("lms", "lti"):
                    hidden.add((path.relative_to(ROOT).as_posix(), inner.module))
    assert hidden == LAZY_IMPORTS_ON_PURPOSE


def test_english_pages_are_translated(lti: Lti) -> None:
    import requests

    landing = lti.launch()
    en = page_text(requests.get(landing.url + "?lang=en", timeout=10).text)
    assert "Hello Lena Schreiner!" in en and "Open in a new window" in en and "Your role" in en


def test_compiled_catalogue_matches_the_po_file() -> None:
    from babel.messages.mofile import read_mo
    from babel.messages.pofile import read_po

    folder = ROOT / "lms" / "translations" / "en" / "LC_MESSAGES"

    def key(value: object) -> object:
        return tuple(value) if isinstance(value, list | tuple) else value

    with open(folder / "messages.po", "rb") as po, open(folder / "messages.mo", "rb") as mo:
        source = {key(m.id): key(m.string) for m in read_po(po) if m.id and m.string}
        compiled = {key(m.id): key(m.string) for m in read_mo(mo) if m.id}
    assert source == compiled, "run ./scripts/i18n.sh to recompile the catalogue"


def test_request_logs_do_not_carry_tokens() -> None:
    from lms.core.logs import redact

    line = '127.0.0.1 - - "GET /t/ImFiYyI.aw.xyz/m/ HTTP/1.1" 200 -'
    assert "ImFiYyI" not in redact(line) and "/t/…/m/" in redact(line)
    assert "s3cr3t" not in redact("GET /bigbluebutton/api/join?meetingID=1&checksum=s3cr3t HTTP/1.1")


def test_launch_state_lives_in_redis_when_configured(db_uri: str, tmp_path) -> None:
    import redis

    from lms.core.extensions import db
    from lms.core.state import RedisStateStore

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": db_uri,
            "SECRET_KEY": "x",
            "REDIS_URL": "redis://127.0.0.1:6379/15",
            "JOBS_SQLITE_PATH": str(tmp_path / "j.sqlite"),
        }
    )
    store = app.extensions["medienwerk"]["state_store"]
    assert isinstance(store, RedisStateStore)
    with app.app_context():
        db.drop_all()
        db.create_all()
    try:
        store.set("probe", {"a": 1}, 60)
        assert store.get("probe") == {"a": 1}
        assert store.add("probe", 2, 60) is False
        assert store.pop("probe") == {"a": 1} and store.pop("probe") is None
        # a whole launch with its nonce in Redis
        from lms.demo.platform import PlatformDouble, create_platform_app
        from lms.platforms.services import add_platform
        from tests.conftest import LiveServer

        tool = LiveServer(app)
        double = PlatformDouble(issuer="x")
        platform = LiveServer(create_platform_app(double))
        double.issuer, double.tool_login_url, double.tool_launch_url = (
            platform.url,
            tool.url + "/lti/login",
            tool.url + "/lti/launch",
        )
        with app.app_context():
            add_platform(
                issuer=double.issuer,
                client_id=double.client_id,
                deployment_id="1",
                auth_login_url=double.auth_login_url,
                auth_token_url=double.auth_token_url,
                key_set_url=double.key_set_url,
            )
            db.session.commit()
        tool.start()
        platform.start()
        try:
            lti = Lti(tool=tool, platform=platform, double=double, app=app)
            _, query = lti.auth_request()
            client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
            assert any(query["nonce"] in k.decode() for k in client.keys("medienwerk:state:*"))
            assert lti.launch().status_code == 200
        finally:
            tool.stop()
            platform.stop()
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


def test_expired_launch_sessions_are_purged(lti: Lti) -> None:
    import datetime as dt

    from lms.core.db import utcnow
    from lms.core.extensions import db
    from lms.core.launch_session import LaunchSession
    from lms.launches.jobs import purge_expired

    lti.launch()
    lti.launch("trainer")
    with lti.app.app_context():
        first = db.session.query(LaunchSession).order_by(LaunchSession.created_at).first()
        first.last_seen_at = utcnow() - dt.timedelta(days=1)
        db.session.commit()
        purge_expired()
        db.session.commit()
        assert db.session.query(LaunchSession).count() == 1


def test_gunicorn_access_log_is_redacted() -> None:
    import datetime as dt
    from types import SimpleNamespace

    from gunicorn.config import Config

    from lms.core.logs import GunicornLogger

    logger = GunicornLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/t/ImFiYyI.aw.xyz/live/?checksum=abc",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": "/live-feed/secret-feed-token.ics",
        "QUERY_STRING": "token=abc",
        "HTTP_REFERER": "https://tool/t/ImFiYyI.aw.xyz/",
    }
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(resp, {}, environ, dt.timedelta(seconds=1))
    joined = " ".join(str(v) for v in atoms.values())
    assert "ImFiYyI" not in joined and "secret-feed-token" not in joined and "abc" not in joined
