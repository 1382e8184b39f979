"""The application factory: configuration, extensions, the domains in their order, CLI, error pages."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.core.config import environ, load_config
from lms.core.extensions import babel, db, migrate
from lms.core.resources import MIGRATIONS_DIR, TEMPLATES_DIR

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
    if launch is not None and launch.locale in langs:
        return str(launch.locale)
    hint = g.get("locale_hint")
    if hint in langs:
        return str(hint)
    return "de"


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
    os.makedirs(app.instance_path, exist_ok=True)
    logging.getLogger("lms").setLevel(logging.INFO)
    from lms.core.logs import install as install_log_redaction

    install_log_redaction()

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=_select_locale)

    from lms.core.state import DbStateStore, RedisStateStore

    store = RedisStateStore(app.config["REDIS_URL"]) if app.config["REDIS_URL"] else DbStateStore()
    app.extensions["medienwerk"] = {"state_store": store}

    _register_domains(app)

    from lms.core.jobs import jobs, maybe_start_embedded

    jobs.init_app(app)
    maybe_start_embedded(app)

    from lms.core.errors import register_error_handlers

    register_error_handlers(app)

    from lms.commands import register_cli

    register_cli(app)
    _register_unit_of_work(app)
    _register_security_headers(app)
    _register_template_helpers(app)
    _register_secret_guard(app, test_config)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            db.session.rollback()
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200

    return app


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
    from lms.audit import setup as audit
    from lms.certificates import setup as certificates
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
    from lms.privacy import setup as privacy
    from lms.progress import setup as progress
    from lms.registrations import setup as registrations
    from lms.rosters import setup as rosters
    from lms.users import setup as users

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
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "object-src 'none'; base-uri 'self'; form-action 'self' http: https:",
        )
        # pages carry the launch token in their URL: never send it to another site
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.path.startswith("/t/"):
            response.headers.setdefault("Cache-Control", "private, no-store")
        return response


def _register_template_helpers(app: Flask) -> None:
    from zoneinfo import ZoneInfo

    from babel.dates import format_datetime
    from flask_babel import format_decimal, get_locale

    @app.template_filter("local_datetime")
    def local_datetime(value: Any) -> str:
        """A stored UTC time as local date and time (MEDIENWERK_TIMEZONE) in the page's language."""
        if value is None:
            return ""
        zone = ZoneInfo(app.config["TIMEZONE"])
        return str(format_datetime(value, "short", tzinfo=zone, locale=str(get_locale() or "de")))

    @app.template_filter("number")
    def number(value: float | int | None) -> str:
        """A number in the page's language: "16,5" in German, "16.5" in English; "2.000" / "2,000"."""
        return "" if value is None else str(format_decimal(value, format="#,##0.##"))

    from lms.core.security import csrf_token

    @app.context_processor
    def inject() -> dict[str, Any]:
        launch = g.get("launch")
        return {
            "current_launch": launch,
            "csrf_token": (lambda: csrf_token(launch)) if launch is not None else (lambda: ""),
            "current_locale": str(get_locale() or "de"),
        }
