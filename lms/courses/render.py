"""Markdown rendering of course files (courses/FORMAT.md), safe by construction.

markdown-it-py runs with `html=False` (raw HTML is escaped, never passed through), no linkify and no
typographer. After parsing, every link and image token is checked: only http(s), mailto and
relative links survive, internal `.md` links become relative app URLs, images must lie in the
module's assets/. Anything else is rendered as its text. Results are cached by content hash.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, cast
from urllib.parse import quote, unquote

from markdown_it import MarkdownIt
from markdown_it.common.normalize_url import validateLink as default_validate_link
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.front_matter import front_matter_plugin

from lms.courses.variables import PREFIX, reference_problem

BOXES: dict[str, str] = {
    "beispiel": "Beispiel",
    "tipp": "Tipp",
    "achtung": "Achtung",
    "merke": "Merke",
    "recht": "Rechtlicher Hinweis",
}
CHECKLIST_HEADING = "checkliste"
# a chamber value in the rendered HTML, filled in per request (lms.courses.queries.fill_chamber_values); the
# renderer escapes every "<" of the content, so only this module can write the tag
VALUE_TAG = "medienwerk-kammer"
RAW_HTML = "raw HTML is not allowed"

_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_TASK_MARK_RE = re.compile(r"^\s*\[([ xX])\](?:\s+|$)")
_QUESTION_ATTRS_RE = re.compile(r"\s*\{#([^\s{}]*)((?:\s+[^\s{}]+)*)\s*\}\s*$")
_FEEDBACK = "Feedback:"
_VALUE_RE = re.compile(r"\{\{[ \t]*([^{}\n]*?)[ \t]*\}\}")


# --- URLs -------------------------------------------------------------------------------------


def url_scheme(url: str) -> str | None:
    """The lowercase scheme of `url` ('https', 'javascript' …), or None for a relative URL."""
    match = _SCHEME_RE.match(url.strip())
    return match.group(1).lower() if match else None


def is_protocol_relative(url: str) -> bool:
    """`//host/…` (also with backslashes, which browsers treat alike)."""
    head = url.strip()[:2]
    return len(head) == 2 and head[0] in "/\\" and head[1] in "/\\"


def split_fragment(url: str) -> tuple[str, str]:
    """('path', '#fragment') with the path percent-decoded and any query dropped."""
    path, sep, fragment = url.strip().partition("#")
    return unquote(path.partition("?")[0]), sep + fragment


def content_hash(text: str, module_id: str) -> str:
    """sha256 of the module id and the source text: the render cache key."""
    return hashlib.sha256(f"{module_id}\n{text}".encode()).hexdigest()


# --- context and results -----------------------------------------------------------------------


@dataclass(frozen=True)
class RenderContext:
    """Where a document lives: its path relative to the courses folder and the link targets.

    `targets` holds (path relative to the courses folder, module id, item id) for every content
    file of the course, so `.md` links can be rewritten to app URLs.
    """

    doc_path: str
    module_id: str
    targets: tuple[tuple[str, str, str], ...] = ()

    @property
    def folder(self) -> str:
        """The module folder (first part of `doc_path`)."""
        return self.doc_path.split("/", 1)[0]

    @cached_property
    def _lookup(self) -> dict[str, tuple[str, str]]:
        return {path: (module_id, item_id) for path, module_id, item_id in self.targets}

    def target(self, path: str) -> tuple[str, str] | None:
        """(module id, item id) of the content file at `path`, if any."""
        return self._lookup.get(path)

    def resolve(self, relative: str) -> str:
        """`relative` (a path inside a link) as a normalised path from the courses folder."""
        return posixpath.normpath(posixpath.join(posixpath.dirname(self.doc_path), relative))


@dataclass(frozen=True)
class Ref:
    """A link or image in the source, for the checker."""

    line: int
    kind: str  # "link" | "image" | "chamber" (a chamber value: `url` is what stands inside {{ }})
    url: str
    alt: str = ""


@dataclass(frozen=True)
class RawAnswer:
    """One task-list item of a question, as written."""

    line: int
    mark: str | None  # "x", " " or None when the item has no [x] / [ ]
    text: str
    text_html: str
    feedback_html: str | None
    extra: bool = False  # other content in the item (ignored, reported)


@dataclass(frozen=True)
class RawQuestion:
    """One `## … {#id}` section of a quiz, as written."""

    line: int
    title: str
    title_html: str
    id: str | None
    attrs: tuple[tuple[str, str], ...]
    bad_attrs: tuple[str, ...]
    prompt_html: str
    answers: tuple[RawAnswer, ...] | None  # None: no task list found
    extra_line: int | None = None  # first line of content after the answers


@dataclass(frozen=True)
class RawChecklist:
    """The `## Checkliste` section of a task."""

    line: int
    items: tuple[tuple[int, str | None, str], ...] | None  # (line, mark, html); None: no list


@dataclass(frozen=True)
class Rendered:
    """Everything the Markdown of one file yields; cached per content hash."""

    kind: str
    html: str
    questions: tuple[RawQuestion, ...] = ()
    checklist: RawChecklist | None = None
    refs: tuple[Ref, ...] = ()
    issues: tuple[tuple[int, str], ...] = ()  # (line, message) found while parsing


# --- the parsers --------------------------------------------------------------------------------


def _box_renderer(name: str, title: str) -> Callable[..., str]:
    def render(self: Any, tokens: Sequence[Token], idx: int, _options: Any, _env: Any) -> str:
        if tokens[idx].nesting == 1:
            return f'<aside class="box box--{name}" role="note"><p class="box__title">{escapeHtml(title)}</p>\n'
        return "</aside>\n"

    return render


def _render_image(self: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children, options, env)
    src = token.attrGet("src") or ""
    return f'<img src="{escapeHtml(str(src))}" alt="{escapeHtml(alt)}" loading="lazy">'


def _gender_star(state: StateInline, silent: bool) -> bool:
    """Keep the German gender star (`Botschafter*in`, `Schüler*innen`) as text, not emphasis."""
    pos = state.pos
    src = state.src
    if (
        src[pos] != "*"
        or pos == 0
        or pos + 1 >= state.posMax
        or not src[pos - 1].isalpha()
        or not src[pos + 1].isalpha()
    ):
        return False
    if not silent:
        state.pending += "*"
    state.pos += 1
    return True


def _chamber_value(state: StateInline, silent: bool) -> bool:
    """`{{ kammer.name }}`: a value of the volunteer's chamber (anything else in `{{ }}` is reported)."""
    if state.src[state.pos] != "{":
        return False
    match = _VALUE_RE.match(state.src, state.pos)
    if match is None or match.end() > state.posMax:
        return False
    if not silent:
        token = state.push("chamber_value", "", 0)
        token.content = match.group(1)
    state.pos = match.end()
    return True


