"""``/privacy`` (Datenschutzhinweise) and ``/accessibility`` (Erklärung zur Barrierefreiheit): public pages, no
launch needed, nothing stored. :func:`notice_page` also answers an LTI Data Privacy Launch."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lms.core.config import DEFAULT_CONTACT

bp = Blueprint("privacy", __name__)

# when the accessibility statement was last assessed (BITV 2.0: the statement names its date); update on review
STATEMENT_DATE = dt.date(2026, 12, 1)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


@dataclass(frozen=True)
class Period:
    what: str
    how_long: str


def contact(setting: str) -> Markup:
    """The contact an operator configured (MEDIENWERK_PRIVACY_CONTACT, MEDIENWERK_ACCESSIBILITY_CONTACT) as safe
    HTML, its e-mail addresses as mailto links; the neutral default in the page's language."""
    text = str(current_app.config.get(setting) or DEFAULT_CONTACT)
    if text == DEFAULT_CONTACT:
        return escape(_("die Koordination deiner Kammer"))
    parts: list[Markup] = []
    last = 0
    for match in _EMAIL.finditer(text):
        parts.append(escape(text[last : match.start()]))
        parts.append(Markup('<a href="mailto:{0}">{0}</a>').format(match.group(0)))
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def _setting(key: str, divisor: int = 1) -> int:
    """A positive whole-number setting (divided, at least 1), or 0 when this installation has no such setting."""
    value = current_app.config.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return max(1, value // divisor)
    return 0


def retention_periods() -> list[Period]:
    """How long what is kept, from this installation's settings (periods whose setting does not exist are left
    out)."""
    periods: list[Period] = []
    if num := _setting("RETENTION_INACTIVE_MONTHS"):
        periods.append(
            Period(
                _("Alle Daten über dich, wenn du medienwerk nicht mehr nutzt"),
                ngettext("%(num)d Monat nach deinem letzten Aufruf", "%(num)d Monate nach deinem letzten Aufruf", num),
            )
        )
    if num := _setting("RETENTION_HANDIN_DAYS"):
        periods.append(
            Period(
                _("Text und Link deiner Abgaben (die Bewertung bleibt)"),
                ngettext("%(num)d Tag nach der Bewertung", "%(num)d Tage nach der Bewertung", num),
            )
        )
    if num := _setting("RETENTION_ATTENDANCE_DAYS"):
        periods.append(
            Period(
                _("Wann du einem Live-Tutorial beigetreten bist und es verlassen hast (ob du dabei warst, bleibt)"),
                ngettext("%(num)d Tag nach dem Termin", "%(num)d Tage nach dem Termin", num),
            )
        )
    if num := _setting("LIVE_RECORDING_RETENTION_DAYS"):
        periods.append(
            Period(
                _("Aufzeichnungen von Live-Tutorials"),
                ngettext("%(num)d Tag nach der Aufzeichnung", "%(num)d Tage nach der Aufzeichnung", num),
            )
        )
    if num := _setting("RETENTION_MAIL_DAYS"):
        periods.append(
            Period(
                _("E-Mails, die medienwerk an dich geschickt hat"),
                ngettext("%(num)d Tag nach dem Versand", "%(num)d Tage nach dem Versand", num),
            )
        )
    if num := _setting("RETENTION_AUDIT_DAYS"):
        periods.append(
            Period(
                _("Protokoll, wer deine Daten angesehen, exportiert, gelöscht oder geändert hat"),
                ngettext("%(num)d Tag", "%(num)d Tage", num),
            )
        )
    if num := _setting("LAUNCH_MAX_SECONDS", divisor=3600):
        periods.append(
            Period(
                _("Deine Anmeldung nach einem Aufruf aus der Lernplattform"),
                ngettext("höchstens %(num)d Stunde", "höchstens %(num)d Stunden", num),
            )
        )
    return periods


def notice_page(*, chamber_name: str | None = None, platform_name: str | None = None, from_lms: bool = False) -> str:
    """The privacy notice. From an LTI Data Privacy Launch (``from_lms``) it names the chamber of the registration."""
    cfg = current_app.config
    return render_template(
        "privacy/notice.html",
        chamber_name=chamber_name,
        platform_name=platform_name,
        from_lms=from_lms,
        periods=retention_periods(),
        notice_days=cfg.get("RETENTION_NOTICE_DAYS"),
        privacy_contact=contact("PRIVACY_CONTACT"),
    )


@bp.app_context_processor
def legal_links() -> dict[str, Callable[[str], str]]:
    """``legal_url(endpoint)`` for the footer: the public page in the language of the page that links to it."""

    def legal_url(endpoint: str) -> str:
        locale = str(get_locale() or "")
        if locale and locale != current_app.config["BABEL_DEFAULT_LOCALE"]:
            return url_for(endpoint, lang=locale)
        return url_for(endpoint)

    return {"legal_url": legal_url}


@bp.get("/privacy")
def notice() -> str:
    return notice_page()


@bp.get("/accessibility")
def accessibility() -> str:
    return render_template(
        "privacy/accessibility.html",
        accessibility_contact=contact("ACCESSIBILITY_CONTACT"),
        statement_date=format_date(STATEMENT_DATE, "long"),
    )
