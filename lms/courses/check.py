"""Validation of course content (the rules of courses/FORMAT.md).

The loader in `content.py` calls the rules below while it builds the model, so the app and the checker
always agree: a module with any problem is reported and not served. What `medienwerk courses check` prints
is in `review.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lms.courses.render import (
    RawChecklist,
    RawQuestion,
    is_protocol_relative,
    split_fragment,
    url_scheme,
)

ID_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
IMAGE_SUFFIXES = frozenset({".svg", ".png", ".jpg", ".jpeg", ".webp"})
DANGEROUS_SCHEMES = frozenset({"javascript", "data", "vbscript"})
LINK_SCHEMES = frozenset({"http", "https", "mailto"})

YamlPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One thing wrong in the content, at a file and a 1-based line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Reporter:
    """Collects problems; paths are stored relative to the courses folder when possible."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def add(self, path: Path, line: int, message: str) -> None:
        """Record a problem at `path:line`."""
        self.problems.append(Problem(self.relative(path), line, message))

    def relative(self, path: Path) -> Path:
        """`path` relative to the courses folder, or unchanged if it lies outside."""
        if path == self.root:
            return path
        try:
            return path.relative_to(self.root)
        except ValueError:
            return path

    def count(self) -> int:
        """Number of problems so far (to tell whether a step added any)."""
        return len(self.problems)


# --- YAML with line numbers -------------------------------------------------------------------

try:  # libyaml is much faster; the pure-Python loader gives the same marks
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class YamlDoc:
    """Parsed YAML plus the 1-based line of each key / list item, addressed by path tuples."""

    data: Any
    lines: Mapping[YamlPath, int] = field(default_factory=dict)
    error: tuple[int, str] | None = None
    duplicates: tuple[tuple[int, YamlPath], ...] = ()

    def line(self, *path: str | int) -> int:
        """Line of the deepest known prefix of `path` (1 = start of the document)."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.lines:
                return self.lines[path[:end]]
        return self.lines.get((), 1)


def load_yaml(text: str, first_line: int = 1) -> YamlDoc:
    """Safely load one YAML document, remembering where each key is; never raises."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = first_line + (mark.line if mark is not None else 0)
        reason = getattr(exc, "problem", None) or str(exc)
        return YamlDoc(None, {}, (line, f"invalid YAML: {reason}"))
    finally:
        loader.dispose()
    lines: dict[YamlPath, int] = {(): first_line}
    duplicates: list[tuple[int, YamlPath]] = []
    if node is not None:
        _walk(node, (), first_line, lines, duplicates)
    return YamlDoc(data, lines, None, tuple(duplicates))


def _walk(
    node: yaml.Node,
    path: YamlPath,
    first_line: int,
    lines: dict[YamlPath, int],
    duplicates: list[tuple[int, YamlPath]],
) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            line = first_line + key_node.start_mark.line
            if key in seen:
                duplicates.append((line, (*path, key)))
            seen.add(key)
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), first_line, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = first_line + item.start_mark.line
            _walk(item, (*path, index), first_line, lines, duplicates)


# --- field rules ------------------------------------------------------------------------------


def id_problem(value: object, what: str = "id") -> str | None:
    """Message if `value` is not a valid id (lowercase letters, digits, hyphens)."""
    if not isinstance(value, str) or not value:
        return f"{what} must be text such as 'm1-konten-schuetzen'"
    if not ID_RE.match(value):
        return (
            f"invalid {what} '{value}': use lowercase letters, digits and hyphens only (no hyphen at the start or end)"
        )
    return None