def _render_chamber_value(self: Any, tokens: Sequence[Token], idx: int, _options: Any, _env: Any) -> str:
    reference = tokens[idx].content
    if reference_problem(reference) is None:
        return f'<{VALUE_TAG} name="{escapeHtml(reference[len(PREFIX) :])}"></{VALUE_TAG}>'
    return escapeHtml("{{ " + reference + " }}")


class _Markdown(MarkdownIt):
    """MarkdownIt that parses every link; `_secure` decides afterwards.

    That way a refused link leaves only its text, not its `[text](url)` source.
    """

    def validateLink(self, url: str) -> bool:
        return True


def make_markdown(html: bool = False) -> MarkdownIt:
    """The configured parser; `html=True` only to find raw HTML for the checker."""
    md = _Markdown("commonmark", {"html": html, "linkify": False, "typographer": False})
    md.enable("table")
    md.inline.ruler.before("emphasis", "gender_star", _gender_star)
    md.inline.ruler.before("emphasis", "chamber_value", _chamber_value)
    md.use(front_matter_plugin)
    for name, title in BOXES.items():
        md.use(container_plugin, name=name, render=_box_renderer(name, title))
    md.add_render_rule("image", _render_image)
    md.add_render_rule("chamber_value", _render_chamber_value)
    return md


