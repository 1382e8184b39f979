"""Reads of the chamber values, and filling them into rendered lessons (lms/courses/render.py writes a
``<medienwerk-kammer name="…">`` placeholder where a lesson says ``{{ kammer.… }}``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import g
from markupsafe import Markup
from sqlalchemy import select

from lms.core.extensions import db
from lms.courses.models import ChamberValue
from lms.courses.render import VALUE_TAG
from lms.courses.services import is_web_address
from lms.courses.variables import EMAIL, PHONE, URL, VARIABLES, ChamberVariable, variable
from lms.platforms.models import Chamber

_PLACEHOLDER_RE = re.compile(rf'<{VALUE_TAG} name="([a-z0-9_]+)"></{VALUE_TAG}>')
_G_KEY = "_medienwerk_chamber_values"


def values_for(chamber_id: int) -> dict[str, str]:
    """The chamber's filled-in values by name (one query)."""
    rows = db.session.execute(
        select(ChamberValue.name, ChamberValue.value).where(ChamberValue.chamber_id == chamber_id)
    ).all()
    return {name: value for name, value in rows if variable(name) is not None}


@dataclass(frozen=True)
class ValueField:
    """One row of the coordinators' page: the variable and its value (or what was typed, with the error)."""

    variable: ChamberVariable
    value: str
    error: str | None = None


def fields_for(
    chamber_id: int, typed: dict[str, str] | None = None, errors: dict[str, str] | None = None
) -> list[ValueField]:
    """Every chamber value in the order of the list, with the stored value or what was just typed."""
    stored = values_for(chamber_id)
    typed = typed or {}
    errors = errors or {}
    return [ValueField(var, typed.get(var.name, stored.get(var.name, "")), errors.get(var.name)) for var in VARIABLES]


def chambers(chamber_ids: tuple[int, ...] | None) -> list[Chamber]:
    """These chambers (None: all, for the central team), by name (one query)."""
    query = select(Chamber).order_by(Chamber.name, Chamber.id)
    if chamber_ids is not None:
        query = query.where(Chamber.id.in_(chamber_ids))
    return list(db.session.execute(query).scalars())


def _phone_href(value: str) -> str:
    return "tel:" + "".join(c for c in value if c.isdigit() or c == "+")


def render_value(var: ChamberVariable, value: str | None) -> Markup:
    """The HTML for one value: e-mails, phone numbers and web addresses as links; the hint whom to ask when
    the chamber has not filled it in."""
    if not value:
        return Markup('<em class="chamber-value chamber-value--missing">%s</em>') % str(var.ask)
    if var.kind == EMAIL:
        return Markup('<a class="chamber-value" href="mailto:%s">%s</a>') % (value, value)
    if var.kind == PHONE:
        return Markup('<a class="chamber-value" href="%s">%s</a>') % (_phone_href(value), value)
    if var.kind == URL and is_web_address(value):  # checked when stored; never a link to anything else
        return Markup('<a class="chamber-value" href="%s" target="_blank" rel="noopener noreferrer">%s</a>') % (
            value,
            value,
        )
    return Markup('<span class="chamber-value">%s</span>') % value


def fill_chamber_values(html: str, values: dict[str, str]) -> Markup:
    """Rendered content with each placeholder replaced by the chamber's value (or the hint whom to ask)."""

    def replace(match: re.Match[str]) -> str:
        var = variable(match.group(1))
        return "" if var is None else str(render_value(var, values.get(var.name)))

    # the course's own rendering (raw HTML in the content is escaped there) with escaped values filled in
    return Markup(_PLACEHOLDER_RE.sub(replace, str(html)))  # noqa: S704


def chamber_values_filter(html: str) -> Markup:
    """Template filter ``|chamber_values``: content HTML with the values of the launch's chamber (read once per
    request, and only when the content names one)."""
    if VALUE_TAG not in html:
        return Markup(html)  # noqa: S704 - the course's own rendering (lms/courses/render.py)
    values = g.get(_G_KEY)
    if values is None:
        launch = g.get("launch")
        values = values_for(launch.user.chamber_id) if launch is not None else {}
        setattr(g, _G_KEY, values)
    return fill_chamber_values(html, values)
