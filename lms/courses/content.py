"""The course model and its loader (courses/FORMAT.md).

`load_course` reads a courses folder once at start-up. It never raises on bad content: every
problem is collected (the same list `medienwerk courses check` prints), a module with any problem
is left out, and the rest is served.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from mdit_py_plugins.front_matter import front_matter_plugin

from lms.courses.check import (
    Problem,
    Reporter,
    YamlDoc,
    check_checklist,
    check_groups,
    check_image,
    check_int,
    check_link,
    check_mapping,
    check_question,
    check_question_count,
    check_text,
    id_problem,
    load_yaml,
)
from lms.courses.render import RenderContext, Rendered, content_hash, render_item
from lms.courses.variables import reference_problem

FRAMEWORK = "DigComp 2.2"
# DigComp 2.2 competences with German working labels (/work/shared/reference/digcomp-2.2.csv).
DIGCOMP_22: dict[str, str] = {
    "1.1": "Daten, Informationen und Inhalte suchen und filtern",
    "1.2": "Daten, Informationen und Inhalte kritisch bewerten",
    "1.3": "Daten, Informationen und Inhalte verwalten",
    "2.1": "Mit digitalen Technologien interagieren",
    "2.2": "Mit digitalen Technologien teilen",
    "2.3": "Gesellschaftliche Teilhabe durch digitale Technologien",
    "2.4": "Mit digitalen Technologien zusammenarbeiten",
    "2.5": "Netiquette",
    "2.6": "Digitale Identität gestalten",
    "3.1": "Digitale Inhalte entwickeln",
    "3.2": "Inhalte integrieren und neu gestalten",
    "3.3": "Urheberrecht und Lizenzen",
    "3.4": "Programmieren",
    "4.1": "Geräte schützen",
    "4.2": "Personenbezogene Daten und Privatsphäre schützen",
    "4.3": "Gesundheit und Wohlbefinden schützen",
    "4.4": "Umwelt schützen",
    "5.1": "Technische Probleme lösen",
    "5.2": "Bedarfe und technische Lösungen erkennen",
    "5.3": "Digitale Technologien kreativ nutzen",
    "5.4": "Digitale Kompetenzlücken erkennen",
}
DEFAULT_PASS_MARK = 80
SUBMISSIONS = ("link", "text", "checklist")
NOT_CONTENT = frozenset({"FORMAT.md", "REVIEW.md", "README.md"})
QUALIFICATIONS_FILE = "qualifications.yaml"

_MODULE_REQUIRED = ("id", "title", "summary", "order", "version", "minutes", "digcomp")
_MODULE_OPTIONAL = ("prerequisites", "pass_mark")
# kind -> (required keys, optional keys) of the front matter
_FRONT_MATTER = {
    "lesson": (("id", "title", "minutes"), ("type",)),
    "quiz": (("id", "type", "title"), ("pass_mark", "minutes", "draw")),
    "task": (("id", "type", "title", "submission"), ("review", "minutes")),
}
_NUMBER_RE = re.compile(r"^(\d+)")
# block level only: the front matter is all it needs to find
_FRONT_MATTER_PARSER = MarkdownIt("zero").use(front_matter_plugin).disable(["inline", "text_join"])


# --- the model ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Competence:
    """A DigComp 2.2 competence and the target proficiency level (1-8)."""

    id: str
    level: int

    @property
    def label(self) -> str:
        """German working label of the competence."""
        return DIGCOMP_22.get(self.id, self.id)


@dataclass(frozen=True)
class Answer:
    """One answer of a question; HTML is rendered inline Markdown."""

    text_html: str
    correct: bool
    feedback_html: str


@dataclass(frozen=True)
class Question:
    """A self-check question; `kind` is single, multiple or true_false."""

    id: str
    kind: str
    prompt_html: str
    answers: tuple[Answer, ...]
    title: str = ""  # the heading as plain text
    title_html: str = ""  # the heading as inline HTML
    group: str = ""  # gruppe=…: a draw takes at least one question of each group

    @property
    def correct_indices(self) -> frozenset[int]:
        """Positions of the correct answers."""
        return frozenset(i for i, answer in enumerate(self.answers) if answer.correct)


@dataclass(frozen=True)
class Item:
    """One file of a module: a lesson, the quiz (self-check) or the practical task."""

    id: str
    kind: str  # "lesson" | "quiz" | "task"
    title: str
    minutes: int | None
    html: str  # quiz: the intro only; task: the description without the checklist
    position: int  # 1-based, in file-number order
    source_path: Path
    content_hash: str
    questions: tuple[Question, ...] = ()
    pass_mark: int | None = None  # quiz: its own, else the module's, else 80
    submission: str | None = None  # task: "link" | "text" | "checklist"
    review: bool = False
    checklist: tuple[str, ...] = ()  # task: inline HTML of each checklist item
    draw: int | None = None  # quiz: questions shown per attempt, drawn from `questions` (None: all of them)

    @property
    def drawn_count(self) -> int:
        """How many questions one attempt shows (the whole self-check unless it draws from a pool)."""
        return min(self.draw, len(self.questions)) if self.draw else len(self.questions)

    @property
    def is_pool(self) -> bool:
        """The self-check draws a set of its questions per attempt."""
        return self.drawn_count < len(self.questions)


@dataclass(frozen=True)
class Module:
    """A module folder with its metadata and items in order."""

    id: str
    title: str
    summary: str
    order: int
    version: str
    minutes: int
    prerequisites: tuple[str, ...]
    pass_mark: int
    competences: tuple[Competence, ...]
    framework: str
    items: tuple[Item, ...]
    path: Path

    @property
    def lessons(self) -> tuple[Item, ...]:
        """The lessons, in order."""
        return tuple(item for item in self.items if item.kind == "lesson")

    @property
    def quiz(self) -> Item | None:
        """The self-check, if the module has one."""
        return next((item for item in self.items if item.kind == "quiz"), None)

    @property
    def task(self) -> Item | None:
        """The practical task, if the module has one."""
        return next((item for item in self.items if item.kind == "task"), None)

    def item(self, item_id: str) -> Item | None:
        """The item with this id, or None."""
        return next((item for item in self.items if item.id == item_id), None)


@dataclass(frozen=True)
class Qualification:
    """A tier: modules to complete (ids as declared; `all` = every served module) and tutorials."""

    id: str
    title: str
    description: str
    modules: tuple[str, ...]
    live_tutorials: int


@dataclass(frozen=True)
class Course:
    """The served content: modules without problems, sorted by order; all problems found."""

    modules: tuple[Module, ...]
    qualifications: tuple[Qualification, ...]
    problems: tuple[Problem, ...] = ()

    def module(self, module_id: str) -> Module | None:
        """The served module with this id, or None."""
        return next((module for module in self.modules if module.id == module_id), None)

    def item(self, item_id: str) -> tuple[Module, Item] | None:
        """(module, item) for an item id anywhere in the course, or None."""
        for module in self.modules:
            item = module.item(item_id)
            if item is not None:
                return module, item
        return None

    def qualification(self, qualification_id: str) -> Qualification | None:
        """The qualification with this id, or None."""
        return next((q for q in self.qualifications if q.id == qualification_id), None)


def find_asset(module: Module, filename: str) -> Path | None:
    """The file `filename` inside the module's assets/ folder, or None (no path traversal)."""
    if not filename or "\x00" in filename:
        return None
    base = (module.path / "assets").resolve()
    try:
        candidate = (base / filename).resolve()
    except (OSError, ValueError):
        return None
    if candidate != base and candidate.is_relative_to(base) and candidate.is_file():
        return candidate
    return None


