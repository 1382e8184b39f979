"""Rendering: safe HTML from hostile Markdown, boxes, links, images, quiz/task parsing, cache."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from lms.courses import render
from lms.courses.content import load_course
from lms.courses.render import (
    RenderContext,
    clear_render_cache,
    content_hash,
    render_cache_info,
    render_item,
    render_markdown,
)

FIXTURES = Path(__file__).parent / "fixtures"

CTX = RenderContext(
    "m1/01-a.md",
    "m1",
    (("m1/01-a.md", "m1", "m1-a"), ("m1/02-b.md", "m1", "m1-b"), ("m2/01-c.md", "m2", "m2-c")),
)


def html(text: str) -> str:
    return render_markdown(text, CTX)


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(output: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(output)
    return parser.tags


RAW_HTML = {
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
}
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "[x](&#106;avascript:alert(1))",
    "[x](vbscript:msgbox(1))",
    "[x](data:text/html,<script>alert(1)</script>)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "![a](https://evil.example/t.png)",
    "![a](//evil.example/t.png)",
    "![a](\\\\evil.example/t.png)",
    "![a](data:image/png;base64,AAAA)",
    "![a](javascript:alert(1))",
    "&lt;script&gt;alert(1)&lt;/script&gt; &#60;script&#62;",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "::: tipp\n<script>alert(1)</script>\n:::",
    "| a |\n|---|\n| <script>x</script> [y](javascript:z) |",
    "[![a](https://evil.example/t.png)](javascript:alert(1))",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_renders_inert(source: str) -> None:
    output = html(source)
    markup = " ".join(re.findall(r"<[^>]*>", output)).lower()
    assert "<script" not in output.lower()
    for word in ("javascript:", "vbscript:", "onerror", "onload", "evil.example"):
        assert word not in markup
        if source not in RAW_HTML:  # raw HTML is shown as (escaped) text, by design
            assert word not in output.lower()
    for tag, attrs in tags(output):
        assert tag not in ("script", "iframe", "svg", "object", "embed")
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src"):
                assert value is not None
                assert not value.lower().startswith(("javascript:", "data:", "vbscript:", "//"))
        if tag == "img":
            assert attrs["src"] is not None and attrs["src"].startswith("assets/")


def test_raw_html_is_escaped_as_text() -> None:
    output = html("<img src=x onerror=alert(1)> und <b>fett</b>")
    assert output == ("<p>&lt;img src=x onerror=alert(1)&gt; und &lt;b&gt;fett&lt;/b&gt;</p>\n")
    assert tags(output) == [("p", {})]


def test_refused_link_keeps_only_its_text() -> None:
    assert html("[klick](javascript:alert(1)) mich") == "<p>klick mich</p>\n"
    assert html("[x](data:text/html,abc)") == "<p>x</p>\n"


def test_markdown_it_validate_link_still_applies(monkeypatch: pytest.MonkeyPatch) -> None:
    """markdown-it's own XSS guard is kept in front of our scheme rules."""
    calls: list[str] = []

    def spy(url: str) -> bool:
        calls.append(url)
        return False

    monkeypatch.setattr(render, "default_validate_link", spy)
    clear_render_cache()
    assert html("[x](https://example.org)") == "<p>x</p>\n"
    assert calls == ["https://example.org"]


def test_external_links_open_in_a_new_tab() -> None:
    assert html("[BSI](https://www.bsi.bund.de/)") == (
        '<p><a href="https://www.bsi.bund.de/" target="_blank" rel="noopener noreferrer">BSI</a></p>\n'
    )
    assert html("[Mail](mailto:a@example.org)") == '<p><a href="mailto:a@example.org">Mail</a></p>\n'


def test_internal_links_become_relative_app_urls() -> None:
    assert html("[B](02-b.md)") == '<p><a href="m1-b">B</a></p>\n'
    assert html("[B](./02-b.md#teil-2)") == '<p><a href="m1-b#teil-2">B</a></p>\n'
    assert html("[C](../m2/01-c.md)") == '<p><a href="../m2/m2-c">C</a></p>\n'
    assert html("[C](../m2/01-c.md#x)") == '<p><a href="../m2/m2-c#x">C</a></p>\n'


def test_unknown_internal_links_and_absolute_paths_become_text() -> None:
    assert html("[X](99-fehlt.md)") == "<p>X</p>\n"
    assert html("[X](../../etc/passwd.md)") == "<p>X</p>\n"
    assert html("[X](/admin)") == "<p>X</p>\n"
    assert html("[X](//evil.example/)") == "<p>X</p>\n"
    assert html("[X](ftp://example.org/f)") == "<p>X</p>\n"


def test_links_to_assets_stay_relative() -> None:
    assert html("[Liste](assets/liste.pdf)") == '<p><a href="assets/liste.pdf">Liste</a></p>\n'
    assert html("[Fremd](../m2/assets/liste.pdf)") == "<p>Fremd</p>\n"


def test_images_only_from_the_module_assets() -> None:
    assert html("![Ein Schloss](assets/schloss.svg)") == (
        '<p><img src="assets/schloss.svg" alt="Ein Schloss" loading="lazy"></p>\n'
    )
    assert html('![Ä "b"](./assets/ä b.png)') == "<p>![Ä &quot;b&quot;](./assets/ä b.png)</p>\n"
    assert html("![Ä](<./assets/ä b.png>)") == ('<p><img src="assets/%C3%A4%20b.png" alt="Ä" loading="lazy"></p>\n')
    assert html("![Anderes Modul](../m2/assets/x.png)") == "<p>Anderes Modul</p>\n"
    assert html("![Neben](bild.png)") == "<p>Neben</p>\n"
    assert html("![Raus](assets/../../x.png)") == "<p>Raus</p>\n"
    assert html("![Extern](https://evil.example/t.png)") == "<p>Extern</p>\n"


