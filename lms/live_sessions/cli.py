"""``medienwerk bbb check``: does the configured BigBlueButton accept our URL, secret and checksum?"""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.bbb import BBBClient


@click.group("bbb")
def bbb() -> None:
    """BigBlueButton (live tutorials)."""


@bbb.command("check")
@with_appcontext
def bbb_check() -> None:
    """Call the configured BBB server: are URL, secret and checksum algorithm right?"""
    cfg = current_app.config
    if not cfg.get("BBB_URL"):
        raise click.ClickException(
            "MEDIENWERK_BBB_URL is not set: live tutorials are off. Set MEDIENWERK_BBB_URL "
            "(e.g. https://bbb.example.org/bigbluebutton/) and MEDIENWERK_BBB_SECRET (bbb-conf --secret)."
        )
    click.echo(f"Checking {cfg['BBB_URL']} with checksum {cfg['BBB_CHECKSUM']} …")
    with BBBClient(
        cfg["BBB_URL"],
        cfg.get("BBB_SECRET") or "",
        checksum=cfg["BBB_CHECKSUM"],
        timeout=float(cfg["BBB_TIMEOUT"]),
    ) as client:
        report = client.check()
    for message in report.messages:
        click.echo(f"  {message}")
    if not report.ok:
        raise click.ClickException("BigBlueButton check failed (see above).")
    click.echo("OK: BigBlueButton is reachable and accepts our calls.")


def init_cli(cli: Any, groups: dict[str, Any]) -> None:
    groups["bbb"] = bbb
    cli.add_command(bbb)
