"""Charts for the coordinator dashboards: SVG drawn on the server, each with a table of the same numbers.

Why on the server: the dashboards must work without JavaScript and without chart libraries or fonts from a CDN
(no third-party requests, CSP ``default-src 'self'; style-src 'self'``), so a chart is plain markup: an ``<svg>``
styled only by classes from ``medienwerk.css`` (no ``style`` attributes) and a visible ``<table>`` that is the
accessible equivalent for screen readers, for people who need the exact numbers and for small screens. Series
differ by pattern, marker shape and dash as well as by colour. Output is deterministic, so it can be cached.

Every text passed in may come from users and is escaped; numbers are formatted for the current locale, so the
functions need a request or app context.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from markupsafe import Markup, escape

__all__ = ["MAX_SERIES", "Series", "bar_chart", "funnel_chart", "line_chart"]

MAX_SERIES = 4  # one colour, pattern and marker each; more lines than that are unreadable anyway

# ids end up in url(#...) references, where HTML escaping does not help: only allow plain ids
_CHART_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")

# viewBox of bar and line charts; the svg scales to the width of its container
_WIDTH, _HEIGHT = 640, 300
_RIGHT, _TOP, _BOTTOM = 16, 16, 40
# funnel: a label column on the left, room for the value right of the widest bar
_FUNNEL_LABELS, _FUNNEL_VALUES, _FUNNEL_ROW, _FUNNEL_BAR = 184, 88, 36, 24
_CHAR_WIDTH = 7.5  # average width of a 13px system-font character, to know how many fit under a category
_MAX_BAR = 56  # wider bars in charts with few categories look like blocks, not like bars
_MIN_LABEL_WIDTH = 48  # below this space per label, only every n-th category gets one (e.g. 52 calendar weeks)


@dataclass(frozen=True)
class Series:
    label: str  # e.g. "Abgeschlossene Module"
    values: Sequence[float]  # one value per category


def bar_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    description: str = "",
    category_label: str | None = None,
) -> Markup:
    """Vertical grouped bars (one group per category, one bar per series)."""
    values = _check(chart_id, categories, series)
    if not _has_data(values):
        return _empty("bar", chart_id, title)
    ticks = _ticks(values)
    svg = [_svg_open(chart_id, title, description or _summary(categories, series, values, unit), _HEIGHT)]
    if len(series) > 1:
        svg.append(_patterns(chart_id, len(series)))
    left = _plot_left(ticks, unit)
    svg.append(_value_axis(ticks, unit, left))
    slot = (_WIDTH - left - _RIGHT) / len(categories)
    bar_width = min(slot * 0.8 / len(series), _MAX_BAR)  # at least a fifth of each slot stays free between groups
    gap = min(2.0, bar_width / 5)  # white between neighbouring bars, so each colour only meets white
    for i, category in enumerate(categories):
        for j, row in enumerate(values):
            if row[i] <= 0:
                continue
            top = _y(row[i], ticks[-1])
            x = left + (i + 0.5) * slot + (j - len(series) / 2) * bar_width + gap / 2  # the group centred in its slot
            tooltip = f"{category}: {_amount(row[i], unit)} {series[j].label}"
            svg.append(_bar(chart_id, j + 1, tooltip, x, top, bar_width - gap, _HEIGHT - _BOTTOM - top))
    svg.append(_category_axis(categories, left, slot))
    svg.append("</svg>")
    legend = _legend(chart_id, "bar", series)
    table = _table(title, category_label, categories, [s.label for s in series], values, unit)
    return _figure("bar", chart_id, title, "".join(svg) + legend + table)


def line_chart(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    unit: str = "",
    description: str = "",
    category_label: str | None = None,
) -> Markup:
    """A line per series over the categories (e.g. completions per calendar week)."""
    values = _check(chart_id, categories, series)
    if not _has_data(values):
        return _empty("line", chart_id, title)
    ticks = _ticks(values)
    svg = [_svg_open(chart_id, title, description or _summary(categories, series, values, unit), _HEIGHT)]
    left = _plot_left(ticks, unit)
    svg.append(_value_axis(ticks, unit, left))
    slot = (_WIDTH - left - _RIGHT) / len(categories)
    for j, row in enumerate(values):
        points = [(left + (i + 0.5) * slot, _y(value, ticks[-1])) for i, value in enumerate(row)]
        svg.append(f'<g class="chart__series--{j + 1}">')
        svg.append(f'<polyline class="chart__line" points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in points)}"/>')
        for (x, y), category, value in zip(points, categories, row, strict=True):
            svg.append(_marker(j + 1, x, y, f"{category}: {_amount(value, unit)} {series[j].label}"))
        svg.append("</g>")
    svg.append(_category_axis(categories, left, slot))
    svg.append("</svg>")
    legend = _legend(chart_id, "line", series)
    table = _table(title, category_label, categories, [s.label for s in series], values, unit)
    return _figure("line", chart_id, title, "".join(svg) + legend + table)


def funnel_chart(
    chart_id: str,
    title: str,
    steps: Sequence[tuple[str, float]],
    *,
    unit: str = "",
    description: str = "",
    category_label: str | None = None,
    value_label: str | None = None,
) -> Markup:
    """Horizontal bars, one per step, widest first allowed (e.g. tier funnel, lesson completion funnel).

    ``value_label`` heads the table's value column ("Wert" if not given).
    """
    labels = [label for label, _value in steps]
    series = [Series(value_label or _("Wert"), [value for _label, value in steps])]
    values = _check(chart_id, labels, series)
    if not _has_data(values):
        return _empty("funnel", chart_id, title)
    row = values[0]
    ticks = _ticks(values)
    height = _TOP + len(steps) * _FUNNEL_ROW + _BOTTOM
    bottom = height - _BOTTOM
    plot_width = _WIDTH - _FUNNEL_LABELS - _FUNNEL_VALUES
    svg = [_svg_open(chart_id, title, description or _summary(labels, series, values, unit), height)]
    for tick in ticks:  # vertical grid with the scale below it; the zero line is the axis
        x = _FUNNEL_LABELS + plot_width * tick / ticks[-1]
        if tick:
            svg.append(f'<line class="chart__grid" x1="{_n(x)}" y1="{_TOP}" x2="{_n(x)}" y2="{bottom}"/>')
        svg.append(f'<text class="chart__scale" x="{_n(x)}" y="{bottom + 20}">{_e(_amount(tick, unit))}</text>')
    max_chars = int((_FUNNEL_LABELS - 12) / _CHAR_WIDTH)
    for i, (label, value) in enumerate(zip(labels, row, strict=True)):
        top = _TOP + i * _FUNNEL_ROW + (_FUNNEL_ROW - _FUNNEL_BAR) / 2
        middle = top + _FUNNEL_BAR / 2 + 4.5  # baseline that centres 13px digits on the bar
        width = plot_width * value / ticks[-1]
        svg.append(f'<text class="chart__label" x="{_FUNNEL_LABELS - 8}" y="{_n(middle)}">')
        svg.append(f"{_e(_truncate(label, max_chars))}<title>{_e(label)}</title></text>")
        if value > 0:
            svg.append(_bar(chart_id, 1, f"{label}: {_amount(value, unit)}", _FUNNEL_LABELS, top, width, _FUNNEL_BAR))
        text_x = _n(_FUNNEL_LABELS + width + 6)
        svg.append(f'<text class="chart__value" x="{text_x}" y="{_n(middle)}">{_e(_amount(value, unit))}</text>')
    svg.append(f'<line class="chart__axis" x1="{_FUNNEL_LABELS}" y1="{_TOP}" x2="{_FUNNEL_LABELS}" y2="{bottom}"/>')
    svg.append("</svg>")
    table = _table(title, category_label, labels, [series[0].label], values, unit)
    return _figure("funnel", chart_id, title, "".join(svg) + table)


def _check(chart_id: str, categories: Sequence[str], series: Sequence[Series]) -> list[list[float]]:
    """The values to draw, one list per series; negative, NaN and infinite values count as 0."""
    if not _CHART_ID.match(chart_id):
        raise ValueError(f"chart_id must be a plain HTML id (letters, digits, - and _), not {chart_id!r}")
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series per chart, not {len(series)}")
    for s in series:
        if len(s.values) != len(categories):
            raise ValueError(f"series {s.label!r} has {len(s.values)} values for {len(categories)} categories")
    return [[_clean(v) for v in s.values] for s in series]


def _clean(value: float) -> float:
    number = float(value)
    return number if math.isfinite(number) and number > 0 else 0.0


def _has_data(values: list[list[float]]) -> bool:
    return any(v > 0 for row in values for v in row)


def _ticks(values: list[list[float]]) -> list[float]:
    """Grid values from 0 in steps of 1, 2 or 5 × 10ⁿ (about four steps): round numbers are read at a glance."""
    peak = max(v for row in values for v in row)
    raw = peak / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    if all(v.is_integer() for row in values for v in row):
        step = max(step, 1.0)  # counts of people or modules: no "0,5" on the scale
    count = math.ceil(peak / step - 1e-9)  # tolerate float noise such as 1.1 / 0.1 = 11.000000000000002
    return [float(f"{i * step:.12g}") for i in range(count + 1)]  # 0.3, not 0.30000000000000004


def _y(value: float, top: float) -> float:
    return _TOP + (_HEIGHT - _TOP - _BOTTOM) * (1 - value / top)


def _summary(categories: Sequence[str], series: Sequence[Series], values: list[list[float]], unit: str) -> str:
    """The chart in one sentence for the svg's <desc>: its highest value (the first one if several are equal)."""
    peak, j, i = 0.0, 0, 0
    for series_index, row in enumerate(values):
        for category_index, value in enumerate(row):
            if value > peak:
                peak, j, i = value, series_index, category_index
    label = categories[i] if len(series) == 1 else f"{categories[i]} ({series[j].label})"
    return _("Höchster Wert: %(value)s bei %(label)s", value=_amount(peak, unit), label=label)


