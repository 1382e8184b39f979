"""Every error a person can meet, as a readable page in their language; never a traceback."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from typing import Any

import redis.exceptions
import sqlalchemy.exc
from flask import Flask, Response, g, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from lms.core.extensions import db
from lti.errors import LtiError

log = logging.getLogger(__name__)

# The database or Redis does not answer (down, hanging past the timeouts of lms/core/config.py, or overloaded):
# every page answers 503 with a readable page, never a traceback or a 500.
OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)
OUTAGE_RETRY_AFTER = "30"


class DomainError(ValueError):
    """A request a domain refuses. Views let it propagate: :func:`register_error_handlers` rolls the request's
    transaction back and answers ``status`` with the message as a readable page (JSON for JSON clients); the
    CLI prints the message (:func:`lms.core.commands.run_operation`). The message is for people: no ids of
    other tenants, no personal data."""

    status = 400


class NotFound(DomainError):
    status = 404


class Forbidden(DomainError):
    status = 403


class Conflict(DomainError):
    status = 409


class Invalid(DomainError):
    status = 422


class Unavailable(DomainError):
    """A service the request needs (BigBlueButton, the LMS) does not answer."""

    status = 503


# code -> (what went wrong, what the LMS admin (or the user) can do)
LAUNCH_MESSAGES: dict[str, tuple[Any, Any]] = {
    "missing_param": (
        _l("Die Anmeldung von deiner Lernplattform war unvollständig."),
        _l(
            "Die Lernplattform hat nicht alle nötigen Angaben geschickt (iss, login_hint). "
            "Admins: Prüft die Login-URL des Tools (…/lti/login) in der Tool-Konfiguration."
        ),
    ),
    "unknown_issuer": (
        _l("Diese Lernplattform ist bei medienwerk nicht registriert."),
        _l(
            "Admins: Registriert die Plattform mit „medienwerk platform add“ oder über die dynamische "
            "Registrierung. Die Plattform-ID (Issuer) muss genau mit der Adresse der Lernplattform übereinstimmen."
        ),
    ),
    "unknown_client": (
        _l("Diese Tool-Registrierung (Client-ID) ist bei medienwerk nicht bekannt."),
        _l(
            "Admins: Vergleicht die Client-ID in der Tool-Konfiguration der Lernplattform mit "
            "„medienwerk platform list“."
        ),
    ),
    "ambiguous_client": (
        _l("Für diese Lernplattform gibt es mehrere Registrierungen, und sie hat nicht gesagt, welche gemeint ist."),
        _l("Admins: Die Lernplattform muss beim Login die client_id mitschicken."),
    ),
    "platform_disabled": (
        _l("Der Zugang von dieser Lernplattform ist im Moment abgeschaltet."),
        _l("Admins: Mit „medienwerk platform enable“ wird er wieder eingeschaltet. Es sind keine Daten verloren."),
    ),
    "unknown_deployment": (
        _l("Diese Einbindung des Tools (Deployment-ID) ist nicht registriert."),
        _l(
            "Admins: Fügt die Deployment-ID mit „medienwerk platform add“ hinzu "
            "(gleicher Issuer und gleiche Client-ID)."
        ),
    ),
    "deployment_disabled": (
        _l("Diese Einbindung des Tools (Deployment) ist abgeschaltet."),
        _l("Admins: Prüft die Registrierung mit „medienwerk platform list“."),
    ),
    "state_mismatch": (
        _l("Die Anmeldung konnte diesem Browser nicht zugeordnet werden."),
        _l(
            "Oft blockiert der Browser Cookies im eingebetteten Fenster, oder die Seite wurde neu geladen. "
            "Öffne die Aktivität noch einmal aus dem Kurs. Hilft das nicht, öffne sie in einem neuen Fenster. "
            "Admins: Läuft medienwerk hinter einem Proxy, muss MEDIENWERK_PROXY_COUNT gesetzt sein."
        ),
    ),
    "invalid_token": (
        _l("Die Lernplattform hat eine ungültige Anmeldung geschickt (Signatur, Schlüssel oder Zeitstempel)."),
        _l("Admins: Prüft die Keyset-URL der Plattform bei medienwerk und ob die Uhren beider Server stimmen."),
    ),
    "invalid_nonce": (
        _l("Diese Anmeldung wurde schon benutzt oder ist abgelaufen."),
        _l("Öffne die Aktivität noch einmal aus dem Kurs. Eine Anmeldung gilt nur einmal."),
    ),
    "invalid_audience": (
        _l("Die Anmeldung war nicht für dieses Tool bestimmt."),
        _l("Admins: Die Client-ID der Tool-Konfiguration muss mit der Registrierung bei medienwerk übereinstimmen."),
    ),
    "invalid_message": (
        _l("Die Lernplattform hat keine gültige LTI-1.3-Nachricht geschickt."),
        _l("Admins: Prüft, dass das Tool als LTI 1.3 eingerichtet ist und die Weiterleitungs-URI …/lti/launch lautet."),
    ),
    "invalid_claim": (
        _l("Die Lernplattform hat eine Kennung geschickt, die länger ist als LTI erlaubt (höchstens 255 Zeichen)."),
        _l(
            "Admins: Prüft die Nutzer-, Kurs- oder Link-Kennungen der Lernplattform. "
            "medienwerk kürzt Kennungen nicht, weil eine gekürzte Kennung eine andere Person meinen könnte."
        ),
    ),
    "unsupported_message": (
        _l("Diese Art von Aufruf unterstützt medienwerk noch nicht."),
        _l("Admins: Richtet die Aktivität als normalen Link (Resource Link) ein."),
    ),
    "platform_unreachable": (
        _l("medienwerk konnte die Schlüssel der Lernplattform nicht abrufen."),
        _l(
            "Admins: Prüft die Keyset-URL der Plattform und ob medienwerk sie erreichen kann. "
            "Versuche es gleich noch einmal."
        ),
    ),
}

HTTP_MESSAGES: dict[int, tuple[Any, Any]] = {
    400: (_l("Die Anfrage war ungültig."), _l("Lade die Seite neu und versuche es noch einmal.")),
    401: (
        _l("Deine Sitzung ist abgelaufen."),
        _l("Öffne medienwerk noch einmal aus deinem Kurs in der Lernplattform."),
    ),
    403: (_l("Dafür hast du keine Berechtigung."), _l("Diese Seite ist für eine andere Rolle gedacht.")),
    404: (_l("Diese Seite gibt es nicht."), _l("Prüfe die Adresse oder gehe zurück zur Startseite.")),
    405: (_l("Diese Seite kann so nicht aufgerufen werden."), _l("Gehe zurück und versuche es noch einmal.")),
    409: (
        _l("Das geht gerade nicht mehr."),
        _l("Lade die Seite neu, um den aktuellen Stand zu sehen."),
    ),
    413: (_l("Die gesendeten Daten sind zu groß."), _l("Kürze deine Eingabe und versuche es noch einmal.")),
    429: (
        _l("Zu viele Anfragen in kurzer Zeit."),
        _l("Warte einen Moment und versuche es dann noch einmal."),
    ),
    500: (
        _l("Da ist bei uns etwas schiefgegangen."),
        _l("Versuche es in ein paar Minuten noch einmal. Der Fehler wurde protokolliert."),
    ),
    503: (
        _l("medienwerk ist gerade nicht erreichbar."),
        _l("Ein Dienst, den medienwerk braucht, antwortet gerade nicht. Versuche es in ein paar Minuten noch einmal."),
    ),
}
OUTAGE_NOT_SAVED = _l("Was du gerade abgeschickt hast, wurde nicht gespeichert.")


def _unverified_locale() -> str | None:
    """The launch's locale claim, read without trusting the token, only to pick the page language."""
    token = request.form.get("id_token", "") if request.method == "POST" else ""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        body = json.loads(base64.urlsafe_b64decode(padded))
        pres = body.get("https://purl.imsglobal.org/spec/lti/claim/launch_presentation") or {}
        locale = pres.get("locale") if isinstance(pres, dict) else None
        return str(locale)[:2].lower() if locale else None
    except (ValueError, TypeError, AttributeError):
        return None