def test_boxes() -> None:
    titles = {
        "beispiel": "Beispiel",
        "tipp": "Tipp",
        "achtung": "Achtung",
        "merke": "Merke",
        "recht": "Rechtlicher Hinweis",
    }
    for name, title in titles.items():
        assert html(f"::: {name}\nText **fett**.\n:::\n") == (
            f'<aside class="box box--{name}" role="note"><p class="box__title">{title}</p>\n'
            "<p>Text <strong>fett</strong>.</p>\n</aside>\n"
        )


def test_tables_are_on_linkify_and_typographer_off() -> None:
    assert "<table>" in html("| a | b |\n|---|---|\n| 1 | 2 |\n")
    assert html('www.example.org https://example.org "so" -- (c)') == (
        "<p>www.example.org https://example.org &quot;so&quot; -- (c)</p>\n"
    )


def test_headings_get_no_author_ids() -> None:
    assert html("## Titel {#meine-id}") == "<h2>Titel {#meine-id}</h2>\n"


def test_gender_star_is_text_not_emphasis() -> None:
    assert html("Botschafter*in und Schüler*innen, Digitale*r") == (
        "<p>Botschafter*in und Schüler*innen, Digitale*r</p>\n"
    )
    assert html("*kursiv* und **fett**") == "<p><em>kursiv</em> und <strong>fett</strong></p>\n"


def test_front_matter_is_not_rendered() -> None:
    assert html("---\nid: x\ntitle: T\n---\n\nText.\n") == "<p>Text.</p>\n"


def test_quiz_parsing() -> None:
    source = (
        "---\nid: q\ntype: quiz\ntitle: Q\n---\n\nEinleitung.\n\n"
        "## Was stimmt? `Code` {#q-eins typ=mehrfach}\n\nLena sagt:\n\n- Punkt\n\nUnd?\n\n"
        "- [x] Das *hier*\n  Feedback: Richtig, [siehe](02-b.md).\n"
        "- [ ] Das nicht\n\n  Feedback: Leider nein.\n"
    )
    rendered = render_item(source, "quiz", CTX)
    assert rendered.html == "<p>Einleitung.</p>\n"
    (question,) = rendered.questions
    assert question.id == "q-eins"
    assert question.attrs == (("typ", "mehrfach"),)
    assert question.line == 9
    assert question.title == "Was stimmt? Code"
    assert question.title_html == "Was stimmt? <code>Code</code>"
    assert question.prompt_html == "<p>Lena sagt:</p>\n<ul>\n<li>Punkt</li>\n</ul>\n<p>Und?</p>\n"
    assert question.answers is not None
    first, second = question.answers
    assert (first.line, first.mark, first.text) == (17, "x", "Das hier")
    assert first.text_html == "Das <em>hier</em>"
    assert first.feedback_html == 'Richtig, <a href="m1-b">siehe</a>.'
    assert (second.mark, second.text_html, second.feedback_html) == (
        " ",
        "Das nicht",
        "Leider nein.",
    )


def test_task_parsing_removes_the_checklist() -> None:
    source = (
        "---\nid: t\ntype: task\ntitle: T\nsubmission: checklist\n---\n\nMach das.\n\n"
        "## Checkliste\n\n- [ ] Eins **fett**\n- [ ] Zwei\n\n## Danach\n\nFertig.\n"
    )
    rendered = render_item(source, "task", CTX)
    assert rendered.html == "<p>Mach das.</p>\n<h2>Danach</h2>\n<p>Fertig.</p>\n"
    assert rendered.checklist is not None
    assert rendered.checklist.line == 10
    assert rendered.checklist.items == ((12, " ", "Eins <strong>fett</strong>"), (13, " ", "Zwei"))


def test_render_is_cached_by_content_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_render_cache()
    calls: list[str] = []
    real = render._render_uncached

    def counting(text: str, kind: str, ctx: RenderContext) -> render.Rendered:
        calls.append(text)
        return real(text, kind, ctx)

    monkeypatch.setattr(render, "_render_uncached", counting)
    first = render_item("Hallo *Welt*", "lesson", CTX)
    second = render_item("Hallo *Welt*", "lesson", CTX)
    assert first is second
    assert calls == ["Hallo *Welt*"]
    hits, misses, size = render_cache_info()
    assert (hits, misses, size) == (1, 1, 1)
    other_module = RenderContext("m2/01-a.md", "m2", CTX.targets)
    render_item("Hallo *Welt*", "lesson", other_module)
    assert len(calls) == 2


def test_loading_a_course_twice_renders_nothing_the_second_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clear_render_cache()
    first = load_course(FIXTURES / "good")
    calls: list[str] = []
    monkeypatch.setattr(render, "_render_uncached", lambda *args: calls.append("x"))
    second = load_course(FIXTURES / "good")
    assert calls == []
    assert first == second


def test_content_hash_covers_module_and_text() -> None:
    assert content_hash("a", "m1") != content_hash("a", "m2")
    assert content_hash("a", "m1") != content_hash("b", "m1")
    assert len(content_hash("a", "m1")) == 64
