"""Open Badges 3.0: an award as an ``OpenBadgeCredential`` (a W3C Verifiable Credential, VC Data Model 2.0 as the
1EdTech JSON schema has it), signed as a VC-JWT (OB 3.0 §8.2 "JSON Web Token Proof Format").

- The JOSE header has ``alg`` RS256, ``typ`` JWT and ``kid``: a URL of the tool that answers the public JWK
  (``/certificates/keys/<kid>``); the same keys are listed at ``/certificates/jwks`` with these URLs as ``kid``.
- The payload has ``iss`` (the issuer profile's id), ``jti`` (the credential's id), ``nbf`` (``validFrom``),
  ``sub`` (``credentialSubject.id``) and ``vc`` (the credential), as the proof section says.
- The issuer is the chamber (a ``Profile`` at ``/certificates/issuers/<slug>``); the credential's ``id`` is the
  public verification URL; the recipient is a salted SHA-256 hash of the e-mail address the LMS shared, or of the
  LMS user id when it shares none: no e-mail or name in clear text. ``credentialSubject.id`` is a pseudonymous
  ``urn:uuid:`` derived from the award id, so the JWT's ``sub`` names nobody.

The signing keys are the domain's own (:class:`~lms.certificates.models.CredentialKey`), never the LTI tool key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from typing import Any

import jwt
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.certificates.models import CredentialKey
from lms.certificates.queries import Certificate, CompetenceLine, ModuleLine, competences_of
from lms.core.extensions import db
from lms.core.urls import tool_url
from lms.courses.content import FRAMEWORK
from lms.users.models import User
from lti.keys import generate_key

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CONTEXT = [VC_CONTEXT, OB_CONTEXT]
DIGCOMP_URL = "https://joint-research-centre.ec.europa.eu/digcomp_en"
DIGCOMP_LEVELS = {
    1: "Grundlegend",
    2: "Grundlegend",
    3: "Selbstständig",
    4: "Selbstständig",
    5: "Fortgeschritten",
    6: "Fortgeschritten",
    7: "Hoch spezialisiert",
    8: "Hoch spezialisiert",
}


# --- keys -------------------------------------------------------------------------------------------------


def active_key() -> CredentialKey:
    """The key that signs, created when there is none. Safe when two requests create it at once: the schema
    allows one active key, and the one that loses the race takes the winner's."""
    key = db.session.execute(select(CredentialKey).where(CredentialKey.active.is_(True))).scalar_one_or_none()
    if key is not None:
        return key
    try:
        with db.session.begin_nested():
            generated = generate_key()
            key = CredentialKey(kid=generated.kid, public_jwk=generated.public_jwk, active=True)
            key.private_pem = generated.private_pem  # encrypted when MEDIENWERK_KEY_ENCRYPTION_KEY is set
            db.session.add(key)
        return key
    except IntegrityError:
        return db.session.execute(select(CredentialKey).where(CredentialKey.active.is_(True))).scalar_one()


def rotate_key() -> CredentialKey:
    """A new signing key; the old one stays published (credentials it signed keep verifying) and loses its private
    part: it never signs again. Also the way to store the signing key encrypted after setting
    MEDIENWERK_KEY_ENCRYPTION_KEY."""
    current = active_key()
    current.active = False
    current.stored_pem = ""
    db.session.flush()
    return active_key()


def published_keys() -> list[CredentialKey]:
    return list(db.session.execute(select(CredentialKey).order_by(CredentialKey.id)).scalars())


def key_url(kid: str) -> str:
    return tool_url("certificates.key", kid=kid)


def public_jwk(key: CredentialKey) -> dict[str, Any]:
    """The public JWK with its URL as ``kid`` (what the JWT header names); never the private part."""
    jwk = {k: v for k, v in key.public_jwk.items() if k in ("kty", "n", "e", "alg", "use")}
    jwk["kid"] = key_url(key.kid)
    return jwk


def jwks() -> dict[str, list[dict[str, Any]]]:
    return {"keys": [public_jwk(key) for key in published_keys()]}


# --- the credential ----------------------------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def issuer_id(chamber_slug: str) -> str:
    return tool_url("certificates.issuer", slug=chamber_slug)