def launch_error_response(error: LtiError, status: int | None = None) -> Response:
    locale = _unverified_locale()
    if locale:
        g.locale_hint = locale
    what, hint = LAUNCH_MESSAGES.get(error.code, LAUNCH_MESSAGES["invalid_message"])
    html = render_template("errors/launch.html", what=what, hint=hint, code=error.code)
    return Response(html, status=status or error.status, mimetype="text/html")


def on_outage(render: Callable[[], Any]) -> None:
    """Let this request answer an outage with its own page instead of the plain outage page, e.g. a form again
    with what the person typed and a note that it was not saved. ``render`` must not need the database; it is
    called before the transaction is rolled back (objects already loaded are still readable), its answer is
    sent with status 503."""
    g.outage_page = render


def _describe(exc: BaseException) -> str:
    """A short description of an outage error for the log: classes and the driver's first line, no SQL and no
    parameters (they can hold personal data)."""
    orig = getattr(exc, "orig", None)
    source = orig if orig is not None else exc
    first_line = (str(source).strip().splitlines() or [""])[0][:200]
    name = type(exc).__name__ + (f"/{type(orig).__name__}" if orig is not None else "")
    return f"{name}: {first_line}" if first_line else name


def rollback_quietly() -> None:
    """Roll the request's transaction back; a connection that is gone must not turn an answer into a 500."""
    try:
        db.session.rollback()
    except (sqlalchemy.exc.SQLAlchemyError, redis.exceptions.RedisError):
        log.debug("rollback failed after an outage")