_MD = make_markdown()
_MD_HTML = make_markdown(html=True)
_RENDERER = cast(RendererHTML, _MD.renderer)


def _link_href(href: str, ctx: RenderContext) -> tuple[str, bool] | None:
    """(href to render, is external) or None when the link must become plain text."""
    if not default_validate_link(href):  # markdown-it's own XSS guard stays in force
        return None
    scheme = url_scheme(href)
    if scheme in ("http", "https"):
        return href, True
    if scheme == "mailto":
        return href, False
    if scheme is not None or is_protocol_relative(href):
        return None
    path, fragment = split_fragment(href)
    if not path:
        return (fragment, False) if fragment else None
    if path.startswith(("/", "\\")):
        return None
    resolved = ctx.resolve(path)
    if path.endswith(".md"):
        target = ctx.target(resolved)
        if target is None:
            return None
        module_id, item_id = target
        url = item_id if module_id == ctx.module_id else f"../{module_id}/{item_id}"
        return url + fragment, False
    asset = _asset_path(resolved, ctx)
    return (f"assets/{quote(asset)}{fragment}", False) if asset else None


def _asset_path(resolved: str, ctx: RenderContext) -> str | None:
    """The path below the module's assets/ for a resolved path, or None when outside."""
    prefix = f"{ctx.folder}/assets/"
    if resolved.startswith(prefix) and len(resolved) > len(prefix):
        return resolved[len(prefix) :]
    return None


def _image_src(src: str, ctx: RenderContext) -> str | None:
    if url_scheme(src) is not None or is_protocol_relative(src):
        return None
    path, _fragment = split_fragment(src)
    if not path or path.startswith(("/", "\\")):
        return None
    asset = _asset_path(ctx.resolve(path), ctx)
    return f"assets/{quote(asset)}" if asset else None


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def _plain(children: Sequence[Token]) -> str:
    return _RENDERER.renderInlineAsText(children, _MD.options, {})


def _secure(tokens: list[Token], ctx: RenderContext) -> list[Ref]:
    """Rewrite or neutralise every link and image in place; return them for the checker."""
    refs: list[Ref] = []
    line = 1
    for block in tokens:
        if block.map is not None:
            line = block.map[0] + 1
        if block.type != "inline" or not block.children:
            continue
        line = _secure_inline(block, line, ctx, refs)
    return refs


def _secure_inline(block: Token, line: int, ctx: RenderContext, refs: list[Ref]) -> int:
    out: list[Token] = []
    dropping = False
    assert block.children is not None
    for child in block.children:
        if child.type in ("softbreak", "hardbreak"):
            line += 1
        if child.type == "link_open":
            href = str(child.attrGet("href") or "")
            refs.append(Ref(line, "link", href))
            rewritten = _link_href(href, ctx)
            if rewritten is None:
                dropping = True
                continue
            url, external = rewritten
            child.attrSet("href", url)
            if external:
                child.attrSet("target", "_blank")
                child.attrSet("rel", "noopener noreferrer")
        elif child.type == "chamber_value":
            refs.append(Ref(line, "chamber", child.content))
        elif child.type == "link_close" and dropping:
            dropping = False
            continue
        elif child.type == "image":
            src = str(child.attrGet("src") or "")
            alt = _plain(child.children or [])
            refs.append(Ref(line, "image", src, alt))
            safe_src = _image_src(src, ctx)
            if safe_src is None:
                out.append(_text(alt))
                continue
            child.attrs = {"src": safe_src, "alt": ""}
        out.append(child)
    block.children = out
    return line


def _render(tokens: Sequence[Token], env: dict) -> str:
    return _RENDERER.render(tokens, _MD.options, env)