def issuer_profile(chamber_slug: str, chamber_name: str) -> dict[str, Any]:
    return {"id": issuer_id(chamber_slug), "type": ["Profile"], "name": chamber_name}


def alignments(competences: tuple[CompetenceLine, ...]) -> list[dict[str, Any]]:
    return [
        {
            "type": ["Alignment"],
            "targetType": "ceasn:Competency",
            "targetFramework": FRAMEWORK,
            "targetCode": c.id,
            "targetName": c.label,
            "targetDescription": f"DigComp 2.2, Kompetenz {c.id}: Kompetenzstufe {c.level} "
            f"({DIGCOMP_LEVELS.get(c.level, '')})",
            "targetUrl": DIGCOMP_URL,
        }
        for c in competences
    ]


def criteria_narrative(modules: tuple[ModuleLine, ...], tutorials: int) -> str:
    listed = "; ".join(f"{m.title} (Version {m.version})" for m in modules)
    text = f"Alle Lerneinheiten, Selbstchecks und Praxisaufgaben dieser Module abgeschlossen: {listed}."
    if tutorials == 1:
        text += " Dazu mindestens ein Live-Tutorial in BigBlueButton besucht."
    elif tutorials:
        text += f" Dazu mindestens {tutorials} Live-Tutorials in BigBlueButton besucht."
    return text


def achievement(
    tier_id: str,
    title: str,
    description: str,
    modules: tuple[ModuleLine, ...],
    tutorials: int,
    creator: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A tier as an Achievement: what it takes (criteria) and the DigComp competences it aligns to."""
    data: dict[str, Any] = {
        "id": tool_url("certificates.achievement", tier_id=tier_id),
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": title,
        "description": description or title,
        "criteria": {"narrative": criteria_narrative(modules, tutorials)},
        "alignment": alignments(competences_of(modules)),
        "inLanguage": "de",
    }
    if creator is not None:
        data["creator"] = creator
    return data


def recipient_identity(user: User) -> tuple[str, str]:
    """(identityType, identity): the e-mail address the LMS shared, else the LMS user id."""
    if user.email:
        return "emailAddress", user.email.strip().lower()
    return "ltiUserId", user.sub


def identity_hash(identity: str, salt: str) -> str:
    return "sha256$" + hashlib.sha256((identity + salt).encode()).hexdigest()


def subject_id(award_id: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"medienwerk:award:{award_id}:subject"))


def credential(cert: Certificate, user: User, salt: str) -> dict[str, Any]:
    """The award as an OpenBadgeCredential (unsigned)."""
    identity_type, identity = recipient_identity(user)
    issued = _iso(cert.issued_at)
    return {
        "@context": list(CONTEXT),
        "id": tool_url("certificates.verify", award_id=cert.id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": cert.tier_title,
        "description": f"medienwerk: Qualifizierungsstufe „{cert.tier_title}“ der Botschafter*innen des Handwerks",
        "issuer": issuer_profile(cert.chamber_slug, cert.chamber_name),
        "validFrom": issued,
        "awardedDate": issued,
        "credentialSubject": {
            "id": subject_id(cert.id),
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(identity, salt),
                    "identityType": identity_type,
                    "hashed": True,
                    "salt": salt,
                }
            ],
            "achievement": achievement(
                cert.tier_id,
                cert.tier_title,
                cert.description,
                cert.modules,
                cert.tutorials_required,
                issuer_profile(cert.chamber_slug, cert.chamber_name),
            ),
        },
    }


def sign(vc: dict[str, Any]) -> str:
    """The credential as a Compact JWS (VC-JWT) signed with the active credential key."""
    key = active_key()
    nbf = int(dt.datetime.fromisoformat(vc["validFrom"].replace("Z", "+00:00")).timestamp())
    payload = {
        "iss": vc["issuer"]["id"],
        "jti": vc["id"],
        "nbf": nbf,
        "sub": vc["credentialSubject"]["id"],
        "vc": vc,
    }
    return jwt.encode(payload, key.private_pem, algorithm="RS256", headers={"kid": key_url(key.kid), "typ": "JWT"})