# --- loading ------------------------------------------------------------------------------------


@dataclass
class _File:
    path: Path
    rel: str  # posix path from the courses folder
    number: int
    text: str
    doc: YamlDoc
    meta: dict[str, Any]
    kind: str
    id: str | None


@dataclass
class _Module:
    folder: Path
    doc: YamlDoc | None
    meta: dict[str, Any]
    files: list[_File] = field(default_factory=list)


def load_course(path: Path) -> Course:
    """Load and check the courses folder at `path`; never raises on bad content."""
    root = Path(path).resolve()
    report = Reporter(root)
    if not root.is_dir():
        report.add(root, 1, "course folder not found")
        return Course((), (), tuple(report.problems))
    folders = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(("_", ".")))
    drafts = [_read_module(report, folder) for folder in folders]
    known = {draft.folder.name for draft in drafts if draft.doc is not None}
    for draft in drafts:
        _check_prerequisites(report, draft, known)
    _check_cycles(report, drafts)

    seen: dict[str, tuple[Path, int]] = {}
    for draft in drafts:
        for file in draft.files:
            if file.id is not None:
                _claim_id(report, seen, file.id, file.path, file.doc.line("id"))
    targets = tuple(
        (file.rel, draft.folder.name, file.id) for draft in drafts for file in draft.files if file.id is not None
    )
    content_files = frozenset(file.path.resolve() for d in drafts for file in d.files)
    built = {draft.folder.name: _build_module(report, draft, targets, content_files, seen) for draft in drafts}

    bad = {p.path.parts[0] for p in report.problems if len(p.path.parts) > 1}
    modules = sorted(
        (module for name, module in built.items() if module is not None and name not in bad),
        key=lambda module: (module.order, module.id),
    )
    served = {module.id for module in modules}
    modules = [_replace_prerequisites(m, tuple(p for p in m.prerequisites if p in served)) for m in modules]
    qualifications = _load_qualifications(report, root, known, [m.id for m in modules])
    problems = sorted(report.problems, key=lambda p: (p.path.parts, p.line, p.message))
    return Course(tuple(modules), tuple(qualifications), tuple(problems))


