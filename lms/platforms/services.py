"""Reads and writes for chambers, registrations, deployments and tool keys. Services flush, views commit."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.core.db import utcnow
from lms.core.errors import Invalid
from lms.core.extensions import db
from lms.platforms import keycrypt
from lms.platforms.models import Chamber, Deployment, Platform, ToolKey
from lti.keys import ToolKey as LtiToolKey
from lti.keys import generate_key


class PlatformError(Invalid):
    """A registration request that cannot be carried out; the message is for the operator."""


def slugify(text: str) -> str:
    norm = unicodedata.normalize("NFKD", text.replace("ß", "ss")).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", norm.lower()).strip("-")
    return slug[:80] or "kammer"


def _check_url(name: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise PlatformError(f"{name} must be an http(s) URL, not {url!r}")
    return url


def get_or_create_chamber(slug: str | None, name: str | None, *, central: bool = False) -> Chamber:
    slug = slugify(slug or name or "kammer")
    chamber = db.session.execute(select(Chamber).where(Chamber.slug == slug)).scalar_one_or_none()
    if chamber is None:
        chamber = Chamber(slug=slug, name=name or slug, is_central=central)
        db.session.add(chamber)
    elif central and not chamber.is_central:
        chamber.is_central = True
    return chamber


@dataclass(frozen=True)
class AddResult:
    platform: Platform
    created: bool
    deployment_added: bool


def add_platform(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    name: str | None = None,
    chamber_slug: str | None = None,
    central: bool = False,
    auth_audience: str | None = None,
) -> AddResult:
    """Register an LMS, or update it (same issuer and client id) and add the deployment if new."""
    issuer = issuer.strip()  # kept exactly: the id_token's iss must match it character for character
    if not issuer or not client_id.strip() or not deployment_id.strip():
        raise PlatformError("issuer, client id and deployment id must not be empty")
    _check_url("--issuer", issuer)
    _check_url("--auth-login-url", auth_login_url)
    _check_url("--auth-token-url", auth_token_url)
    _check_url("--key-set-url", key_set_url)
    platform = db.session.execute(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).scalar_one_or_none()
    created = platform is None
    if platform is None:
        if chamber_slug is None:
            # one chamber per issuer unless told otherwise
            sibling = db.session.execute(
                select(Platform).where(Platform.issuer == issuer).limit(1)
            ).scalar_one_or_none()
            chamber = (
                sibling.chamber
                if sibling is not None
                else get_or_create_chamber(None, name or urlsplit(issuer).netloc, central=central)
            )
            if central and not chamber.is_central:
                chamber.is_central = True
        else:
            chamber = get_or_create_chamber(chamber_slug, name, central=central)
        platform = Platform(
            chamber=chamber,
            name=name or urlsplit(issuer).netloc,
            issuer=issuer,
            client_id=client_id,
            auth_login_url=auth_login_url,
            auth_token_url=auth_token_url,
            auth_audience=auth_audience,
            key_set_url=key_set_url,
        )
        db.session.add(platform)
    else:
        platform.auth_login_url = auth_login_url
        platform.auth_token_url = auth_token_url
        platform.key_set_url = key_set_url
        platform.auth_audience = auth_audience
        if name:
            platform.name = name
        if chamber_slug is not None:
            platform.chamber = get_or_create_chamber(chamber_slug, name, central=central)
        elif central:
            platform.chamber.is_central = True
    ensure_active_key()  # the first registration gives the tool its signing key (never a request)
    added = False
    if not any(d.deployment_id == deployment_id for d in platform.deployments):
        platform.deployments.append(Deployment(deployment_id=deployment_id))
        added = True
    db.session.flush()
    return AddResult(platform, created, added)


def list_platforms() -> Sequence[Platform]:
    return db.session.execute(select(Platform).order_by(Platform.issuer, Platform.client_id)).scalars().all()


def platform_urls() -> list[str]:
    """The issuer and OIDC login URL of every enabled registration: where the LMS pages that frame the tool
    and receive its forms live (lms/core/headers.py). One small query."""
    rows = db.session.execute(
        select(Platform.issuer, Platform.auth_login_url).where(Platform.enabled.is_(True)).distinct()
    ).all()
    return [url for row in rows for url in row]


def set_platform_enabled(issuer: str, client_id: str | None, enabled: bool) -> list[Platform]:
    query = select(Platform).where(Platform.issuer == issuer)
    if client_id:
        query = query.where(Platform.client_id == client_id)
    platforms = list(db.session.execute(query).scalars())
    if not platforms:
        which = f" and client id {client_id!r}" if client_id else ""
        raise PlatformError(f"no registration for issuer {issuer!r}{which}")
    for p in platforms:
        p.enabled = enabled
    db.session.flush()
    return platforms


# -- tool keys -----------------------------------------------------------------------------------------


def to_lti_key(key: ToolKey) -> LtiToolKey:
    """The key for the LTI adapter (decrypts the private key)."""
    return LtiToolKey(kid=key.kid, private_pem=key.private_pem, public_jwk=dict(key.public_jwk))


def _public_only(key: ToolKey) -> LtiToolKey:
    """For key sets: the public part only, so publishing never needs (or decrypts) the private key."""
    return LtiToolKey(kid=key.kid, private_pem="", public_jwk=dict(key.public_jwk))


def active_key() -> ToolKey:
    """The signing key. Created by ``db upgrade`` and ``platform add``, never in a request (two processes
    creating one each would leave two active keys)."""
    key = db.session.execute(select(ToolKey).where(ToolKey.active.is_(True))).scalar_one_or_none()
    if key is None:
        raise PlatformError("the tool has no signing key yet: run 'medienwerk db upgrade'")
    return key


def ensure_active_key() -> ToolKey:
    """The signing key, created if there is none. Safe when several processes run it at once: the schema
    allows one active key, and a process that loses the race takes the winner's."""
    key = db.session.execute(select(ToolKey).where(ToolKey.active.is_(True))).scalar_one_or_none()
    if key is not None:
        return key
    try:
        with db.session.begin_nested():
            return _new_key(active=True)
    except IntegrityError:
        return db.session.execute(select(ToolKey).where(ToolKey.active.is_(True))).scalar_one()


