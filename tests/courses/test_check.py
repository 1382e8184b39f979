"""The checker: every rule of courses/FORMAT.md reports the right file, line and message."""

from pathlib import Path

import pytest

from lms.courses.check import Problem, load_yaml
from lms.courses.content import load_course
from lms.courses.review import check_course

FIXTURES = Path(__file__).parent / "fixtures"
GOOD = FIXTURES / "good"
BAD = FIXTURES / "bad"

ID_RULE = "use lowercase letters, digits and hyphens only (no hyphen at the start or end)"
ALLOWED_MODULE_KEYS = "digcomp, id, minutes, order, pass_mark, prerequisites, summary, title, version"

# (rule, exact problem) — one failing fixture per rule in fixtures/bad/
EXPECTED = [
    ("module id syntax", f"Gross-Modul/module.yaml:1: invalid module id 'Gross-Modul': {ID_RULE}"),
    (
        "unknown submission",
        "aufgabe-abgabe/95-aufgabe.md:5: unknown submission 'upload' (use link, text, checklist)",
    ),
    (
        "checklist in a non-checklist task",
        "aufgabe-mit-checkliste/95-aufgabe.md:12: '## Checkliste' is only for submission: checklist (this task: text)",
    ),
    (
        "checklist task without checklist",
        "aufgabe-ohne-checkliste/95-aufgabe.md:5: "
        "submission: checklist needs a '## Checkliste' section with a task list",
    ),
    (
        "checklist heading without task list",
        "checkliste-ohne-liste/95-aufgabe.md:12: '## Checkliste' needs a task list (- [ ] …)",
    ),
    (
        "id equals folder",
        "id-falsch/module.yaml:1: id 'anderes-modul' must equal the folder name 'id-falsch'",
    ),
    ("module.yaml missing", "kein-modul-yaml/module.yaml:1: module.yaml is missing"),
    (
        "front matter missing",
        "lektion-fehler/01-ohne-front-matter.md:1: missing front matter: start the file with ---, id, title … ---",
    ),
    ("item id syntax", f"lektion-fehler/02-ohne-minuten.md:2: invalid id 'Lektion_2': {ID_RULE}"),
    ("lesson minutes missing", "lektion-fehler/02-ohne-minuten.md:2: missing key 'minutes'"),
    (
        "unknown type",
        "lektion-fehler/03-typ-unbekannt.md:3: unknown type 'video' (use quiz or task; lessons need no type)",
    ),
    (
        "minutes not a number",
        "lektion-fehler/04-minuten-text.md:4: 'minutes' must be a whole number of at least 1, not 'zehn'",
    ),
    (
        "duplicate id in a module",
        "lektion-fehler/05-doppelt.md:2: duplicate id 'lektion-fehler-vier' "
        "(already used in lektion-fehler/04-minuten-text.md:2)",
    ),
    (
        "level-1 heading",
        "lektion-fehler/06-ueberschrift.md:9: level-1 heading (#) is not allowed: the title is shown for you",
    ),
    (
        "file without number",
        "lektion-fehler/lektion-ohne-nummer.md:1: file name must start with its number, e.g. 01-…",
    ),
    (
        "broken link to another module",
        "markdown-fehler/01-links.md:7: broken link: '../ok-modul/99-fehlt.md' does not exist",
    ),
    ("broken link", "markdown-fehler/01-links.md:7: broken link: '02-fehlt.md' does not exist"),
    ("data: link", "markdown-fehler/01-links.md:8: data: links are not allowed"),
    ("javascript: link", "markdown-fehler/01-links.md:8: javascript: links are not allowed"),
    (
        "protocol-relative link",
        "markdown-fehler/01-links.md:9: protocol-relative link '//evil.example/seite' is not allowed: write https://",
    ),
    ("vbscript: link", "markdown-fehler/01-links.md:9: vbscript: links are not allowed"),
    (
        "link to a non-content file",
        "markdown-fehler/01-links.md:10: "
        "link target '../ok-modul/module.yaml' is neither a lesson (.md) nor a file in assets/",
    ),
    (
        "other scheme",
        "markdown-fehler/01-links.md:10: links with 'ftp:' are not allowed (use https://, mailto: or a lesson file)",
    ),
    (
        "link to a non-lesson .md",
        "markdown-fehler/01-links.md:11: link target 'REVIEW.md' is not a lesson of the course",
    ),
    ("broken image", "markdown-fehler/02-bilder.md:7: image not found: 'assets/fehlt.png'"),
    (
        "image outside assets",
        "markdown-fehler/02-bilder.md:9: image 'bild.png' must be in this module's assets/ folder",
    ),
    (
        "missing alt text",
        "markdown-fehler/02-bilder.md:11: image has no alt text: describe what the picture shows",
    ),
    (
        "protocol-relative image",
        "markdown-fehler/02-bilder.md:13: external image '//evil.example/t.png' is not allowed: "
        "put the file in this module's assets/",
    ),
    (
        "external image",
        "markdown-fehler/02-bilder.md:13: external image 'https://evil.example/t.png' is not "
        "allowed: put the file in this module's assets/",
    ),
    (
        "image type",
        "markdown-fehler/02-bilder.md:15: image type '.gif' is not allowed (use SVG, PNG, JPEG or WebP)",
    ),
    ("inline HTML", "markdown-fehler/03-html.md:7: raw HTML is not allowed"),
    ("HTML block", "markdown-fehler/03-html.md:9: raw HTML is not allowed"),
    ("HTML on a continuation line", "markdown-fehler/03-html.md:14: raw HTML is not allowed"),
    (
        "unknown box",
        "markdown-fehler/04-kaesten.md:7: unknown box '::: warnung' (use beispiel, tipp, achtung, merke, recht)",
    ),
    ("stray box end", "markdown-fehler/04-kaesten.md:12: ':::' closes no box"),
    ("unclosed box", "markdown-fehler/04-kaesten.md:14: box '::: tipp' is not closed"),
    ("missing module key", "meta-fehler/module.yaml:1: missing key 'title'"),
    (
        "order not a number",
        "meta-fehler/module.yaml:3: 'order' must be a whole number of at least 0, not 'erst'",
    ),
    (
        "version not text",
        "meta-fehler/module.yaml:4: 'version' must be text in quotes, e.g. \"1.0\"",
    ),
    (
        "module minutes not a number",
        "meta-fehler/module.yaml:5: 'minutes' must be a whole number of at least 1, not 'viel'",
    ),
    (
        "unknown module key",
        f"meta-fehler/module.yaml:6: unknown key 'passmark' (allowed: {ALLOWED_MODULE_KEYS})",
    ),
    ("unknown prerequisite", "meta-fehler/module.yaml:7: unknown prerequisite 'm9-gibt-es-nicht'"),
    (
        "framework",
        "meta-fehler/module.yaml:9: digcomp.framework must be \"DigComp 2.2\", not 'DigComp 2.1'",
    ),
    (
        "unknown competence",
        "meta-fehler/module.yaml:11: unknown DigComp 2.2 competence '6.1' (use 1.1 … 5.4, see FORMAT.md)",
    ),
    (
        "competence level",
        "meta-fehler/module.yaml:14: 'level' must be a whole number from 1 to 8, not 9",
    ),
    ("module without lessons", "ohne-lektion/module.yaml:1: module has no lessons"),
    ("qualification: unknown module", "qualifications.yaml:8: unknown module 'm9-gibt-es-nicht'"),
    ("qualification: missing key", "qualifications.yaml:10: missing key 'live_tutorials'"),
    (
        "question without id",
        "quiz-fehler/90-selbstcheck.md:9: question has no id: end the heading with {#your-question-id}",
    ),
    (
        "no correct answer",
        "quiz-fehler/90-selbstcheck.md:16: question has no correct answer: mark one with [x]",
    ),
    ("answer without feedback", "quiz-fehler/90-selbstcheck.md:25: answer has no 'Feedback:' line"),
    (
        "true/false answers",
        "quiz-fehler/90-selbstcheck.md:29: typ=wahr-falsch needs exactly the two answers 'Wahr' and 'Falsch'",
    ),
    (
        "explicit single choice",
        "quiz-fehler/90-selbstcheck.md:36: typ=einfach needs exactly one correct answer, found 2",
    ),
    (
        "unknown question type",
        "quiz-fehler/90-selbstcheck.md:43: unknown question type 'typ=ranking' (use einfach, mehrfach, wahr-falsch)",
    ),
    (
        "question without answers",
        "quiz-fehler/90-selbstcheck.md:50: question has no answers: add a task list (- [x] / - [ ])",
    ),
    (
        "answer without marker",
        "quiz-fehler/90-selbstcheck.md:58: answer must start with [x] (correct) or [ ] (wrong)",
    ),
    (
        "text after answers",
        "quiz-fehler/90-selbstcheck.md:61: text after the answers is not shown: move it above them",
    ),
    (
        "question id used by a lesson",
        "quiz-fehler/90-selbstcheck.md:63: duplicate id 'ok-modul-lektion' (already used in ok-modul/01-lektion.md:2)",
    ),
    (
        "quiz without questions",
        "quiz-leer/90-selbstcheck.md:1: quiz has no questions (## Question … {#question-id})",
    ),
    (
        "too few questions",
        "quiz-zu-kurz/90-selbstcheck.md:1: a self-check needs 6 to 10 questions, found 2",
    ),
    (
        "invalid YAML",
        "yaml-kaputt/module.yaml:2: invalid YAML: mapping values are not allowed in this context",
    ),
    (
        "two tasks",
        "zwei-aufgaben/96-aufgabe.md:3: a module has only one task (already: 95-aufgabe.md)",
    ),
    (
        "two quizzes",
        "zwei-quiz/91-selbstcheck.md:3: a module has only one quiz (already: 90-selbstcheck.md)",
    ),
    (
        "duplicate id across modules",
        "zz-doppelt-modulweit/01-lektion.md:2: duplicate id 'ok-modul-lektion' "
        "(already used in ok-modul/01-lektion.md:2)",
    ),
]