def _render_inline(children: Sequence[Token], env: dict) -> str:
    return _RENDERER.renderInline(children, _MD.options, env)


def _close_index(tokens: Sequence[Token], start: int) -> int:
    """Index of the token closing the one opened at `start`."""
    depth = 0
    for index in range(start, len(tokens)):
        depth += tokens[index].nesting
        if depth == 0:
            return index
    return len(tokens) - 1


def _h2_indices(tokens: Sequence[Token]) -> list[int]:
    return [i for i, t in enumerate(tokens) if t.type == "heading_open" and t.tag == "h2" and t.level == 0]


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 0


def _task_mark(inline: Token | None) -> tuple[str | None, list[Token]]:
    """('x' | ' ' | None, children without the `[x] ` marker)."""
    if inline is None or not inline.children:
        return None, []
    first, *rest = inline.children
    match = _TASK_MARK_RE.match(first.content) if first.type == "text" else None
    if match is None:
        return None, list(inline.children)
    mark = match.group(1).lower()
    remainder = first.content[match.end() :]
    return mark, ([first.copy(content=remainder)] if remainder else []) + rest


def _list_items(tokens: Sequence[Token], start: int) -> list[tuple[int, int]]:
    """(open, close) indices of the items of the list opened at `start`."""
    end = _close_index(tokens, start)
    items = []
    index = start + 1
    while index < end:
        if tokens[index].type == "list_item_open":
            close = _close_index(tokens, index)
            items.append((index, close))
            index = close
        index += 1
    return items


def _first_inline(tokens: Sequence[Token], start: int, end: int) -> Token | None:
    return next((t for t in tokens[start:end] if t.type == "inline"), None)


def _is_task_list(tokens: Sequence[Token], start: int) -> bool:
    items = _list_items(tokens, start)
    if not items:
        return False
    mark, _children = _task_mark(_first_inline(tokens, *items[0]))
    return mark is not None


def _split_lines(children: Sequence[Token]) -> list[list[Token]]:
    lines: list[list[Token]] = [[]]
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            lines.append([])
        else:
            lines[-1].append(child)
    return lines


def _strip_feedback(line: list[Token]) -> list[Token] | None:
    """The line without its `Feedback:` prefix, or None if it is not a feedback line."""
    if not line or line[0].type != "text":
        return None
    head = line[0].content.lstrip()
    if head[: len(_FEEDBACK)].lower() != _FEEDBACK.lower():
        return None
    rest = head[len(_FEEDBACK) :].lstrip()
    return ([line[0].copy(content=rest)] if rest else []) + line[1:]


def _join_lines(lines: Sequence[list[Token]]) -> list[Token]:
    out: list[Token] = []
    for index, line in enumerate(lines):
        if index:
            out.append(Token("softbreak", "br", 0))
        out.extend(line)
    return out


def _answer(tokens: Sequence[Token], open_index: int, close: int, env: dict) -> RawAnswer:
    item = tokens[open_index]
    blocks: list[tuple[int, int]] = []  # top-level blocks of the item
    index = open_index + 1
    while index < close:
        end = _close_index(tokens, index)
        blocks.append((index, end))
        index = end + 1
    first = _first_inline(tokens, *blocks[0]) if blocks else None
    mark, children = _task_mark(first)
    lines = _split_lines(children)
    feedback: list[Token] | None = None
    answer_lines = lines
    for number, line in enumerate(lines[1:], start=1):
        stripped = _strip_feedback(line)
        if stripped is not None:
            feedback = _join_lines([stripped, *lines[number + 1 :]])
            answer_lines = lines[:number]
            break
    used = 1
    if feedback is None and len(blocks) > 1 and tokens[blocks[1][0]].type == "paragraph_open":
        inline = _first_inline(tokens, *blocks[1])
        feedback_lines = _split_lines(inline.children or []) if inline else [[]]
        stripped = _strip_feedback(feedback_lines[0])
        if stripped is not None:
            feedback = _join_lines([stripped, *feedback_lines[1:]])
            used = 2
    answer = _join_lines(answer_lines)
    return RawAnswer(
        line=_line(item),
        mark=mark,
        text=_plain(answer).strip(),
        text_html=_render_inline(answer, env).strip(),
        feedback_html=_render_inline(feedback, env).strip() if feedback is not None else None,
        extra=len(blocks) > used,
    )