def _replace_prerequisites(module: Module, prerequisites: tuple[str, ...]) -> Module:
    if prerequisites == module.prerequisites:
        return module
    return replace(module, prerequisites=prerequisites)


def _claim_id(report: Reporter, seen: dict[str, tuple[Path, int]], item_id: str, path: Path, line: int) -> None:
    """Ids of items and questions are unique in the whole course."""
    if item_id in seen:
        first_path, first_line = seen[item_id]
        report.add(
            path,
            line,
            f"duplicate id '{item_id}' (already used in {report.relative(first_path)}:{first_line})",
        )
    else:
        seen[item_id] = (path, line)


def _read_module(report: Reporter, folder: Path) -> _Module:
    meta_path = folder / "module.yaml"
    if not meta_path.is_file():
        report.add(meta_path, 1, "module.yaml is missing")
        draft = _Module(folder, None, {})
    else:
        doc = load_yaml(_read_text(report, meta_path) or "")
        if doc.error is not None:
            report.add(meta_path, *doc.error)
        draft = _Module(folder, doc, _check_module_meta(report, meta_path, doc, folder.name))
    for file_path in sorted(folder.iterdir()):
        if (
            file_path.suffix == ".md"
            and file_path.is_file()
            and not file_path.name.startswith(("_", "."))
            and file_path.name not in NOT_CONTENT
        ):
            file = _read_file(report, file_path, folder)
            if file is not None:
                draft.files.append(file)
    draft.files.sort(key=lambda f: (f.number, f.path.name))
    return draft