def is_int(value: object) -> bool:
    """True for real integers (YAML `yes`/`true` are bools, not numbers)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_mapping(
    report: Reporter,
    path: Path,
    doc: YamlDoc,
    required: Iterable[str],
    allowed: Iterable[str],
    where: YamlPath = (),
    name: str = "",
) -> dict[str, Any] | None:
    """Check that the YAML at `where` is a mapping with the required and only allowed keys."""
    data = lookup(doc.data, where)
    label = name or "this file"
    if not isinstance(data, dict):
        report.add(path, doc.line(*where), f"{label} must be a set of 'key: value' lines")
        return None
    for line, key_path in doc.duplicates:
        if key_path[:-1] == where:
            report.add(path, line, f"key '{key_path[-1]}' appears twice")
    allowed_set = set(allowed) | set(required)
    for key in data:
        if str(key) not in allowed_set:
            report.add(
                path,
                doc.line(*where, str(key)),
                f"unknown key '{key}' (allowed: {', '.join(sorted(allowed_set))})",
            )
    for key in required:
        if key not in data or data[key] is None or data[key] == "":
            report.add(path, doc.line(*where), f"missing key '{key}'")
    return data


def lookup(data: Any, where: YamlPath) -> Any:
    """The value at `where` inside nested YAML data, or None."""
    for part in where:
        if isinstance(part, int):
            data = data[part] if isinstance(data, list) and part < len(data) else None
        else:
            data = data.get(part) if isinstance(data, dict) else None
    return data


def check_text(report: Reporter, path: Path, doc: YamlDoc, data: dict, key: str, where: YamlPath = ()) -> str | None:
    """A required non-empty text value."""
    value = data.get(key)
    if value is None or value == "":
        return None  # reported as missing
    if not isinstance(value, str) or not value.strip():
        report.add(path, doc.line(*where, key), f"'{key}' must be text (put it in quotes)")
        return None
    return value.strip()


def check_int(
    report: Reporter,
    path: Path,
    doc: YamlDoc,
    data: dict,
    key: str,
    low: int,
    high: int | None = None,
    where: YamlPath = (),
) -> int | None:
    """An integer value within [low, high]; None if absent or invalid (invalid is reported)."""
    value = data.get(key)
    if value is None or value == "":
        return None
    if not is_int(value) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        report.add(path, doc.line(*where, key), f"'{key}' must be a whole number {bound}, not {value!r}")
        return None
    return int(value)


# --- Markdown rules -----------------------------------------------------------------------------


def check_link(
    report: Reporter,
    source: Path,
    line: int,
    url: str,
    module_dir: Path,
    content_files: frozenset[Path],
) -> None:
    """Rules for a link `[text](url)` in `source` (see FORMAT.md: links)."""
    scheme = url_scheme(url)
    if not url.strip():
        report.add(source, line, "link has no target")
    elif scheme in DANGEROUS_SCHEMES:
        report.add(source, line, f"{scheme}: links are not allowed")
    elif scheme is not None and scheme not in LINK_SCHEMES:
        report.add(
            source,
            line,
            f"links with '{scheme}:' are not allowed (use https://, mailto: or a lesson file)",
        )
    elif is_protocol_relative(url):
        report.add(source, line, f"protocol-relative link '{url}' is not allowed: write https://")
    elif scheme is None:
        target, _fragment = split_fragment(url)
        if not target:
            return  # a link to a place on the same page
        if target.startswith(("/", "\\")):
            report.add(source, line, f"absolute link '{url}' is not allowed: link relative to this file")
            return
        resolved = (source.parent / target).resolve()
        if not resolved.exists():
            report.add(source, line, f"broken link: '{target}' does not exist")
        elif target.endswith(".md"):
            if resolved not in content_files:
                report.add(source, line, f"link target '{target}' is not a lesson of the course")
        elif not (resolved.is_file() and resolved.is_relative_to(module_dir / "assets")):
            report.add(
                source,
                line,
                f"link target '{target}' is neither a lesson (.md) nor a file in assets/",
            )


def check_image(report: Reporter, source: Path, line: int, url: str, alt: str, module_dir: Path) -> None:
    """Rules for an image `![alt](url)`: alt text, only files in the module's assets/."""
    if not alt.strip():
        report.add(source, line, "image has no alt text: describe what the picture shows")
    scheme = url_scheme(url)
    if scheme == "data":
        report.add(source, line, "data: URLs are not allowed for images: put the file in assets/")
        return
    if scheme is not None or is_protocol_relative(url):
        report.add(
            source,
            line,
            f"external image '{url}' is not allowed: put the file in this module's assets/",
        )
        return
    target, _fragment = split_fragment(url)
    if not target or target.startswith(("/", "\\")):
        report.add(source, line, f"image path '{url}' must be relative, like assets/bild.svg")
        return
    resolved = (source.parent / target).resolve()
    if not resolved.is_relative_to((module_dir / "assets").resolve()):
        report.add(source, line, f"image '{target}' must be in this module's assets/ folder")
    elif not resolved.is_file():
        report.add(source, line, f"image not found: '{target}'")
    elif resolved.suffix.lower() not in IMAGE_SUFFIXES:
        report.add(
            source,
            line,
            f"image type '{resolved.suffix}' is not allowed (use SVG, PNG, JPEG or WebP)",
        )


# --- quiz and task rules -------------------------------------------------------------------------

QUESTION_TYPES = {"einfach": "single", "mehrfach": "multiple", "wahr-falsch": "true_false"}
MIN_QUESTIONS, MAX_QUESTIONS = 6, 10
MAX_POOL = 30  # questions in a pool that draws per attempt


def check_question(report: Reporter, path: Path, question: RawQuestion) -> tuple[str, str]:
    """Rules for one self-check question; returns its kind (single, multiple, true_false) and its group."""
    group = ""
    for key, value in question.attrs:
        if key == "gruppe":
            if (message := id_problem(value, "group")) is not None:
                report.add(path, question.line, message)
            else:
                group = value
    return _check_question(report, path, question), group


