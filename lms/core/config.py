"""Configuration from ``MEDIENWERK_*`` environment variables (see CONTRACT.md and README.md)."""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lms.core.resources import COURSES_DIR


class ConfigError(RuntimeError):
    """The configuration cannot work; the message says which variable to fix."""


CHECKSUMS = ("sha1", "sha256", "sha384", "sha512")
# what the privacy notice and the accessibility statement name as contact when the operator sets none
DEFAULT_CONTACT = "die Koordination deiner Kammer"


def fernet_keys(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """One or more comma-separated Fernet keys (cryptography.fernet): the first encrypts, all decrypt."""
    from cryptography.fernet import Fernet

    keys = tuple(k.strip() for k in (env.get(name) or "").split(",") if k.strip())
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            raise ConfigError(
                f"{name}: key number {number} is not a Fernet key (32 url-safe base64-encoded bytes). Make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
            ) from None
    return keys


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, not {raw!r}") from exc


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


_HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*")


def host_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list of host names, IP addresses and CIDR networks, lower case."""
    entries = tuple(e.strip().lower().rstrip(".") for e in (env.get(name) or "").split(",") if e.strip())
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            if not _HOST_NAME.fullmatch(entry):
                raise ConfigError(
                    f"{name}: {entry!r} is neither a host name nor an IP address or network (like 10.0.0.0/8)"
                ) from None
    return entries


def load_config(instance_path: str, overrides: Mapping[str, Any] | None, env: Mapping[str, str]) -> dict[str, Any]:
    overrides = dict(overrides or {})
    demo = bool(overrides.get("DEMO"))
    testing = bool(overrides.get("TESTING"))
    cfg: dict[str, Any] = {
        "DEMO": demo,
        "TESTING": testing,
        "SECRET_KEY": env.get("MEDIENWERK_SECRET_KEY") or None,
        # encrypts the tool's private keys in the database (lms/platforms/keycrypt.py); unset: stored as PEM
        "KEY_ENCRYPTION_KEYS": fernet_keys(env, "MEDIENWERK_KEY_ENCRYPTION_KEY"),
        # contacts named on /privacy and /accessibility (text, e.g. "Datenschutz der HWK Musterstadt, ds@hwk.de")
        "PRIVACY_CONTACT": (env.get("MEDIENWERK_PRIVACY_CONTACT") or "").strip() or DEFAULT_CONTACT,
        "ACCESSIBILITY_CONTACT": (env.get("MEDIENWERK_ACCESSIBILITY_CONTACT") or "").strip() or DEFAULT_CONTACT,
        "BASE_URL": (env.get("MEDIENWERK_BASE_URL") or "").rstrip("/") or None,
        "SQLALCHEMY_DATABASE_URI": env.get("MEDIENWERK_SQLALCHEMY_DATABASE_URI")
        or "sqlite:///" + str(Path(instance_path) / ("demo.sqlite" if demo else "medienwerk.sqlite")),
        "REDIS_URL": env.get("MEDIENWERK_REDIS_URL") or None,
        "BBB_URL": env.get("MEDIENWERK_BBB_URL") or None,
        "BBB_SECRET": env.get("MEDIENWERK_BBB_SECRET") or None,
        "BBB_CHECKSUM": (env.get("MEDIENWERK_BBB_CHECKSUM") or "sha256").lower(),
        "COURSES_DIR": env.get("MEDIENWERK_COURSES_DIR") or str(COURSES_DIR),
        "TIMEZONE": env.get("MEDIENWERK_TIMEZONE") or "Europe/Berlin",
        "PROXY_COUNT": _int(env, "MEDIENWERK_PROXY_COUNT", 0),
        # hosts / networks on a private network the tool may call for URLs from LMSs (lti/urlpolicy.py)
        "ALLOWED_PRIVATE_HOSTS": host_list(env, "MEDIENWERK_ALLOWED_PRIVATE_HOSTS"),
        # live tutorials
        "BBB_TIMEOUT": _float(env, "MEDIENWERK_BBB_TIMEOUT", 5.0),
        "LIVE_ATTENDED_PERCENT": _int(env, "MEDIENWERK_LIVE_ATTENDED_PERCENT", 75),
        "LIVE_RECORDING_RETENTION_DAYS": _int(env, "MEDIENWERK_LIVE_RECORDING_RETENTION_DAYS", 90),
        # mail (sent only where the LMS shared an e-mail; the demo and the tests store instead of sending)
        "SMTP_HOST": env.get("MEDIENWERK_SMTP_HOST") or None,
        "SMTP_PORT": _int(env, "MEDIENWERK_SMTP_PORT", 587),
        "SMTP_USER": env.get("MEDIENWERK_SMTP_USER") or None,
        "SMTP_PASSWORD": env.get("MEDIENWERK_SMTP_PASSWORD") or None,
        "SMTP_FROM": env.get("MEDIENWERK_SMTP_FROM") or "medienwerk <noreply@localhost>",
        "SMTP_STARTTLS": _bool(env, "MEDIENWERK_SMTP_STARTTLS", True),
        "SMTP_TIMEOUT": 10,
        # a roster larger than this is refused (an LMS sending a runaway list must not fill the database)
        "ROSTER_MAX_MEMBERS": _int(env, "MEDIENWERK_ROSTER_MAX_MEMBERS", 20_000),
        # store instead of send: the demo shows them at /demo-mail/, the tests read the outbox
        "MAIL_STORE_ONLY": demo or testing,
        "MAIL_MAX_ATTEMPTS": 5,
        # retention (daily jobs in lms/personal_data/jobs.py; docs/privacy.md)
        "RETENTION_INACTIVE_MONTHS": _int(env, "MEDIENWERK_RETENTION_INACTIVE_MONTHS", 24),
        "RETENTION_NOTICE_DAYS": _int(env, "MEDIENWERK_RETENTION_NOTICE_DAYS", 30),
        "RETENTION_HANDIN_DAYS": _int(env, "MEDIENWERK_RETENTION_HANDIN_DAYS", 365),
        "RETENTION_ATTENDANCE_DAYS": _int(env, "MEDIENWERK_RETENTION_ATTENDANCE_DAYS", 365),
        "RETENTION_MAIL_DAYS": _int(env, "MEDIENWERK_RETENTION_MAIL_DAYS", 90),
        "RETENTION_AUDIT_DAYS": _int(env, "MEDIENWERK_RETENTION_AUDIT_DAYS", 3 * 365),
        # how long a launch keeps working without activity, and at most
        "LAUNCH_IDLE_SECONDS": 2 * 3600,
        "LAUNCH_MAX_SECONDS": 12 * 3600,
        "BABEL_DEFAULT_LOCALE": "de",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "LANGUAGES": ("de", "en"),
        # no SQL parameters in error messages and logs: they can hold names and e-mails
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        # an outage answers 503 within seconds instead of hanging every request (engine_options() below)
        "DB_CONNECT_TIMEOUT": _float(env, "MEDIENWERK_DB_CONNECT_TIMEOUT", 5.0),
        "DB_STATEMENT_TIMEOUT": _float(env, "MEDIENWERK_DB_STATEMENT_TIMEOUT", 15.0),
        "REDIS_TIMEOUT": _float(env, "MEDIENWERK_REDIS_TIMEOUT", 5.0),
        # per client address, for the public entry points (lms/core/limits.py)
        "RATE_LIMITS": rate_limits(env.get("MEDIENWERK_RATE_LIMITS")),
        "MAX_CONTENT_LENGTH": 1024 * 1024,
    }
    cfg.update(overrides)
    if not cfg["SECRET_KEY"]:
        # the demo, the tests and CLI commands (which sign nothing) make their own; serving needs a real one
        if not (cfg["DEMO"] or cfg["TESTING"] or cfg.get("CLI")):
            raise ConfigError(
                "MEDIENWERK_SECRET_KEY is not set. Set it to a long random string, for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        cfg["SECRET_KEY"] = secrets.token_urlsafe(48)
    if cfg["BBB_CHECKSUM"] not in CHECKSUMS:
        raise ConfigError(f"MEDIENWERK_BBB_CHECKSUM must be one of {', '.join(CHECKSUMS)}")
    if cfg["BBB_URL"] and not cfg["BBB_SECRET"]:
        raise ConfigError("MEDIENWERK_BBB_URL is set but MEDIENWERK_BBB_SECRET is not")
    try:
        ZoneInfo(cfg["TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"MEDIENWERK_TIMEZONE {cfg['TIMEZONE']!r} is not a known time zone") from exc
    if cfg["BBB_TIMEOUT"] <= 0:
        raise ConfigError("MEDIENWERK_BBB_TIMEOUT must be more than 0 seconds")
    if not 1 <= cfg["LIVE_ATTENDED_PERCENT"] <= 100:
        raise ConfigError("MEDIENWERK_LIVE_ATTENDED_PERCENT must be between 1 and 100")
    if cfg["LIVE_RECORDING_RETENTION_DAYS"] < 1:
        raise ConfigError("MEDIENWERK_LIVE_RECORDING_RETENTION_DAYS must be at least 1")
    for key in (
        "RETENTION_INACTIVE_MONTHS",
        "RETENTION_NOTICE_DAYS",
        "RETENTION_HANDIN_DAYS",
        "RETENTION_ATTENDANCE_DAYS",
        "RETENTION_MAIL_DAYS",
        "RETENTION_AUDIT_DAYS",
    ):
        if cfg[key] < 1:
            raise ConfigError(f"MEDIENWERK_{key} must be at least 1")
    if cfg["PROXY_COUNT"] < 0:
        raise ConfigError("MEDIENWERK_PROXY_COUNT must not be negative")
    if cfg["DB_CONNECT_TIMEOUT"] <= 0:
        raise ConfigError("MEDIENWERK_DB_CONNECT_TIMEOUT must be more than 0 seconds")
    if cfg["DB_STATEMENT_TIMEOUT"] < 0:
        raise ConfigError("MEDIENWERK_DB_STATEMENT_TIMEOUT must not be negative (0: no limit)")
    if cfg["REDIS_TIMEOUT"] <= 0:
        raise ConfigError("MEDIENWERK_REDIS_TIMEOUT must be more than 0 seconds")
    cfg["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
        cfg["SQLALCHEMY_DATABASE_URI"],
        cfg["SQLALCHEMY_ENGINE_OPTIONS"],
        connect_timeout=cfg["DB_CONNECT_TIMEOUT"],
        statement_timeout=cfg["DB_STATEMENT_TIMEOUT"],
    )
    return cfg


def engine_options(
    uri: str, options: Mapping[str, Any], *, connect_timeout: float, statement_timeout: float
) -> dict[str, Any]:
    """The engine options with timeouts, so that a database that is down or hangs costs a request seconds, not
    minutes: PostgreSQL gets a connect timeout, a statement timeout, TCP timeouts for a vanished server and a
    bounded wait for a pooled connection; SQLite a bounded wait for its lock. Options given explicitly win; an
    ``options`` parameter in the URI (``?options=-csearch_path%3D…``) is kept and extended, not replaced."""
    from sqlalchemy.engine import make_url

    merged = dict(options)
    connect_args = dict(merged.get("connect_args") or {})
    url = make_url(uri)
    if url.get_backend_name() == "postgresql":
        connect_args.setdefault("connect_timeout", max(1, round(connect_timeout)))
        # unacknowledged data and silent peers: a server that vanished is noticed after seconds
        connect_args.setdefault("tcp_user_timeout", int(connect_timeout * 1000))
        connect_args.setdefault("keepalives", 1)
        connect_args.setdefault("keepalives_idle", max(1, round(connect_timeout)))
        connect_args.setdefault("keepalives_interval", 1)
        connect_args.setdefault("keepalives_count", 3)
        if statement_timeout > 0 and "options" not in connect_args:
            from_uri = url.query.get("options")
            parts = [from_uri] if isinstance(from_uri, str) else list(from_uri or ())
            parts.append(f"-c statement_timeout={int(statement_timeout * 1000)}")
            connect_args["options"] = " ".join(parts)
        merged.setdefault("pool_timeout", connect_timeout)
    elif url.get_backend_name() == "sqlite":
        connect_args.setdefault("timeout", connect_timeout)
    merged["connect_args"] = connect_args
    return merged


RATE_LIMIT_GROUPS = ("login", "launch", "registration", "bbb_callbacks", "calendar_feeds", "verify")
# per client address; a class in one training room behind one address launches together
DEFAULT_RATE_LIMITS = {
    "login": "120/minute",
    "launch": "120/minute",
    "registration": "30/hour",
    "bbb_callbacks": "600/minute",
    "calendar_feeds": "120/minute",
    "verify": "60/minute",  # certificate verification: people check a few, nobody needs to walk through ids
}


def rate_limits(raw: str | None) -> dict[str, str]:
    """``MEDIENWERK_RATE_LIMITS``: ``group=limit`` pairs separated by commas, e.g. ``login=60/minute,
    launch=10/second;300/hour`` (several limits of a group separated by ``;``); groups not named keep their
    default."""
    from limits import parse_many

    limits = dict(DEFAULT_RATE_LIMITS)
    for pair in (raw or "").split(","):
        if not pair.strip():
            continue
        group, _, value = pair.partition("=")
        group, value = group.strip(), value.strip()
        if group not in RATE_LIMIT_GROUPS:
            known = ", ".join(RATE_LIMIT_GROUPS)
            raise ConfigError(f"MEDIENWERK_RATE_LIMITS: unknown group {group!r} (known: {known})")
        try:
            parse_many(value)
        except ValueError as exc:
            raise ConfigError(f"MEDIENWERK_RATE_LIMITS: {value!r} for {group} is not a limit like 60/minute") from exc
        limits[group] = value
    return limits


def environ() -> Mapping[str, str]:
    return os.environ