def _read_text(report: Reporter, path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        report.add(path, 1, "file is not UTF-8 text")
    except OSError as exc:
        report.add(path, 1, f"cannot read file: {exc.strerror}")
    return None


def _check_module_meta(report: Reporter, path: Path, doc: YamlDoc, folder: str) -> dict[str, Any]:
    """Validate module.yaml; returns the valid values (invalid ones are reported and left out)."""
    if doc.error is not None:
        return {}
    data = check_mapping(report, path, doc, _MODULE_REQUIRED, _MODULE_OPTIONAL, name="module.yaml")
    if data is None:
        return {}
    meta: dict[str, Any] = {}
    module_id = data.get("id")
    if module_id is not None:
        if (message := id_problem(module_id, "module id")) is not None:
            report.add(path, doc.line("id"), message)
        elif module_id != folder:
            report.add(path, doc.line("id"), f"id '{module_id}' must equal the folder name '{folder}'")
        else:
            meta["id"] = module_id
    for key in ("title", "summary"):
        meta[key] = check_text(report, path, doc, data, key)
    version = data.get("version")
    if version is not None and version != "":
        if isinstance(version, str) and version.strip():
            meta["version"] = version.strip()
        else:
            report.add(path, doc.line("version"), f"'version' must be text in quotes, e.g. \"{version}\"")
    meta["order"] = check_int(report, path, doc, data, "order", 0)
    meta["minutes"] = check_int(report, path, doc, data, "minutes", 1)
    pass_mark = check_int(report, path, doc, data, "pass_mark", 1, 100)
    meta["pass_mark"] = DEFAULT_PASS_MARK if pass_mark is None else pass_mark
    prerequisites = data.get("prerequisites") or []
    if not isinstance(prerequisites, list) or not all(isinstance(p, str) for p in prerequisites):
        report.add(path, doc.line("prerequisites"), "'prerequisites' must be a list of module ids")
        prerequisites = []
    meta["prerequisites"] = tuple(prerequisites)
    meta["competences"] = _check_digcomp(report, path, doc, data)
    return meta


def _check_digcomp(report: Reporter, path: Path, doc: YamlDoc, data: dict[str, Any]) -> tuple[Competence, ...]:
    if "digcomp" not in data or data["digcomp"] is None:
        return ()
    digcomp = check_mapping(report, path, doc, ("framework", "competences"), (), ("digcomp",), "digcomp")
    if digcomp is None:
        return ()
    framework = digcomp.get("framework")
    if framework is not None and framework != FRAMEWORK:
        report.add(
            path,
            doc.line("digcomp", "framework"),
            f'digcomp.framework must be "{FRAMEWORK}", not {framework!r}',
        )
    entries = digcomp.get("competences")
    if entries is None:
        return ()
    if not isinstance(entries, list) or not entries:
        report.add(
            path,
            doc.line("digcomp", "competences"),
            "digcomp.competences must be a list of '- id: \"4.2\"' / 'level: 3' entries",
        )
        return ()
    competences: list[Competence] = []
    for index in range(len(entries)):
        where = ("digcomp", "competences", index)
        entry_data = check_mapping(report, path, doc, ("id", "level"), (), where, "a competence")
        if entry_data is None:
            continue
        raw_id = entry_data.get("id")
        competence_id = str(raw_id) if isinstance(raw_id, (str, float)) else raw_id
        level = check_int(report, path, doc, entry_data, "level", 1, 8, where)
        if raw_id is None:
            continue
        if competence_id not in DIGCOMP_22:
            report.add(
                path,
                doc.line(*where, "id"),
                f"unknown DigComp 2.2 competence '{raw_id}' (use 1.1 … 5.4, see FORMAT.md)",
            )
        elif any(c.id == competence_id for c in competences):
            report.add(path, doc.line(*where, "id"), f"competence '{competence_id}' appears twice")
        elif level is not None:
            competences.append(Competence(str(competence_id), level))
    return tuple(competences)


def _check_prerequisites(report: Reporter, draft: _Module, known: set[str]) -> None:
    if draft.doc is None:
        return
    path = draft.folder / "module.yaml"
    for index, prerequisite in enumerate(draft.meta.get("prerequisites", ())):
        line = draft.doc.line("prerequisites", index)
        if prerequisite == draft.folder.name:
            report.add(path, line, "a module cannot be its own prerequisite")
        elif prerequisite not in known:
            report.add(path, line, f"unknown prerequisite '{prerequisite}'")


def _check_cycles(report: Reporter, drafts: list[_Module]) -> None:
    """Prerequisites must not go round in a circle."""
    graph = {d.folder.name: [p for p in d.meta.get("prerequisites", ()) if p != d.folder.name] for d in drafts}
    reported: set[str] = set()
    for draft in drafts:
        start = draft.folder.name
        stack = [(start, [start])]
        visited: set[str] = set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, []):
                if nxt == start and start not in reported:
                    reported.update(trail)
                    assert draft.doc is not None
                    report.add(
                        draft.folder / "module.yaml",
                        draft.doc.line("prerequisites"),
                        "prerequisites form a cycle: " + " → ".join([*trail, start]),
                    )
                elif nxt not in visited and nxt in graph:
                    visited.add(nxt)
                    stack.append((nxt, [*trail, nxt]))


def _front_matter(text: str) -> tuple[str, int] | None:
    """(YAML text, line of its first line) of the front matter, or None."""
    tokens = _FRONT_MATTER_PARSER.parse(text)
    if tokens and tokens[0].type == "front_matter" and tokens[0].map is not None:
        return tokens[0].content, tokens[0].map[0] + 2
    return None


def _read_file(report: Reporter, path: Path, folder: Path) -> _File | None:
    text = _read_text(report, path)
    if text is None:
        return None
    match = _NUMBER_RE.match(path.name)
    if match is None:
        report.add(path, 1, "file name must start with its number, e.g. 01-…")
    number = int(match.group(1)) if match else 10**9
    rel = f"{folder.name}/{path.name}"
    front = _front_matter(text)
    if front is None:
        report.add(path, 1, "missing front matter: start the file with ---, id, title … ---")
        return _File(path, rel, number, text, YamlDoc({}), {}, "lesson", None)
    doc = load_yaml(*front)
    if doc.error is not None:
        report.add(path, *doc.error)
        return _File(path, rel, number, text, doc, {}, "lesson", None)
    data = doc.data if isinstance(doc.data, dict) else {}
    kind = data.get("type", "lesson")
    if not isinstance(kind, str) or kind not in _FRONT_MATTER:  # a list or a mapping is no type either
        report.add(
            path,
            doc.line("type"),
            f"unknown type '{kind}' (use quiz or task; lessons need no type)",
        )
        kind = "lesson"
    required, optional = _FRONT_MATTER[kind]
    meta = check_mapping(report, path, doc, required, optional, name="the front matter") or {}
    item_id = meta.get("id")
    if item_id is not None and (message := id_problem(item_id)) is not None:
        report.add(path, doc.line("id"), message)
        item_id = None
    return _File(path, rel, number, text, doc, meta, kind, item_id)


