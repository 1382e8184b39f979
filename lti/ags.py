"""LTI Assignment and Grade Services 2.0 client (https://www.imsglobal.org/spec/lti-ags/v2p0/).

Line items (§3.2: container GET with filters and paging, POST to create) and scores (§3.4: POST
``application/vnd.ims.lis.v1.score+json`` to ``<lineitem>/scores``). Moodle's rules (``mod/lti/service/
gradebookservices``): ``userId``, ``timestamp``, ``activityProgress`` and ``gradingProgress`` are required,
``scoreGiven`` is kept only with ``FullyGraded``, and a score whose timestamp is not newer *to the second* than
the stored one is refused with 409 (:class:`lti.tokens.ConflictError`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from lti.tokens import PermanentServiceError, ServiceSession, TokenClient
from lti.urlpolicy import same_origin

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"

MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEMS = "application/vnd.ims.lis.v2.lineitemcontainer+json"

ACTIVITY_PROGRESS = ("Initialized", "Started", "InProgress", "Submitted", "Completed")
GRADING_PROGRESS = ("FullyGraded", "Pending", "PendingManual", "Failed", "NotReady")

MAX_PAGES = 200  # a platform that keeps sending "next" is not followed for ever


def iso_timestamp(when: dt.datetime) -> str:
    """ISO-8601 in UTC with milliseconds, e.g. ``2026-05-04T09:30:00.250+00:00``."""
    if when.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class Score:
    """One score for one user on one line item (AGS §3.4)."""

    user_id: str
    score_given: float | None
    score_maximum: float
    activity_progress: str
    grading_progress: str
    timestamp: dt.datetime
    comment: str | None = None

    def __post_init__(self) -> None:
        if self.activity_progress not in ACTIVITY_PROGRESS:
            raise ValueError(f"activityProgress {self.activity_progress!r}")
        if self.grading_progress not in GRADING_PROGRESS:
            raise ValueError(f"gradingProgress {self.grading_progress!r}")
        if self.score_maximum <= 0 or (self.score_given is not None and self.score_given < 0):
            raise ValueError("scores must not be negative and scoreMaximum must be positive")

    @classmethod
    def from_percent(
        cls,
        user_id: str,
        percent: float,
        *,
        timestamp: dt.datetime,
        pending_review: bool = False,
        comment: str | None = None,
    ) -> Score:
        """The score for a completion percentage: Completed at 100 %, else InProgress; FullyGraded unless
        something still waits for a person's review (then Pending)."""
        percent = max(0.0, min(100.0, float(percent)))
        return cls(
            user_id=user_id,
            score_given=percent,
            score_maximum=100.0,
            activity_progress="Completed" if percent >= 100 else "InProgress",
            grading_progress="Pending" if pending_review else "FullyGraded",
            timestamp=timestamp,
            comment=comment,
        )

    def with_timestamp(self, timestamp: dt.datetime) -> Score:
        return Score(
            self.user_id,
            self.score_given,
            self.score_maximum,
            self.activity_progress,
            self.grading_progress,
            timestamp,
            self.comment,
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "userId": self.user_id,
            "scoreMaximum": self.score_maximum,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": iso_timestamp(self.timestamp),
        }
        if self.score_given is not None:
            body["scoreGiven"] = self.score_given
        if self.comment:
            body["comment"] = self.comment
        return body


@dataclass(frozen=True)
class LineItem:
    """A gradebook column (AGS §3.2)."""

    label: str
    score_maximum: float
    id: str | None = None  # the line item's URL, once it exists
    resource_link_id: str | None = None
    resource_id: str | None = None
    tag: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LineItem:
        def text(name: str) -> str | None:
            value = data.get(name)
            return str(value) if isinstance(value, str | int) and str(value) else None

        try:
            maximum = float(data.get("scoreMaximum", 0) or 0)
        except (TypeError, ValueError):
            maximum = 0.0
        return cls(
            id=text("id"),
            label=text("label") or "",
            score_maximum=maximum,
            resource_link_id=text("resourceLinkId"),
            resource_id=text("resourceId"),
            tag=text("tag"),
        )

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"label": self.label, "scoreMaximum": self.score_maximum}
        for key, value in (
            ("resourceLinkId", self.resource_link_id),
            ("resourceId", self.resource_id),
            ("tag", self.tag),
        ):
            if value:
                body[key] = value
        return body