def _question(tokens: list[Token], env: dict) -> RawQuestion:
    heading = tokens[0]
    inline = tokens[1]
    children = list(inline.children or [])
    match = _QUESTION_ATTRS_RE.search(inline.content)
    question_id: str | None = None
    attrs: list[tuple[str, str]] = []
    bad: list[str] = []
    if match and children and children[-1].type == "text" and match.group(0).strip():
        last = children[-1]
        tail = _QUESTION_ATTRS_RE.search(last.content)
        if tail is not None:
            children[-1] = last.copy(content=last.content[: tail.start()])
            question_id = match.group(1) or None
            for part in match.group(2).split():
                key, sep, value = part.partition("=")
                if sep and key and value:
                    attrs.append((key, value))
                else:
                    bad.append(part)
    rest = tokens[_close_index(tokens, 0) + 1 :]
    list_start = next(
        (i for i, t in enumerate(rest) if t.type == "bullet_list_open" and t.level == 0 and _is_task_list(rest, i)),
        None,
    )
    answers: tuple[RawAnswer, ...] | None = None
    extra_line: int | None = None
    prompt = rest
    if list_start is not None:
        list_end = _close_index(rest, list_start)
        prompt = rest[:list_start]
        answers = tuple(_answer(rest, a, b, env) for a, b in _list_items(rest, list_start))
        after = [t for t in rest[list_end + 1 :] if t.map is not None]
        extra_line = _line(after[0]) if after else None
    return RawQuestion(
        line=_line(heading),
        title=_plain(children).strip(),
        title_html=_render_inline(children, env).strip(),
        id=question_id,
        attrs=tuple(attrs),
        bad_attrs=tuple(bad),
        prompt_html=_render(prompt, env),
        answers=answers,
        extra_line=extra_line,
    )


def _quiz(tokens: list[Token], env: dict) -> tuple[str, tuple[RawQuestion, ...]]:
    heads = _h2_indices(tokens)
    intro = tokens[: heads[0]] if heads else tokens
    bounds = [*heads, len(tokens)]
    questions = tuple(_question(tokens[a:b], env) for a, b in zip(bounds, bounds[1:], strict=False))
    return _render(intro, env), questions


def _task(tokens: list[Token], env: dict) -> tuple[str, RawChecklist | None]:
    heads = _h2_indices(tokens)
    for number, start in enumerate(heads):
        if _plain(tokens[start + 1].children or []).strip().lower() != CHECKLIST_HEADING:
            continue
        end = heads[number + 1] if number + 1 < len(heads) else len(tokens)
        heading_end = _close_index(tokens, start)
        list_start = next(
            (i for i in range(heading_end + 1, end) if tokens[i].type == "bullet_list_open" and tokens[i].level == 0),
            None,
        )
        removed = set(range(start, heading_end + 1))
        items: tuple[tuple[int, str | None, str], ...] | None = None
        if list_start is not None:
            list_end = _close_index(tokens, list_start)
            removed |= set(range(list_start, list_end + 1))
            found = []
            for a, b in _list_items(tokens, list_start):
                mark, children = _task_mark(_first_inline(tokens, a, b))
                found.append((_line(tokens[a]), mark, _render_inline(children, env).strip()))
            items = tuple(found)
        kept = [t for i, t in enumerate(tokens) if i not in removed]
        return _render(kept, env), RawChecklist(_line(tokens[start]), items)
    return _render(tokens, env), None


