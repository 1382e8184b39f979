"""Invitations for dynamic registration, and storing what a registration produced. Services flush, views commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update

from lms.core.db import utcnow
from lms.core.errors import Conflict
from lms.core.extensions import db
from lms.platforms.models import Platform
from lms.platforms.services import PlatformError, add_platform, find_platform, get_or_create_chamber, slugify
from lms.registrations.models import RegistrationInvitation
from lti.registration import RegistrationResult, same_issuer

MAX_HOURS = 24 * 30


class InvitationError(PlatformError):
    """An invitation request that cannot be carried out (CLI: message for the operator)."""


class RegistrationConflict(Conflict):
    """The registration cannot be stored; ``code`` names the reason for the page."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_invitation(
    *, name: str | None, chamber_slug: str | None, hours: float = 72
) -> tuple[RegistrationInvitation, str]:
    """A new invitation and its token (shown once; only the hash is kept)."""
    if not name and not chamber_slug:
        raise InvitationError("say which chamber the LMS belongs to: --chamber SLUG or --name 'HWK …'")
    if not 0 < hours <= MAX_HOURS:
        raise InvitationError(f"--hours must be between 0 and {MAX_HOURS}")
    chamber = get_or_create_chamber(chamber_slug or slugify(name or ""), name)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    invitation = RegistrationInvitation(
        chamber=chamber,
        name=name,
        token_hash=_hash(token),
        created_at=now,
        expires_at=now + dt.timedelta(hours=hours),
    )
    db.session.add(invitation)
    db.session.flush()
    return invitation, token


def open_invitations() -> Sequence[RegistrationInvitation]:
    now = utcnow()
    return (
        db.session.execute(
            select(RegistrationInvitation)
            .where(
                RegistrationInvitation.used_at.is_(None),
                RegistrationInvitation.revoked_at.is_(None),
                RegistrationInvitation.expires_at > now,
            )
            .order_by(RegistrationInvitation.id)
        )
        .scalars()
        .all()
    )


def revoke_invitation(invitation_id: int) -> RegistrationInvitation:
    invitation = db.session.get(RegistrationInvitation, invitation_id)
    if invitation is None:
        raise InvitationError(f"no invitation with id {invitation_id}")
    status = invitation.status()
    if status == "used":
        raise InvitationError(f"invitation {invitation_id} was already used; it cannot be revoked")
    if invitation.revoked_at is None:
        invitation.revoked_at = utcnow()
    db.session.flush()
    return invitation


def find_invitation(token: str | None) -> RegistrationInvitation | None:
    if not token:
        return None
    return db.session.execute(
        select(RegistrationInvitation).where(RegistrationInvitation.token_hash == _hash(token))
    ).scalar_one_or_none()


def claim_invitation(invitation: RegistrationInvitation) -> bool:
    """Mark the invitation used, atomically: of two concurrent registrations only one gets it."""
    now = utcnow()
    result = db.session.execute(
        update(RegistrationInvitation)
        .where(
            RegistrationInvitation.id == invitation.id,
            RegistrationInvitation.used_at.is_(None),
            RegistrationInvitation.revoked_at.is_(None),
            RegistrationInvitation.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    db.session.refresh(invitation)
    return True


def check_issuer_free(invitation: RegistrationInvitation, issuer: str) -> None:
    """Refuse an issuer that a registration of another chamber has (compared after normalising the URL): an
    invitation for one chamber never reaches another's LMS (CONTRACT: Tenancy). An operator can still add the
    issuer to a second chamber with 'platform add --chamber'."""
    rows = db.session.execute(select(Platform.issuer).where(Platform.chamber_id != invitation.chamber_id)).scalars()
    if any(same_issuer(issuer, other) for other in rows):
        raise RegistrationConflict("other_chamber")


@dataclass(frozen=True)
class StoredRegistration:
    platform: Platform
    created: bool


def record_registration(invitation: RegistrationInvitation, result: RegistrationResult) -> StoredRegistration:
    """Store the platform and deployment in the invitation's chamber; the same LMS again updates its row.

    Same issuer and client id: that registration. A Moodle "update" registration (token scope
    ``reg-update``) of the issuer's only registration in this chamber: that one, with the client id it has now.
    """
    config = result.platform
    if not result.deployment_id:
        raise RegistrationConflict("no_deployment")
    platform = find_platform(config.issuer, result.client_id)
    if platform is None and result.update:
        same_issuer = (
            db.session.execute(
                select(Platform).where(Platform.issuer == config.issuer, Platform.chamber_id == invitation.chamber_id)
            )
            .scalars()
            .all()
        )
        if len(same_issuer) == 1:
            platform = same_issuer[0]
            platform.client_id = result.client_id
            db.session.flush()
    if platform is not None and platform.chamber_id != invitation.chamber_id:
        raise RegistrationConflict("other_chamber")
    check_issuer_free(invitation, config.issuer)
    name = invitation.name or (platform.name if platform else None) or urlsplit(config.issuer).netloc
    added = add_platform(
        issuer=config.issuer,
        client_id=result.client_id,
        deployment_id=result.deployment_id,
        auth_login_url=config.authorization_endpoint,
        auth_token_url=config.token_endpoint,
        key_set_url=config.jwks_uri,
        name=name,
        chamber_slug=invitation.chamber.slug,
    )
    invitation.platform_id = added.platform.id
    db.session.flush()
    return StoredRegistration(added.platform, created=platform is None and added.created)