def _svg_open(chart_id: str, title: str, description: str, height: int) -> str:
    # no height attribute: width 100% plus the viewBox keep the aspect ratio on every screen
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart__svg" viewBox="0 0 {_WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMidYMid meet" role="img" focusable="false" '
        f'aria-labelledby="{chart_id}-svg-title {chart_id}-svg-desc">'
        f'<title id="{chart_id}-svg-title">{_e(title)}</title><desc id="{chart_id}-svg-desc">{_e(description)}</desc>'
    )


def _patterns(chart_id: str, count: int) -> str:
    """White hatching over the bars of series 2 to 4 (stripes, dots, cross-hatch): not told apart by colour alone."""
    tiles = {
        2: ' patternTransform="rotate(45)"><rect class="chart__hatch" width="2.5" height="7"/>',
        3: '><circle class="chart__hatch" cx="3.5" cy="3.5" r="1.6"/>',
        4: ' patternTransform="rotate(45)"><rect class="chart__hatch" width="2" height="7"/>'
        '<rect class="chart__hatch" width="7" height="2"/>',
    }
    defs = "".join(
        f'<pattern id="{chart_id}-pattern-{n}" width="7" height="7" patternUnits="userSpaceOnUse"{tiles[n]}</pattern>'
        for n in range(2, count + 1)
    )
    return f"<defs>{defs}</defs>"


