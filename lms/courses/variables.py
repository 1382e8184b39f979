"""The chamber values a lesson may name (courses/FORMAT.md, "Values of the chamber"): contacts, links to the
chamber's templates and storage. Each chamber fills them in (``lms.courses.services``); a lesson writes
``{{ kammer.kinderschutz_telefon }}`` and shows the volunteer's chamber's value, or a line saying whom to ask.

This list is what ``courses check`` accepts: a name not listed here is an error in the content.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

TEXT, EMAIL, PHONE, URL = "text", "email", "phone", "url"
KINDS = (TEXT, EMAIL, PHONE, URL)
PREFIX = "kammer."


@dataclass(frozen=True)
class ChamberVariable:
    """One value a chamber fills in: its name in the Markdown, what it is and how to ask for it."""

    name: str
    kind: str  # text | email | phone | url
    label: object  # lazy German msgid: the field's label on the coordinators' page
    ask: object  # lazy msgid: the fallback when the chamber has not filled it in

    @property
    def reference(self) -> str:
        """How a lesson names it: ``{{ kammer.<name> }}``."""
        return "{{ " + PREFIX + self.name + " }}"


VARIABLES: tuple[ChamberVariable, ...] = (
    ChamberVariable(
        "koordination_name",
        TEXT,
        _l("Koordination des Programms: Name"),
        _l("Frag in deiner Kammer, wer dich als Koordinator*in begleitet."),
    ),
    ChamberVariable(
        "koordination_email",
        EMAIL,
        _l("Koordination des Programms: E-Mail"),
        _l("Frag in deiner Kammer nach der E-Mail-Adresse deiner Koordinator*in."),
    ),
    ChamberVariable(
        "koordination_telefon",
        PHONE,
        _l("Koordination des Programms: Telefon"),
        _l("Frag in deiner Kammer nach der Telefonnummer deiner Koordinator*in."),
    ),
    ChamberVariable(
        "kinderschutz_name",
        TEXT,
        _l("Ansprechperson für Kinderschutz: Name"),
        _l("Frag deine Koordinator*in, wer in deiner Kammer für Kinderschutz zuständig ist."),
    ),
    ChamberVariable(
        "kinderschutz_telefon",
        PHONE,
        _l("Ansprechperson für Kinderschutz: Telefon"),
        _l("Frag deine Koordinator*in nach der Telefonnummer für Kinderschutz."),
    ),
    ChamberVariable(
        "kinderschutz_email",
        EMAIL,
        _l("Ansprechperson für Kinderschutz: E-Mail"),
        _l("Frag deine Koordinator*in nach der E-Mail-Adresse für Kinderschutz."),
    ),
    ChamberVariable(
        "schutzkonzept_link",
        URL,
        _l("Schutzkonzept und Verhaltenskodex (Link)"),
        _l("Frag deine Koordinator*in nach dem Schutzkonzept und dem Verhaltenskodex deiner Kammer."),
    ),
    ChamberVariable(
        "pressestelle_telefon",
        PHONE,
        _l("Pressestelle: Telefon"),
        _l("Frag deine Koordinator*in nach der Telefonnummer der Pressestelle."),
    ),
    ChamberVariable(
        "pressestelle_email",
        EMAIL,
        _l("Pressestelle: E-Mail"),
        _l("Frag deine Koordinator*in nach der E-Mail-Adresse der Pressestelle."),
    ),
    ChamberVariable(
        "datenschutz_email",
        EMAIL,
        _l("Datenschutz der Kammer: E-Mail"),
        _l("Frag deine Koordinator*in, wie du den Datenschutz deiner Kammer erreichst."),
    ),
    ChamberVariable(
        "einwilligung_vorlage",
        URL,
        _l("Einwilligung für Fotos und Videos: Vorlage (Link)"),
        _l("Frag deine Koordinator*in nach der Einwilligungs-Vorlage deiner Kammer."),
    ),
    ChamberVariable(
        "einwilligung_vorlage_minderjaehrige",
        URL,
        _l("Einwilligung von Minderjährigen und Eltern: Vorlage (Link)"),
        _l("Frag deine Koordinator*in nach der Einwilligungs-Vorlage für Minderjährige."),
    ),
    ChamberVariable(
        "video_ablage",
        URL,
        _l("Speicher der Kammer für Videos und Fotos (Link)"),
        _l("Frag deine Koordinator*in, in welchen Speicher du Videos und Fotos hochlädst."),
    ),
)
BY_NAME: dict[str, ChamberVariable] = {v.name: v for v in VARIABLES}


def variable(name: str) -> ChamberVariable | None:
    """The chamber value with this name, or None."""
    return BY_NAME.get(name)


def reference_problem(reference: str) -> str | None:
    """Why `{{ reference }}` in a lesson is no chamber value, or None when it names one."""
    if not reference.startswith(PREFIX):
        return f"'{{{{ {reference} }}}}' is not a chamber value: write {{{{ kammer.name }}}} (see FORMAT.md)"
    name = reference[len(PREFIX) :]
    if name not in BY_NAME:
        known = ", ".join(v.name for v in VARIABLES)
        return f"unknown chamber value 'kammer.{name}' (known: {known})"
    return None
