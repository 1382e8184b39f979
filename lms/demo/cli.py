"""``medienwerk demo``: everything on one port, on its own SQLite database."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask_migrate import upgrade
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from lms import create_app
from lms.demo.platform import PlatformDouble, create_platform_app
from lms.extensions import db


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
def demo(port: int, host: str) -> None:
    """Serve the tool with a demo LMS at /demo/ (SQLite, jobs in-process, doubles for LMS and BBB)."""
    base = f"http://127.0.0.1:{port}"
    app = create_app({"DEMO": True, "BASE_URL": os.environ.get("MEDIENWERK_BASE_URL") or base})
    double = PlatformDouble.with_key_file(
        Path(app.instance_path) / "demo-platform-key.pem",
        issuer=base + "/demo",
        tool_login_url=base + "/lti/login",
        tool_launch_url=base + "/lti/launch",
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        register_demo_platform(double)
        db.session.commit()

    @app.get("/")
    def root() -> object:
        from flask import redirect

        return redirect("/demo/")

    wsgi = DispatcherMiddleware(app, {"/demo": create_platform_app(double)})
    click.echo("=" * 72)
    click.echo("medienwerk demo — DEMO MODE: demo LMS and doubles, not for production")
    click.echo(f"  Open {base}/demo/ and launch the tool as a volunteer, trainer or coordinator.")
    click.echo(f"  Database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    click.echo("=" * 72)
    run_simple(host, port, wsgi, threaded=True, use_reloader=False, use_debugger=False)


def register_demo_platform(double: PlatformDouble) -> None:
    from lms.platforms.services import add_platform

    add_platform(
        issuer=double.issuer,
        client_id=double.client_id,
        deployment_id=double.deployment_id,
        auth_login_url=double.auth_login_url,
        auth_token_url=double.auth_token_url,
        key_set_url=double.key_set_url,
        name="Demo-LMS",
        chamber_slug="demo-kammer",
    )
