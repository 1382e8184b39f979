"""``medienwerk demo``: everything on one port, on its own SQLite database."""

from __future__ import annotations

import errno
import logging
import os
import re
import secrets
import socket
from pathlib import Path
from typing import Any

import click
from flask_migrate import upgrade
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import run_simple

from lms.app import create_app
from lms.core.config import host_list
from lms.core.extensions import db
from lms.demo.bbb_double import create_bbb_double
from lms.demo.platform import PlatformDouble, create_platform_app, register_double
from lms.demo.seed import seed_demo
from lms.platforms.services import find_platform


@click.command("demo")
@click.option("--port", default=5000, show_default=True, type=int, help="Port for the tool, the demo LMS and BBB")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0: reachable from other machines; links still name 127.0.0.1 unless "
    "MEDIENWERK_BASE_URL is set)",
)
def demo(port: int, host: str) -> None:
    """Serve the tool and a demo LMS on one port (not for production).

    The demo LMS at /demo/ launches the tool over real LTI 1.3 as a volunteer, a trainer or a coordinator; the
    tool keeps its data in a SQLite file in the instance folder, runs its jobs in-process and talks to doubles
    of the LMS services and of BigBlueButton. E-mails are shown at /demo-mail/ instead of being sent.
    """
    check_port(host, port)
    base = f"http://127.0.0.1:{port}"
    overrides: dict[str, Any] = {
        "DEMO": True,
        "MIGRATIONS_QUIET": True,  # no Alembic INFO line per migration above the banner
        "BASE_URL": os.environ.get("MEDIENWERK_BASE_URL") or base,
        # the demo LMS answers on loopback: dynamic registration and AGS/NRPS may call it
        "ALLOWED_PRIVATE_HOSTS": ("127.0.0.1", *host_list(os.environ, "MEDIENWERK_ALLOWED_PRIVATE_HOSTS")),
    }
    bbb_app = None
    if not os.environ.get("MEDIENWERK_BBB_URL"):
        # the BBB double at /bbb, with a fresh secret per run (its meetings live in memory anyway)
        bbb_secret = secrets.token_hex(20)
        bbb_app = create_bbb_double(bbb_secret, "sha256")
        overrides.update({"BBB_URL": base + "/bbb/bigbluebutton/", "BBB_SECRET": bbb_secret, "BBB_CHECKSUM": "sha256"})
    app = create_app(overrides)
    double = PlatformDouble.with_key_file(
        Path(app.instance_path) / "demo-platform-key.pem",
        issuer=base + "/demo",
        tool_login_url=base + "/lti/login",
        tool_launch_url=base + "/lti/launch",
    )
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        register_double(double)
        db.session.commit()
        seed_demo_chamber(double)

    @app.get("/")
    def root() -> Any:
        from flask import redirect

        return redirect("/demo/")

    mounts: dict[str, Any] = {"/demo": create_platform_app(double)}
    if bbb_app is not None:
        mounts["/bbb"] = bbb_app
    wsgi = DispatcherMiddleware(app, mounts)
    install_log_filter()
    click.echo("=" * 72)
    click.echo("medienwerk demo — DEMO MODE: demo LMS and doubles, not for production")
    click.echo(f"  Open {base}/demo/ and launch the tool as a volunteer, trainer or coordinator.")
    click.echo(f"  Database: {app.config['SQLALCHEMY_DATABASE_URI']}")
    if bbb_app is not None:
        click.echo(f"  BigBlueButton: the BBB double at {base}/bbb/bigbluebutton/ (no real video rooms)")
    click.echo(f"  E-mails are not sent; they are shown at {base}/demo-mail/")
    click.echo("=" * 72)
    run_simple(host, port, wsgi, threaded=True, use_reloader=False, use_debugger=False)


def seed_demo_chamber(double: PlatformDouble) -> None:
    """Invented volunteers at every stage, so that the coordinators' pages show something (first start only)."""
    platform = find_platform(double.issuer, double.client_id)
    assert platform is not None
    seed_demo(platform, dict(double.context))
    db.session.commit()


def check_port(host: str, port: int) -> None:
    """Stop before the banner when the port is taken (a demo already running?) and say what to do instead."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            probe.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise click.ClickException(
                f"Port {port} on {host} is already in use: is the demo running there already "
                f"(http://127.0.0.1:{port}/demo/)? To start another one, choose a free port: "
                f"'medienwerk demo --port {port + 1}' or './scripts/demo.sh --port {port + 1}'."
            ) from exc
        raise click.ClickException(f"Cannot listen on {host}:{port}: {exc.strerror}. Try another --port.") from exc


class _SecretScrubber(logging.Filter):
    """The request log must not show BBB join URLs (their checksum lets anyone in), callback tokens or
    calendar feed tokens: their query strings and tokens are replaced by "…"."""

    _PATTERNS = (
        (re.compile(r"(/api/[A-Za-z/]+)\?[^ \"]*"), r"\1?…"),
        (re.compile(r"(/_double/[a-z]+)\?[^ \"]*"), r"\1?…"),
        (re.compile(r"(/live-callbacks/)[^/ \"?]+"), r"\1…"),
        (re.compile(r"(/live-feed/)[^/ \"?]+"), r"\1…"),
    )

    # werkzeug colours its request lines; in the demo's log they are noise ("\x1b[33m"), so they go too
    _ANSI = re.compile(r"\x1b\[[0-9;]*m")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(self.scrub(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self.scrub(record.msg)
        return True

    @classmethod
    def scrub(cls, text: str) -> str:
        text = cls._ANSI.sub("", text)
        for pattern, replacement in cls._PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def install_log_filter() -> None:
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, _SecretScrubber) for f in logger.filters):
        logger.addFilter(_SecretScrubber())
