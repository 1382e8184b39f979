"""medienwerk: an LTI 1.3 tool for the digital and media skills of the crafts' volunteer ambassadors."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from lms.config import environ, load_config
from lms.extensions import babel, db, migrate
from lms.resources import MIGRATIONS_DIR, TEMPLATES_DIR

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
    app = Flask(
        __name__,
        instance_path=os.environ.get("MEDIENWERK_INSTANCE_PATH") or None,
        template_folder=str(TEMPLATES_DIR),
        static_folder="static",
    )
    app.config.update(load_config(app.instance_path, test_config, environ()))
    os.makedirs(app.instance_path, exist_ok=True)
    logging.getLogger("lms").setLevel(logging.INFO)
    from lms.logs import install as install_log_redaction

    install_log_redaction()

    if app.config["PROXY_COUNT"]:
        n = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)  # type: ignore[method-assign]

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True)
    babel.init_app(app, locale_selector=_select_locale)

    from lms.state.store import DbStateStore, RedisStateStore

    store = RedisStateStore(app.config["REDIS_URL"]) if app.config["REDIS_URL"] else DbStateStore()
    app.extensions["medienwerk"] = {"state_store": store}

    _import_models()
    _register_blueprints(app)

    from lms.jobs import jobs, maybe_start_embedded

    jobs.init_app(app)
    maybe_start_embedded(app)

    from lms.errors import register_error_handlers

    register_error_handlers(app)

    from lms.cli import register_cli

    register_cli(app)
    _register_security_headers(app)
    _register_template_helpers(app)

    @app.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            db.session.rollback()
            return {"status": "unavailable"}, 503
        return {"status": "ok"}, 200

    return app


# Domain packages. Each may have ``models.py`` (imported so the metadata knows its tables) and ``views.py``
# with a blueprint ``bp`` (registered in this order).
DOMAINS = (
    "state",
    "platforms",
    "users",
    "launches",
    "home",
    "courses",
    "progress",
    "live_sessions",
    "grades",
    "rosters",
    "registrations",
    "deep_linking",
    "dashboards",
    "certificates",
    "mail",
    "privacy",
)


def _domain_module(domain: str, name: str) -> Any:
    import importlib
    import importlib.util

    module = f"lms.{domain}.{name}"
    if importlib.util.find_spec(f"lms.{domain}") is None or importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module)


def _import_models() -> None:
    for domain in DOMAINS:
        _domain_module(domain, "models")
        _domain_module(domain, "jobs")


def _register_blueprints(app: Flask) -> None:
    for domain in DOMAINS:
        views = _domain_module(domain, "views")
        if views is not None and hasattr(views, "bp"):
            app.register_blueprint(views.bp)
    init = None
    for domain in DOMAINS:
        init = _domain_module(domain, "setup")
        if init is not None and hasattr(init, "init_app"):
            init.init_app(app)


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
    from flask_babel import get_locale

    from lms.launches.security import csrf_token

    @app.context_processor
    def inject() -> dict[str, Any]:
        launch = g.get("launch")
        return {
            "current_launch": launch,
            "csrf_token": (lambda: csrf_token(launch)) if launch is not None else (lambda: ""),
            "current_locale": str(get_locale() or "de"),
        }
