"""Awards (a reached qualification tier, once per person and tier), the name a volunteer typed for their
certificates when the LMS withholds it, and the key that signs the Open Badges credentials.

An award is a record of what happened: it keeps the tier's title, the modules with the versions and DigComp
competences it covered, the attended tutorials and the name as they were on the day, so later content changes
never change or remove it. Only an explicit revocation (or a re-issue, which revokes with a pointer to the new
award) ends it. Its ``id`` is random and URL-safe: it is printed on the certificate and is the public
verification URL's last part, so it must not be guessable or count anything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.platforms import keycrypt
from lms.platforms.models import Chamber
from lms.users.models import User

AWARD_ID_LENGTH = 22  # secrets.token_urlsafe(16): 128 random bits


class Award(db.Model):  # type: ignore[name-defined]
    """A qualification tier a person reached. At most one award per person and tier is current (not
    superseded); a revoked one stays current, so the tier is not awarded again by itself."""

    __tablename__ = "award"
    __table_args__ = (
        Index(
            "uq_award_current_tier",
            "user_id",
            "tier_id",
            unique=True,
            sqlite_where=text("superseded_by IS NULL"),
            postgresql_where=text("superseded_by IS NULL"),
        ),
        Index("ix_award_chamber_issued", "chamber_id", "issued_at"),
    )

    id: Mapped[str] = mapped_column(String(AWARD_ID_LENGTH), primary_key=True)
    # SET NULL: when the person's data is deleted the award stays verifiable as revoked, without them
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chamber.id"))
    tier_id: Mapped[str] = mapped_column(String(100))
    tier_title: Mapped[str] = mapped_column(String(200))
    # {module id: version} of the modules the tier covered on the day
    module_versions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # what the certificate and the credential show, as on the day: the tier's description and its modules'
    # titles and DigComp competences ({"description": ..., "modules": [{"id", "title", "competences": [[id, level]]}]})
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tutorials_attended: Mapped[int] = mapped_column(Integer, default=0)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoke_reason: Mapped[str | None] = mapped_column(String(500))
    # salt of the recipient's hashed identity in the Open Badges credential; removed with the person
    recipient_salt: Mapped[str | None] = mapped_column(String(64))
    # the name on the certificate (from the LMS, or typed by the volunteer); removed with the person
    display_name: Mapped[str | None] = mapped_column(String(255))
    # the award that replaced this one (a re-issue); no foreign key, so the pointer can be set before the new
    # row exists (the current-award index allows one current award per person and tier at every moment)
    superseded_by: Mapped[str | None] = mapped_column(String(AWARD_ID_LENGTH), index=True)

    user: Mapped[User | None] = relationship()
    chamber: Mapped[Chamber] = relationship()

    @property
    def state(self) -> str:
        """valid | revoked | superseded."""
        if self.superseded_by is not None:
            return "superseded"
        return "revoked" if self.revoked_at is not None else "valid"


class CertificateName(db.Model):  # type: ignore[name-defined]
    """The name a volunteer typed for their certificates, asked once when the LMS does not share a name."""

    __tablename__ = "certificate_name"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class CredentialKey(db.Model):  # type: ignore[name-defined]
    """An RSA key that signs the Open Badges credentials (VC-JWT), apart from the LTI tool keys: retiring or
    rotating those never breaks a credential. The active one signs; all stay published at /certificates/jwks,
    because credentials signed years ago must still verify.

    ``private_pem`` is stored like the tool keys' (:mod:`lms.platforms.keycrypt`): encrypted when
    MEDIENWERK_KEY_ENCRYPTION_KEY is set. A rotated-out key keeps only its public part (``stored_pem`` empty): it never
    signs again.
    """

    __tablename__ = "credential_key"
    __table_args__ = (
        Index(
            "uq_credential_key_one_active",
            "active",
            unique=True,
            sqlite_where=text("active"),
            postgresql_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kid: Mapped[str] = mapped_column(String(100), unique=True)
    stored_pem: Mapped[str] = mapped_column("private_pem", Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def private_pem(self) -> str:
        return keycrypt.unseal(self.stored_pem, self.kid)

    @private_pem.setter
    def private_pem(self, pem: str) -> None:
        self.stored_pem = keycrypt.seal(pem)