def _bar(chart_id: str, number: int, tooltip: str, x: float, y: float, width: float, height: float) -> str:
    box = f'x="{_n(x)}" y="{_n(y)}" width="{_n(width)}" height="{_n(height)}"'
    hatch = f'<rect {box} fill="url(#{chart_id}-pattern-{number})"/>' if number > 1 else ""
    return (
        f'<g class="chart__bar chart__series--{number}"><title>{_e(tooltip)}</title>'
        f'<rect class="chart__bar-fill" {box}/>{hatch}</g>'
    )


def _marker(number: int, x: float, y: float, tooltip: str) -> str:
    """Circle, square, triangle, diamond: the series' shape, so lines can be told apart without colour."""
    r = 4.5
    title = f"<title>{_e(tooltip)}</title>"
    if number == 1:
        return f'<circle class="chart__marker" cx="{_n(x)}" cy="{_n(y)}" r="{r}">{title}</circle>'
    if number == 2:
        box = f'x="{_n(x - r)}" y="{_n(y - r)}" width="{_n(2 * r)}" height="{_n(2 * r)}"'
        return f'<rect class="chart__marker" {box}>{title}</rect>'
    if number == 3:
        corners = [(x, y - 1.3 * r), (x + 1.2 * r, y + 0.9 * r), (x - 1.2 * r, y + 0.9 * r)]
    else:
        corners = [(x, y - 1.4 * r), (x + 1.4 * r, y), (x, y + 1.4 * r), (x - 1.4 * r, y)]
    path = "M" + " L".join(f"{_n(cx)},{_n(cy)}" for cx, cy in corners) + " Z"
    return f'<path class="chart__marker" d="{path}">{title}</path>'