def _new_key(active: bool) -> ToolKey:
    generated = generate_key()
    key = ToolKey(kid=generated.kid, private_pem=generated.private_pem, public_jwk=generated.public_jwk, active=active)
    db.session.add(key)
    db.session.flush()
    return key


def published_keys() -> list[ToolKey]:
    """Keys in the JWKS: the active one and rotated-out ones not yet retired (creates nothing)."""
    return list(
        db.session.execute(
            select(ToolKey).where(ToolKey.retired_at.is_(None)).order_by(ToolKey.created_at.desc(), ToolKey.id.desc())
        ).scalars()
    )


def published_public_keys() -> list[LtiToolKey]:
    """The published keys for the LTI adapter's key set: public parts only."""
    return [_public_only(k) for k in published_keys()]


def all_keys() -> list[ToolKey]:
    return list(db.session.execute(select(ToolKey).order_by(ToolKey.id)).scalars())


def rotate_keys() -> ToolKey:
    current = ensure_active_key()
    current.active = False
    db.session.flush()
    return _new_key(active=True)


def key_storage(key: ToolKey) -> str:
    """How a key is stored: ``encrypted``, ``plain`` or ``undecryptable`` (with the configured keys)."""
    if not keycrypt.is_encrypted(key.stored_pem):
        return "plain"
    return "encrypted" if keycrypt.can_unseal(key.stored_pem) else "undecryptable"


def undecryptable_keys() -> list[str]:
    """The kids of stored keys none of the configured key-encryption keys can decrypt."""
    return [k.kid for k in all_keys() if key_storage(k) == "undecryptable"]


def encrypt_keys() -> int:
    """Store every private key encrypted with the first key of MEDIENWERK_KEY_ENCRYPTION_KEY (after setting or
    rotating it); returns how many changed. Keys already encrypted with that key stay as they are."""
    if not keycrypt.configured_keys():
        raise PlatformError(f"{keycrypt.SETTING} is not set: there is no key to encrypt with")
    changed = 0
    for key in all_keys():
        if keycrypt.is_current(key.stored_pem):
            continue
        try:
            key.private_pem = key.private_pem  # decrypted with any configured key, encrypted with the first
        except keycrypt.KeyEncryptionError as exc:
            raise PlatformError(str(exc)) from None
        changed += 1
    db.session.flush()
    return changed


def decrypt_keys() -> int:
    """Store every private key as plain PEM again (before removing MEDIENWERK_KEY_ENCRYPTION_KEY); returns how many
    changed."""
    changed = 0
    for key in all_keys():
        if not keycrypt.is_encrypted(key.stored_pem):
            continue
        try:
            key.stored_pem = key.private_pem
        except keycrypt.KeyEncryptionError as exc:
            raise PlatformError(str(exc)) from None
        changed += 1
    db.session.flush()
    return changed


def retire_key(kid: str) -> ToolKey:
    key = db.session.execute(select(ToolKey).where(ToolKey.kid == kid)).scalar_one_or_none()
    if key is None:
        raise PlatformError(f"no key with kid {kid!r}")
    if key.active:
        raise PlatformError("the active key cannot be retired; rotate first")
    if key.retired_at is None:
        key.retired_at = utcnow()
    db.session.flush()
    return key


def find_platform(issuer: str, client_id: str) -> Platform | None:
    return db.session.execute(
        select(Platform).where(Platform.issuer == issuer, Platform.client_id == client_id)
    ).scalar_one_or_none()


def find_deployment(platform: Platform, deployment_id: str) -> Deployment | None:
    return next((d for d in platform.deployments if d.deployment_id == deployment_id), None)