@pytest.fixture(scope="module")
def bad_problems() -> list[str]:
    return [str(problem) for problem in check_course(BAD)]


def test_good_course_has_no_problems() -> None:
    assert check_course(GOOD) == []


@pytest.mark.parametrize(("rule", "expected"), EXPECTED, ids=[rule for rule, _ in EXPECTED])
def test_rule_is_reported_at_its_line(bad_problems: list[str], rule: str, expected: str) -> None:
    assert expected in bad_problems


def test_nothing_else_is_reported(bad_problems: list[str]) -> None:
    assert bad_problems == [expected for _rule, expected in EXPECTED]


def test_problem_lines_point_at_the_offending_source_line() -> None:
    """The reported line really holds what the message is about."""
    for problem in check_course(BAD):
        if problem.line <= 1 or problem.path.suffix != ".md":
            continue
        line = (BAD / problem.path).read_text(encoding="utf-8").splitlines()[problem.line - 1]
        if "duplicate id" in problem.message or "question" in problem.message:
            assert line.startswith(("id:", "## ")), problem
        elif "HTML" in problem.message:
            assert "<" in line, problem
        elif "image" in problem.message:
            assert "![" in line, problem
        elif problem.message.startswith(("broken link", "link", "javascript", "data", "vbscript")):
            assert "](" in line, problem