def _check_question(report: Reporter, path: Path, question: RawQuestion) -> str:
    line = question.line
    if question.id is None:
        report.add(path, line, "question has no id: end the heading with {#your-question-id}")
    elif (message := id_problem(question.id, "question id")) is not None:
        report.add(path, line, message)
    declared: str | None = None
    for key, value in question.attrs:
        if key == "gruppe":
            continue
        if key != "typ":
            report.add(path, line, f"unknown question attribute '{key}' (only typ=… and gruppe=…)")
        elif value not in QUESTION_TYPES:
            report.add(
                path,
                line,
                f"unknown question type 'typ={value}' (use {', '.join(QUESTION_TYPES)})",
            )
        else:
            declared = QUESTION_TYPES[value]
    for part in question.bad_attrs:
        report.add(path, line, f"cannot read '{part}' in the heading: write typ=mehrfach")
    answers = question.answers
    if answers is None:
        report.add(path, line, "question has no answers: add a task list (- [x] / - [ ])")
        return declared or "single"
    for answer in answers:
        if answer.mark is None:
            report.add(path, answer.line, "answer must start with [x] (correct) or [ ] (wrong)")
        elif not answer.text:
            report.add(path, answer.line, "answer has no text")
        if answer.feedback_html is None:
            report.add(path, answer.line, "answer has no 'Feedback:' line")
        elif not answer.feedback_html:
            report.add(path, answer.line, "answer has an empty 'Feedback:' line")
        if answer.extra:
            report.add(path, answer.line, "answer has more than its text and one 'Feedback:' paragraph")
    if question.extra_line is not None:
        report.add(path, question.extra_line, "text after the answers is not shown: move it above them")
    if len(answers) < 2:
        report.add(path, line, "question needs at least two answers")
    correct = sum(answer.mark == "x" for answer in answers)
    if correct == 0:
        report.add(path, line, "question has no correct answer: mark one with [x]")
    if declared == "true_false":
        if sorted(answer.text for answer in answers) != ["Falsch", "Wahr"]:
            report.add(path, line, "typ=wahr-falsch needs exactly the two answers 'Wahr' and 'Falsch'")
        elif correct != 1:
            report.add(path, line, "typ=wahr-falsch needs exactly one correct answer")
        return declared
    if declared == "single" and correct > 1:
        report.add(path, line, f"typ=einfach needs exactly one correct answer, found {correct}")
    if declared is not None:
        return declared
    return "multiple" if correct > 1 else "single"


def check_question_count(report: Reporter, path: Path, count: int, draw: int | None = None, draw_line: int = 1) -> None:
    """A self-check shows 6 to 10 questions: all of them, or `draw` of a pool of up to 30."""
    if count == 0:
        report.add(path, 1, "quiz has no questions (## Question … {#question-id})")
    elif draw is None:
        if not MIN_QUESTIONS <= count <= MAX_QUESTIONS:
            report.add(
                path,
                1,
                f"a self-check needs {MIN_QUESTIONS} to {MAX_QUESTIONS} questions, found {count}"
                + (
                    f" (or draw: {MIN_QUESTIONS} to {MAX_QUESTIONS} of them per attempt)"
                    if count > MAX_QUESTIONS
                    else ""
                ),
            )
    elif draw > count:
        report.add(path, draw_line, f"draw: {draw} is more than the {count} questions of the pool")
    elif not MIN_QUESTIONS <= draw <= MAX_QUESTIONS:
        report.add(
            path, draw_line, f"draw: a self-check shows {MIN_QUESTIONS} to {MAX_QUESTIONS} questions, not {draw}"
        )
    elif count > MAX_POOL:
        report.add(path, 1, f"a question pool has at most {MAX_POOL} questions, found {count}")


def check_groups(report: Reporter, path: Path, groups: list[tuple[int, str]], draw: int | None) -> None:
    """`gruppe=…` needs `draw:`, and each group must fit into the draw (one question of each per attempt)."""
    named = [(line, group) for line, group in groups if group]
    if not named:
        return
    if draw is None:
        report.add(path, named[0][0], "gruppe=… only matters when the front matter says draw: (questions per attempt)")
        return
    distinct = sorted({group for _line, group in named})
    if len(distinct) > draw:
        report.add(
            path,
            1,
            f"{len(distinct)} groups cannot each get a question in a draw of {draw}: "
            "use fewer groups or draw more questions",
        )


def check_checklist(
    report: Reporter,
    path: Path,
    submission: object,
    checklist: RawChecklist | None,
    submission_line: int,
) -> None:
    """`## Checkliste` with a task list exactly when `submission: checklist`."""
    if submission != "checklist":
        if checklist is not None and submission in ("link", "text"):
            report.add(
                path,
                checklist.line,
                f"'## Checkliste' is only for submission: checklist (this task: {submission})",
            )
        return
    if checklist is None:
        report.add(
            path,
            submission_line,
            "submission: checklist needs a '## Checkliste' section with a task list",
        )
        return
    if not checklist.items:
        report.add(path, checklist.line, "'## Checkliste' needs a task list (- [ ] …)")
        return
    for line, mark, html in checklist.items:
        if mark is None:
            report.add(path, line, "checklist item must start with [ ]")
        elif mark == "x":
            report.add(path, line, "checklist items start unticked: write - [ ]")
        elif not html:
            report.add(path, line, "checklist item has no text")


# --- the command ------------------------------------------------------------------------------
