from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.platforms import keycrypt


class Chamber(db.Model):  # type: ignore[name-defined]
    """A Handwerkskammer: the tenant. A central chamber (the central team) may read all chambers."""

    __tablename__ = "chamber"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    is_central: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    platforms: Mapped[list[Platform]] = relationship(back_populates="chamber")


class Platform(db.Model):  # type: ignore[name-defined]
    """An LMS registration: one issuer and client id, owned by a chamber."""

    __tablename__ = "platform"
    __table_args__ = (UniqueConstraint("issuer", "client_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chamber.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    issuer: Mapped[str] = mapped_column(String(255), index=True)
    client_id: Mapped[str] = mapped_column(String(255))
    auth_login_url: Mapped[str] = mapped_column(String(1024))
    auth_token_url: Mapped[str] = mapped_column(String(1024))
    auth_audience: Mapped[str | None] = mapped_column(String(1024))
    key_set_url: Mapped[str] = mapped_column(String(1024))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    chamber: Mapped[Chamber] = relationship(back_populates="platforms")
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="platform", order_by="Deployment.id", cascade="all, delete-orphan"
    )


class Deployment(db.Model):  # type: ignore[name-defined]
    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="deployments")


class ToolKey(db.Model):  # type: ignore[name-defined]
    """An RSA key of the tool. The active one signs; rotated-out ones stay published until retired.

    ``private_pem`` is the PEM; the column holds it encrypted when MEDIENWERK_KEY_ENCRYPTION_KEY is set
    (:mod:`lms.platforms.keycrypt`): reading decrypts, writing encrypts with the first configured key.
    ``stored_pem`` is the column as stored (``fernet:…`` or a plain PEM from before the setting).
    """

    __tablename__ = "tool_key"
    # at most one active key, whatever several processes do at once
    __table_args__ = (
        Index(
            "uq_tool_key_one_active",
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
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    @property
    def private_pem(self) -> str:
        return keycrypt.unseal(self.stored_pem, self.kid)

    @private_pem.setter
    def private_pem(self, pem: str) -> None:
        self.stored_pem = keycrypt.seal(pem)
