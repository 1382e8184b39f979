"""The dashboard charts: well-formed accessible SVG, a table with every number, escaped text, CSP-safe markup."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale
from hypothesis import given
from hypothesis import strategies as st
from markupsafe import Markup

from lms import create_app
from lms.dashboards import charts
from lms.dashboards.charts import Series, bar_chart, funnel_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"
WEEKS = ["KW 10", "KW 11", "KW 12"]
EVIL = "<script>alert(1)</script> & Co"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    tmp: Path = tmp_path_factory.mktemp("charts")
    return create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "test-secret",
            "JOBS_SQLITE_PATH": str(tmp / "jobs.sqlite"),
        }
    )


@pytest.fixture(autouse=True)
def request_context(app: Flask) -> Iterator[None]:
    with app.test_request_context():
        yield


def main_svg(html: str) -> ET.Element:
    """The chart's svg (not the legend's swatches), parsed as XML."""
    match = re.search(r'<svg [^>]*class="chart__svg".*?</svg>', html, re.S)
    assert match, html
    return ET.fromstring(match.group(0))  # noqa: S314 - our own output, not untrusted input


def table_cells(html: str) -> list[str]:
    return re.findall(r"<td>(.*?)</td>", html)


def one_of_each() -> dict[str, Callable[[], Markup]]:
    two = [Series("Abgeschlossene Module", [5, 0, 3]), Series("Begonnene Module", [7, 2, 4])]
    return {
        "bar": lambda: bar_chart("modules", "Module je Woche", WEEKS, two),
        "line": lambda: line_chart("weekly", "Abschlüsse je Woche", WEEKS, two),
        "funnel": lambda: funnel_chart("tiers", "Stufen", [("Angemeldet", 40), ("Stufe 1", 25), ("Stufe 2", 9)]),
    }


CHARTS = sorted(one_of_each())


@pytest.mark.parametrize("kind", CHARTS)
def test_the_svg_is_well_formed_and_labelled(kind: str) -> None:
    html = str(one_of_each()[kind]())
    svg = main_svg(html)
    assert svg.get("role") == "img"
    assert svg.get("focusable") == "false"
    assert svg.get("width") == "100%" and svg.get("height") is None
    assert svg.get("viewBox", "").startswith("0 0 ")
    assert svg.get("preserveAspectRatio") == "xMidYMid meet"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None and desc is not None and title.text and desc.text
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    figure = re.match(r'<figure class="chart chart--\w+" aria-labelledby="([\w-]+)">', html)
    assert figure, html
    assert f'<figcaption class="chart__title" id="{figure.group(1)}">{title.text}</figcaption>' in html
    assert f"<caption>{title.text}</caption>" in html
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))


def test_every_number_is_in_the_table_in_german() -> None:
    html = bar_chart(
        "numbers",
        "Stunden",
        ["HWK A", "HWK B"],
        [Series("Lernzeit", [1234.5, 0.25]), Series("Livezeit", [2000, 7])],
    )
    assert table_cells(html) == ["1.234,5", "2.000", "0,25", "7"]
    assert '<th scope="col">Kategorie</th><th scope="col">Lernzeit</th><th scope="col">Livezeit</th>' in html
    assert '<th scope="row">HWK A</th>' in html


def test_english_numbers_and_words() -> None:
    with force_locale("en"):
        html = line_chart("numbers", "Hours", ["A", "B"], [Series("Learning", [1234.5, 0.25])])
        empty = funnel_chart("nothing", "Tiers", [])
    assert table_cells(html) == ["1,234.5", "0.25"]
    assert '<th scope="col">Category</th>' in html
    assert "Highest value: 1,234.5 for A" in html
    assert "No data yet." in empty


def test_the_unit_follows_each_value() -> None:
    html = funnel_chart("rates", "Abschlussquote", [("Modul 1", 75), ("Modul 2", 40.5)], unit="%")
    assert table_cells(html) == ["75\u00a0%", "40,5\u00a0%"]
    assert "Modul 1: 75\u00a0%" in html  # the bar's tooltip


def test_the_category_and_value_headings_can_be_named() -> None:
    html = funnel_chart("tiers", "Stufen", [("Stufe 1", 3)], category_label="Stufe", value_label="Personen")
    assert '<th scope="col">Stufe</th><th scope="col">Personen</th>' in html
    assert '<th scope="col">Wert</th>' in funnel_chart("tiers", "Stufen", [("Stufe 1", 3)])


@pytest.mark.parametrize("kind", CHARTS)
def test_text_from_users_is_escaped(kind: str) -> None:
    make = {
        "bar": lambda: bar_chart("x", EVIL, [EVIL, "b"], [Series(EVIL, [1, 2]), Series("s", [3, 4])], unit=EVIL),
        "line": lambda: line_chart("x", EVIL, [EVIL, "b"], [Series(EVIL, [1, 2]), Series("s", [3, 4])], unit=EVIL),
        "funnel": lambda: funnel_chart("x", EVIL, [(EVIL, 2), ("b", 1)], unit=EVIL, category_label=EVIL),
    }
    html = str(make[kind]())
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert " & " not in html
    main_svg(html)  # still well-formed XML


def test_a_given_description_is_escaped_too() -> None:
    html = bar_chart("x", "Titel", ["a"], [Series("s", [1])], description=EVIL)
    desc = main_svg(html).find(f"{SVG}desc")
    assert desc is not None and desc.text == EVIL


@pytest.mark.parametrize("kind", CHARTS)
def test_markup_passes_the_content_security_policy(kind: str) -> None:
    html = str(one_of_each()[kind]())
    assert "style=" not in html
    assert "<style" not in html
    assert "<script" not in html
    assert set(re.findall(r"https?://[^\s\"'<>]*", html)) == {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize(
    "make",
    [
        lambda: bar_chart("e", "Leer", [], []),
        lambda: bar_chart("e", "Leer", ["a", "b"], [Series("s", [0, 0]), Series("t", [0, -3])]),
        lambda: line_chart("e", "Leer", [], [Series("s", [])]),
        lambda: line_chart("e", "Leer", ["a"], [Series("s", [float("nan")])]),
        lambda: funnel_chart("e", "Leer", []),
        lambda: funnel_chart("e", "Leer", [("a", 0), ("b", 0)]),
    ],
)
def test_no_data_says_so_instead_of_an_empty_chart(make: Callable[[], Markup]) -> None:
    html = str(make())
    assert '<figcaption class="chart__title" id="e-title">Leer</figcaption>' in html
    assert '<p class="chart__empty">Noch keine Daten.</p>' in html
    assert "<svg" not in html and "<table" not in html


def test_negative_values_count_as_zero() -> None:
    html = bar_chart("neg", "Module", ["a", "b"], [Series("s", [-4, 2])])
    assert table_cells(html) == ["0", "2"]
    assert "a: " not in html  # no bar, so no tooltip, for the negative value


@pytest.mark.parametrize("kind", CHARTS)
def test_the_output_is_deterministic(kind: str, app: Flask) -> None:
    first = one_of_each()[kind]()
    with app.test_request_context():
        assert one_of_each()[kind]() == first
    assert isinstance(first, Markup)


def test_a_legend_only_for_two_or_more_series() -> None:
    one = bar_chart("one", "Module", WEEKS, [Series("Abgeschlossen", [1, 2, 3])])
    two = line_chart("two", "Module", WEEKS, [Series("Abgeschlossen", [1, 2, 3]), Series("Begonnen", [2, 3, 4])])
    assert "chart__legend" not in one
    assert "chart__legend" not in funnel_chart("f", "Stufen", [("a", 1), ("b", 2)])
    legend = re.search(r'<ul class="chart__legend" aria-label="Legende">(.*?)</ul>', two)
    assert legend, two
    assert re.findall(r"</svg>([^<]+)</li>", legend.group(1)) == ["Abgeschlossen", "Begonnen"]
    assert 'aria-hidden="true"' in legend.group(1)


def test_four_series_are_told_apart_by_class_pattern_and_marker() -> None:
    four = [Series(f"Reihe {n}", [n, n + 1]) for n in range(1, 5)]
    bars = bar_chart("bars", "Vier", ["a", "b"], four)
    lines = line_chart("lines", "Vier", ["a", "b"], four)
    svg = main_svg(bars)
    classes = {g.get("class") for g in svg.iter(f"{SVG}g")}
    assert classes == {f"chart__bar chart__series--{n}" for n in range(1, 5)}
    fills = {rect.get("fill") for rect in svg.iter(f"{SVG}rect") if rect.get("fill")}
    assert fills == {f"url(#bars-pattern-{n})" for n in range(2, 5)}  # series 1 solid, the others hatched
    patterns = {p.get("id") for p in svg.iter(f"{SVG}pattern")}
    assert patterns == {f"bars-pattern-{n}" for n in range(2, 5)}
    groups = list(main_svg(lines).iter(f"{SVG}g"))
    assert [g.get("class") for g in groups] == [f"chart__series--{n}" for n in range(1, 5)]
    markers = [next(el for el in g if el.get("class") == "chart__marker") for g in groups]
    shapes = {el.tag + str(el.get("d", "").count("L")) for el in markers}
    assert len(shapes) == 4  # circle, square, triangle, diamond


def test_more_than_four_series_are_refused() -> None:
    with pytest.raises(ValueError, match="at most 4"):
        bar_chart("x", "Fünf", ["a"], [Series(str(n), [n]) for n in range(5)])


@pytest.mark.parametrize("chart_id", ["", "1st", 'x" onload="', "a b", "x)"])
def test_chart_ids_must_be_plain(chart_id: str) -> None:
    with pytest.raises(ValueError, match="chart_id"):
        bar_chart(chart_id, "Titel", ["a"], [Series("s", [1])])


def test_each_series_needs_a_value_per_category() -> None:
    with pytest.raises(ValueError, match="2 values for 3 categories"):
        line_chart("x", "Titel", WEEKS, [Series("s", [1, 2])])


def test_bars_and_points_carry_their_value() -> None:
    series = [Series("Abgeschlossene Module", [0, 5, 2])]
    for html in (bar_chart("b", "Module", WEEKS, series), line_chart("l", "Module", WEEKS, series)):
        titles = [el.text for el in main_svg(html).iter(f"{SVG}title")]
        assert "KW 11: 5 Abgeschlossene Module" in titles
        assert "KW 12: 2 Abgeschlossene Module" in titles


def test_the_automatic_description_names_the_highest_value() -> None:
    single = bar_chart("a", "Module", WEEKS, [Series("Abgeschlossen", [1, 5, 5])])
    double = bar_chart("b", "Module", WEEKS, [Series("Abgeschlossen", [1, 5, 2]), Series("Begonnen", [9, 1, 1])])
    given_desc = bar_chart("c", "Module", WEEKS, [Series("s", [1, 5, 2])], description="Steigt bis KW 11.")
    assert '<desc id="a-svg-desc">Höchster Wert: 5 bei KW 11</desc>' in single  # the first of equal values
    assert "Höchster Wert: 9 bei KW 10 (Begonnen)" in double
    assert '<desc id="c-svg-desc">Steigt bis KW 11.</desc>' in given_desc


def test_long_labels_are_shortened_in_the_svg_only() -> None:
    long = "Handwerkskammer für München und Oberbayern, Abteilung Berufsbildung"
    categories = [f"{long} {n}" for n in range(8)]
    html = bar_chart("long", "Kammern", categories, [Series("Personen", list(range(1, 9)))])
    svg = main_svg(html)
    labels = [el.text or "" for el in svg.iter(f"{SVG}text") if el.get("class") == "chart__category"]
    assert len(labels) == 8
    assert all(label.endswith("…") and len(label) < 20 for label in labels)
    titles = [el.text for el in svg.iter(f"{SVG}title")]
    assert f"{long} 3: 4 Personen" in titles
    assert f'<th scope="row">{long} 3</th>' in html


def test_many_categories_label_only_some() -> None:
    weeks = [f"KW {n}" for n in range(1, 53)]
    html = line_chart("year", "Abschlüsse", weeks, [Series("Abschlüsse", [n % 7 for n in range(52)])])
    labels = [el.text for el in main_svg(html).iter(f"{SVG}text") if el.get("class") == "chart__category"]
    assert 5 < len(labels) < 20
    assert labels[0] == "KW 1"
    assert len(table_cells(html)) == 52


def test_the_scale_uses_round_steps() -> None:
    html = bar_chart("scale", "Module", ["a", "b"], [Series("s", [37, 12])])
    ticks = [el.text for el in main_svg(html).iter(f"{SVG}text") if el.get("class") == "chart__tick"]
    assert ticks == ["0", "10", "20", "30", "40"]
    counts = bar_chart("counts", "Module", ["a"], [Series("s", [2])])
    ticks = [el.text for el in main_svg(counts).iter(f"{SVG}text") if el.get("class") == "chart__tick"]
    assert ticks == ["0", "1", "2"]  # whole numbers: no "0,5" on the scale


@given(st.lists(st.floats(min_value=1e-12, max_value=1e12), min_size=1, max_size=20))
def test_ticks_are_1_2_or_5_times_a_power_of_ten(values: list[float]) -> None:
    ticks = charts._ticks([values])
    step = ticks[1]
    assert ticks[0] == 0 and ticks[-1] >= max(values) * (1 - 1e-9) and ticks[-2] < max(values)
    assert 2 <= len(ticks) <= 6
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 5))
    assert all(math.isclose(b - a, step, rel_tol=1e-9) for a, b in zip(ticks, ticks[1:], strict=False))
