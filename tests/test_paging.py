"""lms.core.paging: two statements per page, clamped page numbers, rows or objects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import event, select

from lms.core.extensions import db
from lms.core.paging import Page, page_number, paginate
from lms.platforms.models import Chamber


@pytest.fixture
def chambers(app: Flask) -> Iterator[None]:
    with app.app_context():
        db.session.add_all(Chamber(slug=f"hwk-{n}", name=f"HWK {n}") for n in range(5))
        db.session.commit()
        yield


def _paginate_counting(stmt: object, page: int, per_page: int) -> tuple[Page[object], int]:
    seen: list[str] = []

    def record(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        result = paginate(stmt, page, per_page)  # type: ignore[arg-type]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return result, len(seen)


@pytest.mark.usefixtures("chambers")
def test_a_page_is_two_statements_and_clamped() -> None:
    by_slug = select(Chamber).order_by(Chamber.slug)
    page, statements = _paginate_counting(by_slug, 2, 2)
    assert statements == 2
    assert [c.slug for c in page.items] == ["hwk-2", "hwk-3"]
    assert (page.page, page.pages, page.total, page.per_page) == (2, 3, 5, 2)
    assert page.has_previous and page.has_next and page.first_number == 3

    last, statements = _paginate_counting(by_slug, 99, 2)
    assert statements == 2
    assert (last.page, [c.slug for c in last.items], last.has_next) == (3, ["hwk-4"], False)
    first, _ = _paginate_counting(by_slug, -1, 2)
    assert (first.page, first.has_previous) == (1, False)

    rows, _ = _paginate_counting(select(Chamber.slug, Chamber.name).order_by(Chamber.slug), 1, 50)
    assert [tuple(r) for r in rows.items][:1] == [("hwk-0", "HWK 0")] and rows.pages == 1
    assert rows.map(lambda r: r.slug).items[-1] == "hwk-4"


def test_an_empty_list_is_one_empty_page(app: Flask) -> None:
    with app.app_context():
        page, statements = _paginate_counting(select(Chamber).order_by(Chamber.id), 3, 50)
    assert statements == 2
    assert (list(page.items), page.page, page.pages, page.total, page.first_number) == ([], 1, 1, 0, 0)


@pytest.mark.parametrize(("value", "number"), [(None, 1), ("", 1), ("abc", 1), ("0", 1), ("-3", 1), ("4", 4)])
def test_page_number_from_the_query_string(value: str | None, number: int) -> None:
    assert page_number(value) == number