def _syntax_issues(tokens: Sequence[Token], lines: list[str]) -> list[tuple[int, str]]:
    """Level-1 headings, unknown or unclosed boxes."""
    issues: list[tuple[int, str]] = []
    unknown_open = False  # the ':::' closing an unknown box is not a second problem
    for token in tokens:
        if token.type == "heading_open" and token.tag == "h1":
            issues.append((_line(token), "level-1 heading (#) is not allowed: the title is shown for you"))
        elif token.type.startswith("container_") and token.nesting == 1 and token.map:
            end = token.map[1]
            if end >= len(lines) or not lines[end].strip().startswith(":::"):
                issues.append((_line(token), f"box '::: {token.info.strip()}' is not closed"))
        elif token.type == "inline" and token.map and token.content:
            for offset, text in enumerate(token.content.split("\n")):
                if not text.strip().startswith(":::"):
                    continue
                name = text.strip().lstrip(":").strip()
                if name:
                    unknown_open = True
                    message = f"unknown box '::: {name}' (use {', '.join(BOXES)})"
                elif unknown_open:
                    unknown_open = False
                    continue
                else:
                    message = "':::' closes no box"
                issues.append((token.map[0] + offset + 1, message))
    return issues


def _raw_html_lines(text: str) -> list[int]:
    """Lines with raw HTML (found with an HTML-enabled parse; the rendering escapes it)."""
    found: set[int] = set()
    for block in _MD_HTML.parse(text):
        if block.type == "html_block":
            found.add(_line(block))
        elif block.type == "inline" and block.map and block.children:
            line = block.map[0] + 1
            for child in block.children:
                if child.type in ("softbreak", "hardbreak"):
                    line += 1
                elif child.type == "html_inline":
                    found.add(line)
    return sorted(found)


def _render_uncached(text: str, kind: str, ctx: RenderContext) -> Rendered:
    env: dict = {}
    tokens = [t for t in _MD.parse(text, env) if t.type != "front_matter"]
    refs = _secure(tokens, ctx)
    issues = _syntax_issues(tokens, text.splitlines())
    issues += [(line, RAW_HTML) for line in _raw_html_lines(text)]
    questions: tuple[RawQuestion, ...] = ()
    checklist = None
    if kind == "quiz":
        html, questions = _quiz(tokens, env)
    elif kind == "task":
        html, checklist = _task(tokens, env)
    else:
        html = _render(tokens, env)
    return Rendered(kind, html, questions, checklist, tuple(refs), tuple(sorted(issues)))


# --- cache --------------------------------------------------------------------------------------


class _Cache:
    """A small thread-safe LRU keyed by (content hash, kind, context)."""

    def __init__(self, maxsize: int = 2048) -> None:
        self.maxsize = maxsize
        self.hits = 0
        self.misses = 0
        self._data: OrderedDict[tuple[str, str, RenderContext], Rendered] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, RenderContext]) -> Rendered | None:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
            else:
                self.hits += 1
                self._data.move_to_end(key)
            return value

    def put(self, key: tuple[str, str, RenderContext], value: Rendered) -> None:
        with self._lock:
            self._data[key] = value
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0


_CACHE = _Cache()


def render_cache_info() -> tuple[int, int, int]:
    """(hits, misses, size) of the render cache."""
    return _CACHE.hits, _CACHE.misses, len(_CACHE._data)


def clear_render_cache() -> None:
    """Forget every cached rendering (tests)."""
    _CACHE.clear()


def render_item(text: str, kind: str, ctx: RenderContext, digest: str | None = None) -> Rendered:
    """Render one course file (`kind`: lesson, quiz or task); cached by `content_hash`."""
    key = (digest or content_hash(text, ctx.module_id), kind, ctx)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    rendered = _render_uncached(text, kind, ctx)
    _CACHE.put(key, rendered)
    return rendered


def render_markdown(text: str, ctx: RenderContext | None = None) -> str:
    """HTML of a Markdown text (front matter skipped), with the same safety rules."""
    return render_item(text, "lesson", ctx or RenderContext("module/text.md", "module")).html