def _outage_page() -> Response:
    what, hint = HTTP_MESSAGES[503]
    if request.path.startswith("/lti/"):
        locale = _unverified_locale()
        if locale:
            g.locale_hint = locale
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
        return Response(json.dumps({"error": str(what)}), status=503, mimetype="application/json")
    not_saved = OUTAGE_NOT_SAVED if request.method == "POST" else None
    context = {"what": what, "hint": hint, "code": 503, "not_saved": not_saved}
    try:
        html = render_template("errors/http.html", **context)
    except Exception:  # the page needed the database (the launch's details expired): without the launch
        g.pop("launch", None)
        try:
            html = render_template("errors/http.html", **context)
        except Exception:
            html = f"{what} {hint}"
    return Response(html, status=503)


def outage_response(exc: BaseException) -> Response:
    """The answer to an outage: the view's own page (:func:`on_outage`) or the readable outage page; 503 with
    Retry-After; one short log line."""
    log.warning("outage on %s %s: %s", request.method, request.endpoint, _describe(exc))
    g.outage = True
    response: Response | None = None
    render = g.pop("outage_page", None)
    if render is not None:
        try:
            response = make_response(render())
            response.status_code = 503
        except Exception:
            log.warning("the outage page of %s failed; answering with the plain one", request.endpoint)
            response = None
    if response is None:
        response = _outage_page()
    response.headers["Retry-After"] = OUTAGE_RETRY_AFTER
    response.headers["Cache-Control"] = "no-store"
    rollback_quietly()
    return response


def register_error_handlers(app: Flask) -> None:
    def outage(exc: Exception) -> Response:
        return outage_response(exc)

    for error in OUTAGE_ERRORS:
        app.register_error_handler(error, outage)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        original = getattr(exc, "original_exception", None)
        if isinstance(original, OUTAGE_ERRORS):  # raised after the view (e.g. by an after_request hook)
            return outage_response(original)
        code = exc.code or 500
        what, hint = HTTP_MESSAGES.get(code, HTTP_MESSAGES[400 if code < 500 else 500])
        if request.path.startswith("/lti/jwks") or request.accept_mimetypes.best == "application/json":
            response = Response(json.dumps({"error": str(what)}), status=code, mimetype="application/json")
        else:
            response = Response(render_template("errors/http.html", what=what, hint=hint, code=code), status=code)
        if code == 429:  # a rate limit (lms/core/limits.py): at most one window to wait
            limit = getattr(getattr(exc, "limit", None), "limit", None)
            response.headers["Retry-After"] = str(limit.get_expiry() if limit is not None else 60)
        return response

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Response:
        db.session.rollback()
        what, hint = HTTP_MESSAGES.get(exc.status, HTTP_MESSAGES[400 if exc.status < 500 else 500])
        message = str(exc) or str(what)
        if request.accept_mimetypes.best == "application/json":
            return Response(json.dumps({"error": message}), status=exc.status, mimetype="application/json")
        return Response(
            render_template("errors/http.html", what=message, hint=hint, code=exc.status), status=exc.status
        )

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.endpoint)
        what, hint = HTTP_MESSAGES[500]
        try:
            html = render_template("errors/http.html", what=what, hint=hint, code=500)
        except Exception:  # the template itself failed: plain text, still no traceback
            html = str(what)
        return Response(html, status=500)