def _build_module(
    report: Reporter,
    draft: _Module,
    targets: tuple[tuple[str, str, str], ...],
    content_files: frozenset[Path],
    seen: dict[str, tuple[Path, int]],
) -> Module | None:
    """Render and check every file; the Module (None if its metadata is unusable)."""
    meta_path = draft.folder / "module.yaml"
    items: list[Item] = []
    kinds_seen: dict[str, Path] = {}
    for position, file in enumerate(draft.files, start=1):
        if file.kind in ("quiz", "task"):
            if file.kind in kinds_seen:
                report.add(
                    file.path,
                    file.doc.line("type"),
                    f"a module has only one {file.kind} (already: {kinds_seen[file.kind].name})",
                )
            kinds_seen.setdefault(file.kind, file.path)
        items.append(_build_item(report, draft, file, position, targets, content_files, seen))
    if draft.doc is not None and not any(item.kind == "lesson" for item in items):
        report.add(meta_path, 1, "module has no lessons")
    meta = draft.meta
    needed = ("id", "title", "summary", "order", "version", "minutes")
    if draft.doc is None or any(meta.get(key) is None for key in needed):
        return None
    return Module(
        id=meta["id"],
        title=meta["title"],
        summary=meta["summary"],
        order=meta["order"],
        version=meta["version"],
        minutes=meta["minutes"],
        prerequisites=meta["prerequisites"],
        pass_mark=meta["pass_mark"],
        competences=meta["competences"],
        framework=FRAMEWORK,
        items=tuple(items),
        path=draft.folder,
    )


def _build_item(
    report: Reporter,
    draft: _Module,
    file: _File,
    position: int,
    targets: tuple[tuple[str, str, str], ...],
    content_files: frozenset[Path],
    seen: dict[str, tuple[Path, int]],
) -> Item:
    path, doc, meta = file.path, file.doc, file.meta
    module_key = draft.folder.name
    digest = content_hash(file.text, module_key)
    rendered = render_item(file.text, file.kind, RenderContext(file.rel, module_key, targets), digest)
    for line, message in rendered.issues:
        report.add(path, line, message)
    _check_refs(report, path, draft.folder, rendered, content_files)
    title = check_text(report, path, doc, meta, "title") or ""
    minutes = check_int(report, path, doc, meta, "minutes", 1)
    item = Item(
        id=file.id or "",
        kind=file.kind,
        title=title,
        minutes=minutes,
        html=rendered.html,
        position=position,
        source_path=path,
        content_hash=digest,
    )
    if file.kind == "lesson":
        if not rendered.html.strip():
            report.add(path, 1, "lesson has no text")
        return item
    if file.kind == "quiz":
        return _quiz_item(report, item, file, rendered, draft, seen)
    return _task_item(report, item, file, rendered)


def _check_refs(
    report: Reporter,
    path: Path,
    folder: Path,
    rendered: Rendered,
    content_files: frozenset[Path],
) -> None:
    for ref in rendered.refs:
        if ref.kind == "chamber":
            if (message := reference_problem(ref.url)) is not None:
                report.add(path, ref.line, message)
        elif ref.kind == "image":
            check_image(report, path, ref.line, ref.url, ref.alt, folder)
        else:
            check_link(report, path, ref.line, ref.url, folder, content_files)


