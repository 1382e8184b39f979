"""Paging for long lists: a page of rows and where it sits, read with exactly two statements.

Views read the page number from ``?page=N`` (``page_number``); templates render ``templates/_pager.html``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from lms.core.extensions import db

PER_PAGE = 50

T = TypeVar("T")
U = TypeVar("U")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list: its rows and the page's place in the whole (pages are counted from 1)."""

    items: Sequence[T]
    page: int
    pages: int
    total: int
    per_page: int = PER_PAGE

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_number(self) -> int:
        """The position of the page's first row in the whole list (1-based; 0 for an empty list)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    def map(self, convert: Callable[[T], U]) -> Page[U]:
        """The same page with each row converted (e.g. into a query's dataclass); no statement."""
        return Page([convert(item) for item in self.items], self.page, self.pages, self.total, self.per_page)


def page_count(total: int, per_page: int = PER_PAGE) -> int:
    """How many pages `total` rows fill; an empty list still has one (empty) page."""
    return max(1, -(-total // per_page))


def clamp(page: int, pages: int) -> int:
    """A requested page number within 1..pages (a page past the end shows the last one)."""
    return min(max(1, page), pages)


def page_number(value: Any) -> int:
    """The page number from a query parameter (``request.args.get("page")``): 1 for missing or bad input."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return 1
    return max(1, number)


def paginate(stmt: Select[*tuple[Any, ...]], page: int, per_page: int = PER_PAGE) -> Page[Any]:
    """Run `stmt` (which must have a total ``ORDER BY``) for one page: exactly two statements, the count and the
    page's rows. A page past the end is clamped to the last page.

    Items are the selected objects or values when `stmt` selects one thing (``select(Model)``), else rows.
    """
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    total = int(db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one())
    pages = page_count(total, per_page)
    page = clamp(page, pages)
    result = db.session.execute(stmt.limit(per_page).offset((page - 1) * per_page))
    items: Sequence[Any] = result.scalars().all() if len(stmt.column_descriptions) == 1 else result.all()
    return Page(items, page, pages, total, per_page)
