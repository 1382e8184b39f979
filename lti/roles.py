"""Role mapping (LTI 1.3 core §5.3.7 roles claim, §A.2 role vocabularies).

medienwerk knows three roles. CONTRACT: Learner → volunteer; Instructor or TeachingAssistant → trainer;
institution or system Administrator → coordinator. The highest wins; unknown or empty → volunteer.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable


class Role(enum.IntEnum):
    VOLUNTEER = 1
    TRAINER = 2
    COORDINATOR = 3

    @property
    def key(self) -> str:
        return self.name.lower()


_CONTEXT = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
_CONTEXT_SUB = "http://purl.imsglobal.org/vocab/lis/v2/membership/"
_INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"
_SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
# the LIS v2 person role without "system"/"institution": Moodle's NRPS lists site administrators with it
_PERSON = "http://purl.imsglobal.org/vocab/lis/v2/person#"

_TRAINER_CONTEXT_ROLES = {"Instructor", "TeachingAssistant"}


def _role_of(uri: str) -> Role:
    uri = uri.strip()
    if uri in (_INSTITUTION + "Administrator", _SYSTEM + "Administrator", _PERSON + "Administrator"):
        return Role.COORDINATOR
    # LTI 1.1 style URNs that some platforms still send
    if uri in ("urn:lti:sysrole:ims/lis/Administrator", "urn:lti:instrole:ims/lis/Administrator"):
        return Role.COORDINATOR
    if uri.startswith(_CONTEXT):
        name = uri[len(_CONTEXT) :]
    elif uri.startswith(_CONTEXT_SUB):
        # sub-roles, e.g. membership/Instructor#TeachingAssistant
        principal, _, sub = uri[len(_CONTEXT_SUB) :].partition("#")
        name = "TeachingAssistant" if sub == "TeachingAssistant" else principal
    elif "/" not in uri and ":" not in uri:
        name = uri  # short context role names ("Instructor"), allowed by the spec
    else:
        return Role.VOLUNTEER
    return Role.TRAINER if name in _TRAINER_CONTEXT_ROLES else Role.VOLUNTEER


def map_role(roles: Iterable[str] | None) -> Role:
    """The medienwerk role for an LTI roles claim: the highest one found, volunteer by default."""
    found = [_role_of(r) for r in (roles or []) if isinstance(r, str) and r.strip()]
    return max(found, default=Role.VOLUNTEER)
