"""LTI Names and Role Provisioning Services 2.0 client (https://www.imsglobal.org/spec/lti-nrps/v2p0/).

Reads a context's membership container page by page (``Link: <…>; rel="next"``; URLs kept exactly as sent:
Moodle's contain ``/CourseSection/``). Members may come without names or e-mails (privacy settings), roles
as full URIs or short names (``Learner``; Moodle sends short ones), and a ``status`` of Active, Inactive or
Deleted (Active when absent, §2.3).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests

from lti.roles import Role, map_role
from lti.tokens import PermanentServiceError, ServiceSession, TokenClient
from lti.urlpolicy import same_origin

SCOPE_MEMBERSHIPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
MEDIA_MEMBERSHIPS = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

STATUSES = ("Active", "Inactive", "Deleted")
MAX_PAGES = 500


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


@dataclass(frozen=True)
class Member:
    user_id: str
    roles: tuple[str, ...]
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None

    @property
    def role(self) -> Role:
        return map_role(self.roles)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Member | None:
        user_id = data.get("user_id")
        if not isinstance(user_id, str | int) or not str(user_id).strip() or len(str(user_id).strip()) > 255:
            return None  # no id, or longer than LTI's 255 characters: not a member we can match
        roles = data.get("roles")
        raw_status = _text(data.get("status")) or "Active"
        status = next((s for s in STATUSES if s.lower() == raw_status.lower()), "Active")
        return cls(
            user_id=str(user_id).strip(),
            roles=tuple(r for r in roles if isinstance(r, str)) if isinstance(roles, list) else (),
            status=status,
            name=_text(data.get("name")),
            given_name=_text(data.get("given_name")),
            family_name=_text(data.get("family_name")),
            email=_text(data.get("email")),
        )


@dataclass(frozen=True)
class MembershipPage:
    members: tuple[Member, ...]
    context_id: str | None
    next_url: str | None
    differences_url: str | None = None


@dataclass(frozen=True)
class Roster:
    """All pages of a membership container."""

    members: tuple[Member, ...]
    context_id: str | None
    pages: int
    complete: bool = True  # False when the page limit stopped the reading
    skipped: int = field(default=0)  # entries without a user id


class NrpsClient:
    def __init__(self, tokens: TokenClient, *, http: requests.Session | None = None) -> None:
        """``http``: the session for the service URLs (claims): one with a URL policy in the application."""
        self.session = ServiceSession(tokens, (SCOPE_MEMBERSHIPS,), http=http)

    def page(self, url: str) -> tuple[MembershipPage, int]:
        response = self.session.request("GET", url, "NRPS memberships", headers={"Accept": MEDIA_MEMBERSHIPS})
        try:
            body = response.json()
        except ValueError as exc:
            raise PermanentServiceError("bad_answer", "NRPS memberships: not JSON") from exc
        if not isinstance(body, Mapping) or not isinstance(body.get("members", []), list):
            raise PermanentServiceError("bad_answer", "NRPS memberships: not a membership container")
        members: list[Member] = []
        skipped = 0
        for entry in body.get("members", []):
            member = Member.from_json(entry) if isinstance(entry, Mapping) else None
            if member is None:
                skipped += 1
            else:
                members.append(member)
        context = body.get("context")
        context_id = _text(context.get("id")) if isinstance(context, Mapping) else None
        page = MembershipPage(
            members=tuple(members),
            context_id=context_id,
            next_url=response.links.get("next", {}).get("url"),
            differences_url=response.links.get("differences", {}).get("url"),
        )
        return page, skipped

    def pages(self, url: str) -> Iterator[tuple[MembershipPage, int]]:
        next_url: str | None = url
        seen: set[str] = set()
        while next_url and next_url not in seen and len(seen) < MAX_PAGES:
            seen.add(next_url)
            page, skipped = self.page(next_url)
            if page.next_url and not same_origin(page.next_url, url):
                # the next page would receive our bearer token: only on the origin of the first URL
                raise PermanentServiceError("bad_answer", "NRPS memberships: the next page is on another origin")
            yield page, skipped
            next_url = page.next_url

    def roster(self, url: str) -> Roster:
        members: dict[str, Member] = {}
        context_id = None
        count = skipped = 0
        last_next: str | None = None
        for page, page_skipped in self.pages(url):
            count += 1
            skipped += page_skipped
            context_id = context_id or page.context_id
            for member in page.members:
                members[member.user_id] = member  # a member repeated on a later page: the later entry wins
            last_next = page.next_url
        return Roster(
            members=tuple(members.values()),
            context_id=context_id,
            pages=count,
            complete=last_next is None,
            skipped=skipped,
        )
