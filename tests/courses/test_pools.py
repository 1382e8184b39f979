"""Question pools in the content format (courses/FORMAT.md: draw, gruppe) and their `courses check` rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.courses.content import load_course
from lms.courses.review import check_course, check_warnings
from tests.courses.test_check import _module, _qualifications


def _question(number: int, attrs: str = "") -> str:
    suffix = f" {attrs}" if attrs else ""
    return (
        f"## Frage {number}? {{#m1-q-{number}{suffix}}}\n\n"
        f"- [x] Antwort eins {number}\n  Feedback: Richtig.\n"
        f"- [ ] Antwort zwei {number}\n  Feedback: Leider nicht.\n\n"
    )


def _quiz(root: Path, questions: int, front: str = "draw: 6\n", attrs: dict[int, str] | None = None) -> Path:
    folder = _module(root, "m1")
    _qualifications(root)
    body = "".join(_question(n, (attrs or {}).get(n, "")) for n in range(1, questions + 1))
    path = folder / "90-selbstcheck.md"
    path.write_text(f"---\nid: m1-selbstcheck\ntype: quiz\ntitle: Check\n{front}---\n\nIntro.\n\n{body}", "utf-8")
    return path


def _problems(root: Path) -> list[str]:
    return [str(p) for p in check_course(root)]


def test_a_pool_loads_with_its_draw_and_groups(tmp_path: Path) -> None:
    _quiz(tmp_path, 12, "draw: 8\n", {1: "gruppe=passwort", 2: "gruppe=passwort typ=mehrfach", 3: "gruppe=phishing"})
    course = load_course(tmp_path)
    assert course.problems == ()
    quiz = course.modules[0].quiz
    assert quiz is not None
    assert (quiz.draw, quiz.drawn_count, quiz.is_pool, len(quiz.questions)) == (8, 8, True, 12)
    assert [q.group for q in quiz.questions[:4]] == ["passwort", "passwort", "phishing", ""]
    assert quiz.questions[1].kind == "multiple"
    assert check_warnings(tmp_path) == []


def test_more_than_ten_questions_need_a_draw(tmp_path: Path) -> None:
    _quiz(tmp_path, 12, front="")
    assert _problems(tmp_path) == [
        "m1/90-selbstcheck.md:1: a self-check needs 6 to 10 questions, found 12 (or draw: 6 to 10 of them per attempt)"
    ]


def test_draw_larger_than_the_pool_is_an_error(tmp_path: Path) -> None:
    _quiz(tmp_path, 7, "draw: 8\n")
    assert _problems(tmp_path) == ["m1/90-selbstcheck.md:5: draw: 8 is more than the 7 questions of the pool"]


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("draw: 4\n", "m1/90-selbstcheck.md:5: draw: a self-check shows 6 to 10 questions, not 4"),
        ("draw: 11\n", "m1/90-selbstcheck.md:5: draw: a self-check shows 6 to 10 questions, not 11"),
        ("draw: acht\n", "m1/90-selbstcheck.md:5: 'draw' must be a whole number of at least 1, not 'acht'"),
    ],
)
def test_draw_must_be_six_to_ten(tmp_path: Path, front: str, expected: str) -> None:
    _quiz(tmp_path, 12, front)
    assert expected in _problems(tmp_path)


def test_a_pool_has_at_most_thirty_questions(tmp_path: Path) -> None:
    _quiz(tmp_path, 31, "draw: 8\n")
    assert _problems(tmp_path) == ["m1/90-selbstcheck.md:1: a question pool has at most 30 questions, found 31"]


def test_groups_need_a_draw_and_must_fit_into_it(tmp_path: Path) -> None:
    _quiz(tmp_path, 8, front="", attrs={2: "gruppe=a"})
    assert _problems(tmp_path) == [
        "m1/90-selbstcheck.md:16: gruppe=… only matters when the front matter says draw: (questions per attempt)"
    ]


def test_more_groups_than_the_draw_is_an_error(tmp_path: Path) -> None:
    _quiz(tmp_path, 10, "draw: 6\n", {n: f"gruppe=g{n}" for n in range(1, 8)})
    assert _problems(tmp_path) == [
        "m1/90-selbstcheck.md:1: 7 groups cannot each get a question in a draw of 6: "
        "use fewer groups or draw more questions"
    ]


def test_group_names_are_ids(tmp_path: Path) -> None:
    _quiz(tmp_path, 10, "draw: 6\n", {1: "gruppe=Große_Gruppe"})
    (problem,) = _problems(tmp_path)
    assert problem.startswith("m1/90-selbstcheck.md:10: invalid group 'Große_Gruppe'")


@pytest.mark.parametrize(
    ("questions", "draw", "expected"),
    [
        (8, 8, "draw: 8 takes the whole pool of 8 questions, so every attempt shows the same ones"),
        (9, 8, "a pool of 9 questions for draw: 8 hardly varies between attempts; write at least 10 questions"),
        (10, 8, None),
        (7, 6, "a pool of 7 questions for draw: 6 hardly varies between attempts; write at least 8 questions"),
        (8, 6, None),
    ],
)
def test_a_pool_too_small_to_vary_is_a_warning(tmp_path: Path, questions: int, draw: int, expected: str | None) -> None:
    _quiz(tmp_path, questions, f"draw: {draw}\n")
    assert check_course(tmp_path) == []  # loads and is served
    warnings = [str(w) for w in check_warnings(tmp_path)]
    assert warnings == ([f"m1/90-selbstcheck.md:1: warning: {expected}"] if expected else [])