def test_problem_str_is_file_line_message() -> None:
    problem = Problem(Path("m1/01-a.md"), 3, "raw HTML is not allowed")
    assert str(problem) == "m1/01-a.md:3: raw HTML is not allowed"


def test_check_course_equals_load_course_problems() -> None:
    assert check_course(BAD) == list(load_course(BAD).problems)


def test_missing_course_folder(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert [str(p) for p in check_course(missing)] == [f"{missing}:1: course folder not found"]


def _module(root: Path, module_id: str, prerequisites: str = "[]") -> Path:
    folder = root / module_id
    folder.mkdir(parents=True)
    (folder / "module.yaml").write_text(
        f'id: {module_id}\ntitle: "T"\nsummary: S\norder: 1\nversion: "1"\nminutes: 5\n'
        f"prerequisites: {prerequisites}\n"
        'digcomp:\n  framework: "DigComp 2.2"\n  competences:\n    - id: 1.1\n      level: 2\n',
        encoding="utf-8",
    )
    (folder / "01-a.md").write_text(f"---\nid: {module_id}-a\ntitle: A\nminutes: 5\n---\n\nText.\n", encoding="utf-8")
    return folder


def _qualifications(root: Path, text: str = "qualifications: []\n") -> None:
    (root / "qualifications.yaml").write_text(text, encoding="utf-8")


def test_missing_qualifications_file(tmp_path: Path) -> None:
    _module(tmp_path, "m1")
    assert [str(p) for p in check_course(tmp_path)] == ["qualifications.yaml:1: qualifications.yaml is missing"]


def test_unquoted_competence_id_is_accepted(tmp_path: Path) -> None:
    _module(tmp_path, "m1")  # writes `id: 1.1` without quotes
    _qualifications(tmp_path)
    course = load_course(tmp_path)
    assert course.problems == ()
    assert course.modules[0].competences[0].id == "1.1"


def test_prerequisite_cycle(tmp_path: Path) -> None:
    _module(tmp_path, "m1", "[m2]")
    _module(tmp_path, "m2", "[m1]")
    _qualifications(tmp_path)
    assert [str(p) for p in check_course(tmp_path)] == ["m1/module.yaml:7: prerequisites form a cycle: m1 → m2 → m1"]


def test_own_prerequisite(tmp_path: Path) -> None:
    _module(tmp_path, "m1", "[m1]")
    _qualifications(tmp_path)
    assert [str(p) for p in check_course(tmp_path)] == ["m1/module.yaml:7: a module cannot be its own prerequisite"]


def test_duplicate_yaml_key_and_duplicate_qualification(tmp_path: Path) -> None:
    _module(tmp_path, "m1")
    (tmp_path / "m1" / "01-a.md").write_text(
        "---\nid: m1-a\ntitle: A\ntitle: B\nminutes: 5\n---\n\nText.\n", encoding="utf-8"
    )
    _qualifications(
        tmp_path,
        "qualifications:\n"
        "  - {id: q, title: Q, modules: all, live_tutorials: 0}\n"
        "  - {id: q, title: Q, modules: [m1], live_tutorials: -1}\n",
    )
    assert [str(p) for p in check_course(tmp_path)] == [
        "m1/01-a.md:4: key 'title' appears twice",
        "qualifications.yaml:3: 'live_tutorials' must be a whole number of at least 0, not -1",
        "qualifications.yaml:3: duplicate qualification id 'q'",
    ]


def test_quiz_pass_mark_and_answer_feedback_rules(tmp_path: Path) -> None:
    _module(tmp_path, "m1")
    _qualifications(tmp_path)
    answers = "- [x] Ja\n  Feedback: Gut.\n- [ ] Nein\n  Feedback: Nein.\n"
    questions = "".join(f"\n## Frage {n} {{#m1-q{n}}}\n\n{answers}" for n in range(5))
    (tmp_path / "m1" / "90-check.md").write_text(
        "---\nid: m1-check\ntype: quiz\ntitle: Check\npass_mark: 120\n---\n"
        + questions
        + "\n## Letzte {#m1-q9}\n\n"
        + "- [x] Ja\n  Feedback:\n- [ ] Nein\n  Feedback: x\n\n  Noch mehr.\n",
        encoding="utf-8",
    )
    assert [str(p) for p in check_course(tmp_path)] == [
        "m1/90-check.md:5: 'pass_mark' must be a whole number from 1 to 100, not 120",
        "m1/90-check.md:45: answer has an empty 'Feedback:' line",
        "m1/90-check.md:47: answer has more than its text and one 'Feedback:' paragraph",
    ]


def test_checklist_items_must_be_unticked(tmp_path: Path) -> None:
    _module(tmp_path, "m1")
    _qualifications(tmp_path)
    (tmp_path / "m1" / "95-task.md").write_text(
        "---\nid: m1-task\ntype: task\ntitle: T\nsubmission: checklist\nreview: ja\n---\n\n"
        "Tu es.\n\n## Checkliste\n\n- [x] Schon erledigt\n- Ohne Kästchen\n",
        encoding="utf-8",
    )
    assert [str(p) for p in check_course(tmp_path)] == [
        "m1/95-task.md:6: 'review' must be true or false",
        "m1/95-task.md:13: checklist items start unticked: write - [ ]",
        "m1/95-task.md:14: checklist item must start with [ ]",
    ]


def test_absolute_link_and_absolute_image(tmp_path: Path) -> None:
    _module(tmp_path, "m1")
    _qualifications(tmp_path)
    (tmp_path / "m1" / "01-a.md").write_text(
        "---\nid: m1-a\ntitle: A\nminutes: 5\n---\n\n[x](/admin) ![Bild](/etc/bild.png)\n"
        "![Bild](data:image/png;base64,AAAA)\n",
        encoding="utf-8",
    )
    assert [str(p) for p in check_course(tmp_path)] == [
        "m1/01-a.md:7: absolute link '/admin' is not allowed: link relative to this file",
        "m1/01-a.md:7: image path '/etc/bild.png' must be relative, like assets/bild.svg",
        "m1/01-a.md:8: data: URLs are not allowed for images: put the file in assets/",
    ]


def test_load_yaml_reports_error_line_and_never_raises() -> None:
    doc = load_yaml("a: 1\nb: [unclosed\n", first_line=2)
    assert doc.data is None
    assert doc.error is not None and doc.error[0] >= 3
    nested = load_yaml("x:\n  y:\n    - z: 1\n")
    assert nested.line("x", "y", 0, "z") == 3
    assert nested.line("x", "missing") == 1


def test_a_quiz_whose_right_answers_are_the_longest_gets_a_warning_not_a_failure(tmp_path: Path) -> None:
    """`courses check` warns when the correct option of most single-choice questions is the longest one."""
    import shutil

    from lms.courses.review import check_warnings

    course = tmp_path / "course"
    shutil.copytree(GOOD, course)
    quiz = course / "m1-gut" / "90-selbstcheck.md"
    questions = "".join(
        f"\n## Frage {n}? {{#m1-q-lang-{n}}}\n\n"
        "- [ ] Kurz\n  Feedback: Nein.\n"
        "- [x] Eine deutlich längere und damit verräterische Antwort\n  Feedback: Ja.\n"
        "- [ ] Knapp\n  Feedback: Nein.\n"
        for n in range(4)
    )
    quiz.write_text(quiz.read_text(encoding="utf-8") + questions, encoding="utf-8")
    assert check_course(course) == []
    warnings = check_warnings(course)
    assert len(warnings) == 1
    assert str(warnings[0]).startswith("m1-gut/90-selbstcheck.md:1: warning: in ")
    assert check_warnings(GOOD) == []