def scores_url(lineitem_url: str) -> str:
    """``<lineitem>/scores``, keeping a query string (Moodle: ``…/lineitem?type_id=3``)."""
    parts = urlsplit(lineitem_url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def _with_query(url: str, params: Mapping[str, str]) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    query = parts.query + ("&" if parts.query else "") + urlencode(params)
    return urlunsplit(parts._replace(query=query))


def _next_link(response: requests.Response, first_url: str, what: str) -> str | None:
    """The ``rel="next"`` link of a page, which must stay on the origin of the first page (it is sent our token)."""
    url = response.links.get("next", {}).get("url")
    if url and not same_origin(url, first_url):
        raise PermanentServiceError("bad_answer", f"{what}: the next page is on another origin")
    return url or None


class AgsClient:
    """Calls to one platform's AGS endpoints with the scopes the launch granted."""

    def __init__(self, tokens: TokenClient, scopes: Iterable[str], *, http: requests.Session | None = None) -> None:
        """``http``: the session for the service URLs (claims): one with a URL policy in the application."""
        self.scopes = tuple(sorted(set(scopes)))
        self.session = ServiceSession(tokens, self.scopes, http=http)

    def can(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def can_find(self) -> bool:
        return self.can(SCOPE_LINEITEM) or self.can(SCOPE_LINEITEM_READONLY)

    # -- line items ---------------------------------------------------------------------------------
    def lineitems(
        self,
        lineitems_url: str,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
        limit: int | None = None,
    ) -> Iterator[LineItem]:
        """All line items of the container matching the filters, following ``Link: <…>; rel="next"``."""
        params = {
            k: v for k, v in (("resource_link_id", resource_link_id), ("resource_id", resource_id), ("tag", tag)) if v
        }
        if limit:
            params["limit"] = str(limit)
        url: str | None = _with_query(lineitems_url, params)
        seen: set[str] = set()
        while url and url not in seen and len(seen) < MAX_PAGES:
            seen.add(url)
            response = self.session.request("GET", url, "AGS line items", headers={"Accept": MEDIA_LINEITEMS})
            try:
                body = response.json()
            except ValueError as exc:
                raise PermanentServiceError("bad_answer", "AGS line items: not JSON") from exc
            if not isinstance(body, list):
                raise PermanentServiceError("bad_answer", "AGS line items: not a list")
            for entry in body:
                if isinstance(entry, Mapping):
                    item = LineItem.from_json(entry)
                    if item.id and not same_origin(item.id, lineitems_url):
                        continue  # scores for it would carry our token to another origin
                    yield item
            url = _next_link(response, lineitems_url, "AGS line items")

    def find_lineitem(self, lineitems_url: str, *, resource_link_id: str | None, tag: str | None) -> LineItem | None:
        """The first line item with this resource link id and tag (both checked here too: not every platform
        filters)."""
        for item in self.lineitems(lineitems_url, resource_link_id=resource_link_id, tag=tag):
            if (
                (resource_link_id is None or item.resource_link_id == resource_link_id)
                and (tag is None or item.tag == tag)
                and item.id
            ):
                return item
        return None

    def create_lineitem(self, lineitems_url: str, item: LineItem) -> LineItem:
        response = self.session.request(
            "POST",
            lineitems_url,
            "AGS create line item",
            json=item.to_json(),
            headers={"Content-Type": MEDIA_LINEITEM, "Accept": MEDIA_LINEITEM},
        )
        try:
            created = LineItem.from_json(response.json())
        except (ValueError, AttributeError) as exc:
            raise PermanentServiceError("bad_answer", "AGS create line item: not JSON") from exc
        if not created.id:
            raise PermanentServiceError("bad_answer", "AGS create line item: no id in the answer")
        if not same_origin(created.id, lineitems_url):
            raise PermanentServiceError("bad_answer", "AGS create line item: the id is on another origin")
        return created

    def find_or_create_lineitem(self, lineitems_url: str, item: LineItem) -> LineItem:
        if self.can_find:
            found = self.find_lineitem(lineitems_url, resource_link_id=item.resource_link_id, tag=item.tag)
            if found is not None:
                return found
        if not self.can(SCOPE_LINEITEM):
            raise PermanentServiceError("no_lineitem", "no line item and no permission to create one")
        return self.create_lineitem(lineitems_url, item)

    # -- scores -------------------------------------------------------------------------------------
    def post_score(self, lineitem_url: str, score: Score) -> None:
        """POST the score. Raises :class:`lti.tokens.ConflictError` on 409 (send a later timestamp)."""
        if not self.can(SCOPE_SCORE):
            raise PermanentServiceError("no_score_scope", "the platform did not grant the score scope")
        self.session.request(
            "POST",
            scores_url(lineitem_url),
            "AGS score",
            json=score.to_json(),
            headers={"Content-Type": MEDIA_SCORE},
        )
