"""What a launch tells grade delivery: the resource link, its AGS endpoint and what it shows, and for volunteers
their platform user id (the score's ``userId``).

Runs on every launch (the ``launch_recorded`` signal), so a returning launch of an unchanged link costs one
statement: an UPDATE of the volunteer's row that only matches while the stored link is exactly as this launch
describes it (for trainers and coordinators, who are not graded, a SELECT of the same condition). Only a new or
changed link, or a volunteer's first launch of it, takes the full path, which also queues the current score (a link
added later is filled in from progress that already exists). Later scores are queued by progress changes
(:func:`lms.grades.services.progress_changed`), not by launches.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import Text, cast, select, update

from lms.core.db import clip, get_or_create, utcnow
from lms.core.extensions import db
from lms.grades.models import ITEM_MODULE, ITEM_OVERVIEW, GradeLink, GradeLinkUser
from lms.grades.services import MODULE_PARAM, current_score, queue_score
from lti.claims import Launch
from lti.roles import Role


def record_link(launch: Launch, user_id: int, platform_id: int, course_id: int | None) -> None:
    """Remember the launch's resource link (and the volunteer in it); queue the score when either is new or the
    link changed."""
    if launch.resource_link is None:
        return
    now = utcnow()
    fields = _link_fields(launch, course_id)
    if _touch_unchanged(launch, user_id, platform_id, fields, now):
        return
    link, _ = get_or_create(GradeLink, fields, platform_id=platform_id, resource_link_id=launch.resource_link.id)
    if launch.ags is not None and (link.lineitems_url, link.lineitem_url) != (
        launch.ags.lineitems,
        launch.ags.lineitem,
    ):
        link.found_lineitem_url = None  # another endpoint: the line item found for the old one does not apply
    if launch.ags is None:
        link.found_lineitem_url = None
    for name, value in fields.items():
        setattr(link, name, value)
    db.session.flush()

    if launch.role != Role.VOLUNTEER:
        return  # only learners are gradable in the LMS
    member, _ = get_or_create(
        GradeLinkUser,
        {"platform_user_id": launch.user.sub, "first_launch_at": now, "last_launch_at": now},
        link_id=link.id,
        user_id=user_id,
    )
    member.platform_user_id = launch.user.sub
    member.last_launch_at = now
    db.session.flush()
    if link.gradable:
        queue_score(link, member, current_score(user_id, link), only_if_news=True)


def _link_fields(launch: Launch, course_id: int | None) -> dict[str, Any]:
    """The link's columns as this launch describes it."""
    assert launch.resource_link is not None
    module_id = (launch.custom.get(MODULE_PARAM) or "").strip()[:100]
    ags = launch.ags
    return {
        "course_id": course_id,
        "deployment_id": launch.deployment_id,
        "title": clip(launch.resource_link.title, GradeLink.title),
        "item_kind": ITEM_MODULE if module_id else ITEM_OVERVIEW,
        "module_id": module_id or None,
        "lineitems_url": ags.lineitems if ags is not None else None,
        "lineitem_url": ags.lineitem if ags is not None else None,
        "scopes": sorted(ags.scopes) if ags is not None else [],
    }


def _touch_unchanged(launch: Launch, user_id: int, platform_id: int, fields: dict[str, Any], now: dt.datetime) -> bool:
    """True if the link is stored as described (and, for a volunteer, they launched it before: their launch time
    is recorded). One statement."""
    assert launch.resource_link is not None
    same = [getattr(GradeLink, name).is_not_distinct_from(value) for name, value in fields.items() if name != "scopes"]
    # the JSON column compared as the text it was stored as (the same serializer wrote it); a mismatch only
    # sends the launch down the full path
    same.append(cast(GradeLink.scopes, Text) == json.dumps(fields["scopes"]))
    unchanged_link = select(GradeLink.id).where(
        GradeLink.platform_id == platform_id, GradeLink.resource_link_id == launch.resource_link.id, *same
    )
    if launch.role != Role.VOLUNTEER:
        return db.session.execute(unchanged_link).first() is not None
    touched = db.session.execute(
        update(GradeLinkUser)
        .where(
            GradeLinkUser.user_id == user_id,
            GradeLinkUser.link_id == unchanged_link.scalar_subquery(),
            GradeLinkUser.platform_user_id == launch.user.sub,
        )
        .values(last_launch_at=now)
        .returning(GradeLinkUser.id)
        .execution_options(synchronize_session=False)
    ).first()
    return touched is not None
