"""Wiring of the certificates: tables, the daily job, the public, volunteer and coordinator pages, the tier check
after every progress change, and the module overview's helper."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date
from flask import Flask, current_app
from flask_babel import get_locale

from lms.certificates import jobs, models  # noqa: F401 - the daily job and the tables register themselves
from lms.certificates.services import on_progress_changed
from lms.certificates.views import awards, bp, overview_certificates, pages
from lms.core.signals import progress_changed


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)  # public: /verify/<id>, /certificates/jwks, keys, issuers, achievements
    app.register_blueprint(pages)  # the volunteer's certificates and downloads
    app.register_blueprint(awards)  # the coordinators' list, revocation and re-issue
    app.add_template_global(overview_certificates, "certificate_overview")
    app.add_template_filter(local_date, "certificate_date")
    progress_changed.connect(on_progress_changed, weak=False)  # once per process: blinker keeps one receiver


def local_date(value: dt.datetime | None) -> str:
    """A stored UTC time as the local date (MEDIENWERK_TIMEZONE) in the page's language: "1. Dezember 2026"."""
    if value is None:
        return ""
    moment = value.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
    return str(format_date(moment.date(), "long", locale=str(get_locale() or "de")))