def _quiz_item(
    report: Reporter,
    item: Item,
    file: _File,
    rendered: Rendered,
    draft: _Module,
    seen: dict[str, tuple[Path, int]],
) -> Item:
    path, doc = file.path, file.doc
    questions = []
    draw = check_int(report, path, doc, file.meta, "draw", 1)
    for raw in rendered.questions:
        kind, group = check_question(report, path, raw)
        if raw.id is not None and id_problem(raw.id) is None:
            _claim_id(report, seen, raw.id, path, raw.line)
        answers = tuple(Answer(a.text_html, a.mark == "x", a.feedback_html or "") for a in raw.answers or ())
        questions.append(Question(raw.id or "", kind, raw.prompt_html, answers, raw.title, raw.title_html, group))
    check_question_count(report, path, len(questions), draw, doc.line("draw"))
    check_groups(
        report, path, [(raw.line, q.group) for raw, q in zip(rendered.questions, questions, strict=True)], draw
    )
    own = check_int(report, path, doc, file.meta, "pass_mark", 1, 100)
    pass_mark = own if own is not None else draft.meta.get("pass_mark", DEFAULT_PASS_MARK)
    return replace(item, questions=tuple(questions), pass_mark=pass_mark, draw=draw)


def _task_item(report: Reporter, item: Item, file: _File, rendered: Rendered) -> Item:
    path, doc, meta = file.path, file.doc, file.meta
    submission = meta.get("submission")
    if submission is not None and submission not in SUBMISSIONS:
        report.add(
            path,
            doc.line("submission"),
            f"unknown submission '{submission}' (use {', '.join(SUBMISSIONS)})",
        )
    check_checklist(report, path, submission, rendered.checklist, doc.line("submission"))
    review = meta.get("review", False)
    if not isinstance(review, bool):
        report.add(path, doc.line("review"), "'review' must be true or false")
        review = False
    checklist = rendered.checklist
    items = tuple(html for _line, _mark, html in (checklist.items or ())) if checklist else ()
    return replace(
        item,
        submission=submission if submission in SUBMISSIONS else None,
        review=review,
        checklist=items if submission == "checklist" else (),
    )


def _load_qualifications(report: Reporter, root: Path, known: set[str], served: list[str]) -> list[Qualification]:
    path = root / QUALIFICATIONS_FILE
    if not path.is_file():
        report.add(path, 1, f"{QUALIFICATIONS_FILE} is missing")
        return []
    doc = load_yaml(_read_text(report, path) or "")
    if doc.error is not None:
        report.add(path, *doc.error)
        return []
    top = check_mapping(report, path, doc, ("qualifications",), (), name=QUALIFICATIONS_FILE)
    entries = top.get("qualifications") if top else None
    if entries is None:
        return []
    if not isinstance(entries, list):
        report.add(path, doc.line("qualifications"), "'qualifications' must be a list")
        return []
    result = []
    ids: set[str] = set()
    for index in range(len(entries)):
        where = ("qualifications", index)
        before = report.count()
        data = check_mapping(
            report,
            path,
            doc,
            ("id", "title", "modules", "live_tutorials"),
            ("description",),
            where,
            "a qualification",
        )
        if data is None:
            continue
        qualification_id = data.get("id")
        if qualification_id is not None:
            if (message := id_problem(qualification_id, "qualification id")) is not None:
                report.add(path, doc.line(*where, "id"), message)
            elif qualification_id in ids:
                report.add(path, doc.line(*where, "id"), f"duplicate qualification id '{qualification_id}'")
            ids.add(str(qualification_id))
        title = check_text(report, path, doc, data, "title", where)
        description = data.get("description") or ""
        if not isinstance(description, str):
            report.add(path, doc.line(*where, "description"), "'description' must be text")
        tutorials = check_int(report, path, doc, data, "live_tutorials", 0, where=where)
        modules = _qualification_modules(report, path, doc, data, where, known, served)
        if report.count() == before and title is not None and tutorials is not None:
            result.append(
                Qualification(
                    str(qualification_id),
                    title,
                    str(description).strip(),
                    modules,
                    tutorials,
                )
            )
    return result


def _qualification_modules(
    report: Reporter,
    path: Path,
    doc: YamlDoc,
    data: dict[str, Any],
    where: tuple[str | int, ...],
    known: set[str],
    served: list[str],
) -> tuple[str, ...]:
    modules = data.get("modules")
    if modules is None:
        return ()
    if modules == "all":
        return tuple(served)
    if not isinstance(modules, list) or not modules:
        report.add(
            path,
            doc.line(*where, "modules"),
            "'modules' must be 'all' or a list of module ids",
        )
        return ()
    for index, module_id in enumerate(modules):
        if module_id not in known:
            report.add(path, doc.line(*where, "modules", index), f"unknown module '{module_id}'")
    return tuple(str(m) for m in modules)


__all__ = [
    "DIGCOMP_22",
    "Answer",
    "Competence",
    "Course",
    "Item",
    "Module",
    "Qualification",
    "Question",
    "find_asset",
    "load_course",
]
