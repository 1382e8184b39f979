"""The application factory: configuration, extensions, the domains in their order, CLI, error pages."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.audit import setup as audit
from lms.certificates import setup as certificates
from lms.commands import register_cli
from lms.core import headers, limits
from lms.core.config import environ, load_config
from lms.core.errors import OUTAGE_ERRORS, outage_response, register_error_handlers, rollback_quietly
from lms.core.extensions import babel, db, migrate
from lms.core.jobs import jobs, maybe_start_embedded
from lms.core.logs import install as install_log_redaction
from lms.core.resources import MIGRATIONS_DIR, TEMPLATES_DIR
from lms.core.security import csrf_token, load_launch_session
from lms.core.state import DbStateStore, RedisStateStore
from lms.core.urls import DatabaseIntConverter
from lms.courses import setup as courses
from lms.dashboards import setup as dashboards
from lms.deep_linking import setup as deep_linking
from lms.grades import setup as grades
from lms.home import setup as home
from lms.launches import setup as launches
from lms.live_sessions import setup as live_sessions
from lms.mail import setup as mail
from lms.personal_data import setup as personal_data
from lms.platforms import setup as platforms
from lms.platforms.services import platform_urls
from lms.privacy import setup as privacy
from lms.progress import setup as progress
from lms.registrations import setup as registrations
from lms.rosters import setup as rosters
from lms.users import setup as users

__all__ = ["create_app"]


def _select_locale() -> str:
    from flask import has_request_context

    langs = ("de", "en")
    if not has_request_context():  # jobs render mails in the platform's default language
        return str(g.get("locale_hint") or "de") if g else "de"
    chosen = request.args.get("lang")
    if chosen in langs:
        return chosen
    launch = g.get("launch")
    if launch is None and request.path.startswith("/t/"):
        launch = _launch_of_unmatched_address()
    if launch is not None and launch.locale in langs:
        return str(launch.locale)
    hint = g.get("locale_hint")
    if hint in langs:
        return str(hint)
    return "de"


def _launch_of_unmatched_address() -> Any:
    """The launch session of an address under ``/t/<token>/`` that matched no page (its 404 comes in the
    person's language too), or None."""
    token = request.path.split("/", 3)[2]
    try:
        return load_launch_session(token)
    except Exception:  # the database is down: the error page must still come, in German
        return None


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Application factory: load config, bind extensions, register blueprints, CLI and error pages."""
    test_config = _cli_defaults(test_config)
    app = Flask(
        "lms",  # the package: its root path holds static/ and translations/
        instance_path=os.environ.get("MEDIENWERK_INSTANCE_PATH") or None,
        template_folder=str(TEMPLATES_DIR),
        static_folder="static",
    )
    app.config.update(load_config(app.instance_path, test_config, environ()))

    app.url_map.converters["int"] = DatabaseIntConverter  # before any route: ids beyond the database's range 404
    os.makedirs(app.instance_path, exist_ok=True)
    logging.getLogger("lms").setLevel(logging.INFO)

    install_log_redaction()

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=_select_locale)

    redis_url = app.config["REDIS_URL"]
    store = RedisStateStore(redis_url, timeout=app.config["REDIS_TIMEOUT"]) if redis_url else DbStateStore()
    app.extensions["medienwerk"] = {"state_store": store}

    _register_domains(app)

    limits.init_app(app)

    jobs.init_app(app)
    maybe_start_embedded(app)

    register_error_handlers(app)

    register_cli(app)
    _register_unit_of_work(app)
    _register_security_headers(app)
    _register_template_helpers(app)
    _register_secret_guard(app, test_config)

    @app.get("/favicon.ico")
    def favicon() -> Response:
        """Browsers ask for /favicon.ico on every page (the tool's and the demo LMS's): the SVG icon."""
        from flask import send_from_directory

        folder = app.static_folder or "static"
        return send_from_directory(folder, "favicon.svg", mimetype="image/svg+xml", max_age=86400)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        """Liveness: the process serves (CONTRACT: HTTP). Dependencies are /readyz's business."""
        return {"status": "ok"}, 200

    @app.get("/readyz")
    def readyz() -> tuple[dict[str, Any], int]:
        """Readiness: the database, Redis (when configured) and the job queue answer; 503 naming what does not."""
        checks = _readiness(app)
        ready = all(state in ("ok", "not configured") for state in checks.values())
        status = "ok" if ready else "unavailable"
        return {"status": status, "checks": checks}, 200 if ready else 503

    return app


def _readiness(app: Flask) -> dict[str, str]:
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except OUTAGE_ERRORS:
        checks["database"] = "unavailable"
    rollback_quietly()
    store = app.extensions["medienwerk"]["state_store"]
    checks["redis"] = "not configured"
    if isinstance(store, RedisStateStore):
        try:
            store.ping()
            checks["redis"] = "ok"
        except OUTAGE_ERRORS:
            checks["redis"] = "unavailable"
    queue_errors: tuple[type[Exception], ...] = (*OUTAGE_ERRORS, OSError, sqlite3.Error)
    try:
        jobs.ping()
        checks["jobs"] = "ok"
    except queue_errors:
        checks["jobs"] = "unavailable"
    return checks


def _cli_defaults(test_config: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """``flask --app lms …`` calls the factory without arguments from inside the command line: treat it like
    ``medienwerk …`` (lms/cli.py), whose commands that sign nothing (``courses check``, ``db check``) run
    without MEDIENWERK_SECRET_KEY. Serving still needs the key (:func:`_register_secret_guard`)."""
    import click

    if test_config is None and click.get_current_context(silent=True) is not None:
        return {"CLI": True}
    return test_config


def _register_secret_guard(app: Flask, test_config: Mapping[str, Any] | None) -> None:
    """The secret key is required lazily on the command line: an app made for a command without
    MEDIENWERK_SECRET_KEY got a throw-away key, so it must not answer requests (``flask --app lms run``):
    launch tokens signed with it would break at the next start."""
    config = app.config
    own_key = os.environ.get("MEDIENWERK_SECRET_KEY") or (test_config or {}).get("SECRET_KEY")
    if not config.get("CLI") or config["DEMO"] or config["TESTING"] or own_key:
        return

    @app.before_request
    def refuse() -> Response:
        return Response(
            "MEDIENWERK_SECRET_KEY is not set; the tool does not serve without it. "
            "(For a local try-out use 'medienwerk demo'.)\n",
            status=503,
            mimetype="text/plain",
        )


def _register_domains(app: Flask) -> None:
    """Every domain, bottom to top: each imports only the core and the domains before it (the layers contract
    in pyproject.toml enforces it). Each ``setup.init_app`` registers its tables, jobs, pages and signal
    receivers; needs that point upwards go through :mod:`lms.core.signals`."""
    for domain in (
        platforms,
        privacy,
        users,
        audit,
        launches,
        registrations,
        courses,
        progress,
        mail,
        grades,
        rosters,
        live_sessions,
        certificates,
        deep_linking,
        dashboards,
        personal_data,
        home,
    ):
        domain.init_app(app)


def _register_unit_of_work(app: Flask) -> None:
    """One transaction per request: views and services write and flush; the request commits once after a
    successful response (below 400) and rolls back otherwise, or when the view raised. A failing commit becomes
    the error page, so nothing is reported as saved that was not."""

    @app.after_request
    def commit(response: Response) -> Response:
        if response.status_code >= 400:
            rollback_quietly()
            return response
        try:
            db.session.commit()
        except OUTAGE_ERRORS as exc:  # the database went away before the commit: nothing was saved
            outage = outage_response(exc)
            for header in SECURITY_HEADERS:  # set on the answer that could not be sent (the hook ran first)
                if header in response.headers and header not in outage.headers:
                    outage.headers[header] = response.headers[header]
            return outage
        return response

    @app.teardown_request
    def rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "Referrer-Policy",
    "X-Content-Type-Options",
    "Strict-Transport-Security",
)


def _register_security_headers(app: Flask) -> None:
    """CSP with frame-ancestors and form-action limited to the platforms, HSTS over HTTPS (lms/core/headers.py).
    Runs before the unit of work's commit, while the launch's platform is still loaded."""
    from redis.exceptions import RedisError
    from sqlalchemy.exc import SQLAlchemyError

    def frame_origins(response: Response) -> set[str] | None:
        if request.path.startswith("/lti/register") or g.get("outage"):
            # framed by an LMS that is registering, so not registered yet / the database is gone: let the LMS
            # show the outage page in its frame, without waiting for the database again
            return None
        if response.mimetype != "text/html" or 300 <= response.status_code < 400:
            return set()  # nothing to frame or to submit
        try:
            launch = g.get("launch")
            if launch is not None:
                return headers.launch_origins(launch)
            if request.path.startswith(("/lti/", "/t/")):
                return {o for o in map(headers.origin_of, platform_urls()) if o}
        except (SQLAlchemyError, RedisError):
            return None  # as for an outage
        return set()

    @app.after_request
    def add_headers(response: Response) -> Response:
        return headers.apply(response, frame_origins(response), app.config.get("BBB_URL"))


def _register_template_helpers(app: Flask) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from babel import Locale
    from babel.dates import format_date, format_time
    from babel.numbers import format_percent
    from flask_babel import format_decimal, get_locale

    @app.template_filter("local_datetime")
    def local_datetime(value: Any) -> str:
        """A stored UTC time as local date and time (MEDIENWERK_TIMEZONE) in the page's language, the year with
        four digits: "05.03.2025, 14:30" / "Mar 5, 2025, 2:30 PM" (Babel's medium date, short time)."""
        if value is None:
            return ""
        zone = ZoneInfo(app.config["TIMEZONE"])
        locale = Locale.parse(str(get_locale() or "de"))
        pattern = locale.datetime_formats["medium"]
        moment = (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(zone)
        time = format_time(moment, "short", locale=locale)
        return str(pattern).replace("{1}", format_date(moment, "medium", locale=locale)).replace("{0}", time)

    @app.template_filter("number")
    def number(value: float | int | None) -> str:
        """A number in the page's language: "16,5" in German, "16.5" in English; "2.000" / "2,000"."""
        return "" if value is None else str(format_decimal(value, format="#,##0.##"))

    @app.template_filter("percent")
    def percent(value: float | int | None) -> str:
        """A percentage (0–100) in the page's language: "16,5 %" in German, "16.5%" in English."""
        if value is None:
            return ""
        locale = Locale.parse(str(get_locale() or "de"))
        pattern = str(locale.percent_formats[None].pattern).replace("#,##0", "#,##0.##", 1)
        return str(format_percent(value / 100, format=pattern, locale=locale))

    @app.context_processor
    def inject() -> dict[str, Any]:
        launch = g.get("launch")
        return {
            "current_launch": launch,
            "csrf_token": (lambda: csrf_token(launch)) if launch is not None else (lambda: ""),
            "current_locale": str(get_locale() or "de"),
        }
