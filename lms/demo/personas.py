"""The people of the demo LMS (and of the tests): who launches, with which LTI roles."""

from __future__ import annotations

from dataclasses import dataclass

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


@dataclass(frozen=True)
class Persona:
    key: str
    label: str
    sub: str
    roles: tuple[str, ...]
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None


PERSONAS: dict[str, Persona] = {
    p.key: p
    for p in (
        Persona(
            "volunteer",
            "Botschafterin Lena (Lernende)",
            "demo-lena",
            (MEMBERSHIP + "Learner",),
            "Lena Schreiner",
            "Lena",
            "Schreiner",
            "lena.schreiner@example.org",
        ),
        Persona(
            "trainer",
            "Trainer Jonas (Lehrender)",
            "demo-jonas",
            (MEMBERSHIP + "Instructor",),
            "Jonas Becker",
            "Jonas",
            "Becker",
            "jonas.becker@example.org",
        ),
        Persona(
            "coordinator",
            "Koordinatorin Aylin (Admin)",
            "demo-aylin",
            (MEMBERSHIP + "Instructor", SYSTEM + "Administrator", INSTITUTION + "Administrator"),
            "Aylin Demir",
            "Aylin",
            "Demir",
            "aylin.demir@example.org",
        ),
        Persona("volunteer-private", "Botschafter ohne Namen (Datenschutz)", "demo-timo", (MEMBERSHIP + "Learner",)),
    )
}