def _plot_left(ticks: list[float], unit: str) -> float:
    """Where the plot starts: right of the longest value on the scale, so "12.500 €" is not cut off."""
    return 16 + max(len(_amount(tick, unit)) for tick in ticks) * _CHAR_WIDTH


def _value_axis(ticks: list[float], unit: str, left: float) -> str:
    """Horizontal grid lines with their values on the left; the zero line is drawn as the baseline."""
    parts = []
    for tick in ticks:
        y = _y(tick, ticks[-1])
        kind = "chart__axis" if tick == 0 else "chart__grid"
        parts.append(f'<line class="{kind}" x1="{_n(left)}" y1="{_n(y)}" x2="{_WIDTH - _RIGHT}" y2="{_n(y)}"/>')
        label = _e(_amount(tick, unit))
        parts.append(f'<text class="chart__tick" x="{_n(left - 8)}" y="{_n(y + 4.5)}">{label}</text>')
    return "".join(parts)


def _category_axis(categories: Sequence[str], left: float, slot: float) -> str:
    """Category names under the plot, shortened to their space; the full names are in the tooltips and the table."""
    every = math.ceil(_MIN_LABEL_WIDTH / slot)
    max_chars = max(3, int(every * slot / _CHAR_WIDTH))
    y = _HEIGHT - _BOTTOM + 22
    return "".join(
        f'<text class="chart__category" x="{_n(left + (i + 0.5) * slot)}" y="{y}">'
        f"{_e(_truncate(category, max_chars))}</text>"
        for i, category in enumerate(categories)
        if i % every == 0
    )


def _legend(chart_id: str, kind: str, series: Sequence[Series]) -> str:
    """An HTML list (it wraps on small screens, unlike svg text) with each series' colour and pattern or marker."""
    if len(series) < 2:
        return ""
    items = []
    for number, s in enumerate(series, start=1):
        if kind == "bar":
            swatch = _bar(chart_id, number, s.label, 0, 0, 24, 16)
        else:
            line = '<line class="chart__line" x1="0" y1="8" x2="24" y2="8"/>'
            swatch = f'<g class="chart__series--{number}">{line}{_marker(number, 12, 8, s.label)}</g>'
        items.append(
            f'<li><svg class="chart__swatch" viewBox="0 0 24 16" aria-hidden="true" focusable="false">{swatch}</svg>'
            f"{_e(s.label)}</li>"
        )
    name = _("Legende")  # gettext outside the f-string: pybabel does not look into f-strings
    return f'<ul class="chart__legend" aria-label="{_e(name)}">{"".join(items)}</ul>'


def _table(
    title: str,
    category_label: str | None,
    categories: Sequence[str],
    headings: Sequence[str],
    values: list[list[float]],
    unit: str,
) -> str:
    """The same numbers as the chart: a row per category, a column per series."""
    first = category_label or _("Kategorie")
    head = "".join(f'<th scope="col">{_e(heading)}</th>' for heading in headings)
    rows = "".join(
        f'<tr><th scope="row">{_e(category)}</th>'
        + "".join(f"<td>{_e(_amount(row[i], unit))}</td>" for row in values)
        + "</tr>"
        for i, category in enumerate(categories)
    )
    return (
        f'<div class="table-scroll"><table class="data-table chart__table"><caption>{_e(title)}</caption>'
        f'<thead><tr><th scope="col">{_e(first)}</th>{head}</tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )


def _empty(kind: str, chart_id: str, title: str) -> Markup:
    message = _("Noch keine Daten.")
    return _figure(kind, chart_id, title, f'<p class="chart__empty">{_e(message)}</p>')


def _figure(kind: str, chart_id: str, title: str, body: str) -> Markup:
    # every piece of text in body went through _e(); ids are checked by _check()
    return Markup(  # noqa: S704
        f'<figure class="chart chart--{kind}" aria-labelledby="{chart_id}-title">'
        f'<figcaption class="chart__title" id="{chart_id}-title">{_e(title)}</figcaption>{body}</figure>'
    )


def _amount(value: float, unit: str) -> str:
    """A value in the page's language with its unit: "1.234,5 %"; the no-break space keeps "75 %" on one line."""
    number = str(format_decimal(value, format="#,##0.##"))
    return f"{number}\u00a0{unit}" if unit else number


def _truncate(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def _n(value: float) -> str:
    """A coordinate with one decimal, without a trailing ".0": short, and identical for identical input."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _e(text: str) -> str:
    return str(escape(text))
