"""The smaller hardenings: ids beyond the database's range, invitation tokens in logs, framing and form targets,
HSTS, rate limits, and sessions of a platform that was disabled."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from lms.core.config import ConfigError, rate_limits
from lms.core.extensions import db
from tests.conftest import page_text
from tests.security.conftest import World


def _csp(resp: Any) -> dict[str, list[str]]:
    policy: dict[str, list[str]] = {}
    for part in resp.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        policy[name] = values
    return policy


# --- (a) ids beyond 2^63 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("number", [2**31, 2**63 - 1, 2**63, 10**30])
def test_ids_beyond_the_database_range_are_404(world: World, number: int) -> None:
    trainer = world.a.actors["trainer"]
    for path in (f"live/{number}", f"reviews/{number}", f"dashboard/volunteers/{number}"):
        assert world.client.get(trainer.url(path)).status_code == 404, path
    resp = world.client.post(trainer.url(f"live/{number}/signup"), data={"csrf_token": trainer.csrf})
    assert resp.status_code == 404


def test_the_largest_database_id_still_routes(world: World) -> None:
    trainer = world.a.actors["trainer"]
    assert world.client.get(trainer.url(f"live/{2**31 - 1}")).status_code == 404  # routed, not found


# --- (b) invitation tokens are redacted ---------------------------------------------------------------------


def test_invitation_tokens_do_not_reach_the_access_log() -> None:
    from lms.core.logs import redact

    line = '127.0.0.1 - - "GET /lti/register?invitation=Zq8-Secret_Token.1&openid_configuration=x HTTP/1.1" 200 -'
    assert "Zq8-Secret_Token.1" not in redact(line) and "invitation=…&openid_configuration=x" in redact(line)


# --- (c) frame-ancestors, form-action, HSTS ---------------------------------------------------------------


def test_a_launched_page_may_be_framed_only_by_its_platform(world: World) -> None:
    resp = world.client.get(world.a.actors["volunteer"].url("m/"))
    policy = _csp(resp)
    assert policy["frame-ancestors"] == ["'self'", "https://lms-a.example.org"]
    assert policy["form-action"] == ["'self'", "https://lms-a.example.org"]
    assert "Strict-Transport-Security" not in resp.headers  # plain HTTP


def test_entry_pages_may_be_framed_by_every_registered_platform(world: World) -> None:
    login = world.client.get("/lti/login")  # no parameters: the readable error page
    assert login.status_code == 400
    assert _csp(login)["frame-ancestors"] == ["'self'", "https://lms-a.example.org", "https://lms-b.example.org"]
    ended = world.client.get("/t/not-a-token/")  # the "session ended" page shows inside the LMS too
    assert ended.status_code == 401
    assert "https://lms-b.example.org" in _csp(ended)["frame-ancestors"]


def test_a_disabled_platform_may_not_frame_the_entry_pages(world: World) -> None:
    from lms.platforms.services import set_platform_enabled

    with world.app.app_context():
        set_platform_enabled("https://lms-b.example.org", None, False)
        db.session.commit()
    assert _csp(world.client.get("/lti/login"))["frame-ancestors"] == ["'self'", "https://lms-a.example.org"]


def test_other_pages_are_same_origin_only_and_registration_may_be_framed(world: World) -> None:
    assert _csp(world.client.get("/nowhere"))["frame-ancestors"] == ["'self'"]
    register = world.client.get("/lti/register")
    assert "frame-ancestors" not in _csp(register)  # the LMS that registers is not registered yet
    for resp in (world.client.get("/nowhere"), register):
        assert _csp(resp)["form-action"] == ["'self'"]


def test_live_tutorial_pages_let_the_join_form_follow_bbb_redirects(world: World) -> None:
    world.app.config["BBB_URL"] = "https://bbb.example.org/bigbluebutton/"
    volunteer = world.a.actors["volunteer"]
    policy = _csp(world.client.get(volunteer.url(f"live/{world.a.courses[0].session_id}")))
    assert policy["form-action"] == ["'self'", "https:", "https://bbb.example.org", "https://lms-a.example.org"]


def test_https_answers_carry_hsts(world: World) -> None:
    resp = world.client.get(world.a.actors["volunteer"].url("m/"), base_url="https://tool.example.org")
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"


# --- (d) rate limits ---------------------------------------------------------------------------------------


LIMITS = rate_limits("login=2/minute,calendar_feeds=1/minute,launch=3/minute")


def _limited_app(make_app: Any, db_uri: str, **config: Any) -> Flask:
    app: Flask = make_app(db_uri, RATE_LIMITS=LIMITS, **config)
    with app.app_context():
        db.create_all()
    return app


def test_too_many_logins_get_a_readable_429(app: Flask, db_uri: str, make_app: Any) -> None:
    limited = _limited_app(make_app, db_uri)
    client = limited.test_client()
    assert [client.get("/lti/login").status_code for _ in range(2)] == [400, 400]
    resp = client.get("/lti/login")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "60"
    text = page_text(resp.get_data(as_text=True))
    assert "Zu viele Anfragen in kurzer Zeit." in text and "Traceback" not in text
    # per client address: another address still logs in; other groups count on their own
    other = client.get("/lti/login", environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert other.status_code == 400
    assert client.post("/lti/launch").status_code != 429
    assert client.get("/healthz").status_code == 200  # not limited


def test_calendar_feeds_and_english_429(app: Flask, db_uri: str, make_app: Any) -> None:
    client = _limited_app(make_app, db_uri).test_client()
    assert client.get("/live-feed/unknown.ics").status_code == 404
    resp = client.get("/live-feed/unknown.ics?lang=en")
    assert resp.status_code == 429 and "Too many requests" in page_text(resp.get_data(as_text=True))


def test_limits_are_counted_in_redis_when_configured(app: Flask, db_uri: str, make_app: Any) -> None:
    import redis

    limited = _limited_app(make_app, db_uri, REDIS_URL="redis://127.0.0.1:6379/15")
    server = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    for key in server.scan_iter("*medienwerk:limits*"):
        server.delete(key)
    try:
        client = limited.test_client()
        client.get("/lti/login")
        keys = [k.decode() for k in server.scan_iter("*medienwerk:limits*")]
        assert keys and all("login" in k for k in keys)
        # a second process (another app) shares the count
        other = _limited_app(make_app, db_uri, REDIS_URL="redis://127.0.0.1:6379/15").test_client()
        assert other.get("/lti/login").status_code == 400
        assert other.get("/lti/login").status_code == 429
    finally:
        for key in server.scan_iter("*medienwerk:limits*"):
            server.delete(key)


def test_rate_limits_setting() -> None:
    limits = rate_limits("login=5/minute, launch=10/second;300/hour")
    assert limits["login"] == "5/minute" and limits["launch"] == "10/second;300/hour"
    assert limits["registration"] == "30/hour"  # unnamed groups keep their default
    with pytest.raises(ConfigError, match="unknown group"):
        rate_limits("logins=5/minute")
    with pytest.raises(ConfigError, match="not a limit"):
        rate_limits("login=often")


# --- (e) platform disable ends running sessions ---------------------------------------------------------------


def test_disabling_a_platform_ends_its_running_sessions(world: World) -> None:
    from lms.platforms.services import set_platform_enabled

    volunteer = world.a.actors["volunteer"]
    assert world.client.get(volunteer.url("m/")).status_code == 200
    with world.app.app_context():
        set_platform_enabled("https://lms-a.example.org", None, False)
        db.session.commit()
    resp = world.client.get(volunteer.url("m/"))
    assert resp.status_code == 401
    assert "Deine Sitzung ist abgelaufen" in page_text(resp.get_data(as_text=True))
    assert world.client.get(world.b.actors["volunteer"].url("m/")).status_code == 200  # the other chamber works
    with world.app.app_context():
        set_platform_enabled("https://lms-a.example.org", None, True)
        db.session.commit()
    assert world.client.get(volunteer.url("m/")).status_code == 200


def test_disabling_a_deployment_ends_its_running_sessions(world: World) -> None:
    from lms.platforms.models import Deployment

    volunteer = world.a.actors["volunteer"]
    with world.app.app_context():
        deployment = db.session.query(Deployment).filter_by(platform_id=world.a.platform_id).one()
        deployment.enabled = False
        db.session.commit()
    resp = world.client.get(volunteer.url("m/"))
    assert resp.status_code == 401 and "Öffne medienwerk noch einmal aus deinem Kurs" in resp.get_data(as_text=True)


def test_loading_a_launch_session_is_one_statement(world: World) -> None:
    from lms.core.security import load_launch_session

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    token = world.a.actors["trainer"].token
    with world.app.test_request_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            session = load_launch_session(token)
            assert session is not None and session.platform.issuer == "https://lms-a.example.org"
        finally:
            event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1 and re.search(r"\bJOIN platform\b", statements[0])
