"""Scoring a self-check: single choice, multiple choice, true/false; reading the form strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.courses.content import Item, load_course
from lms.progress.scoring import QuizFormError, grade, read_answers

GOOD = Path(__file__).parent.parent / "courses" / "fixtures" / "good"


@pytest.fixture(scope="module")
def quiz() -> Item:
    module = load_course(GOOD).module("m1-gut")
    assert module is not None and module.quiz is not None
    return module.quiz


def _form(values: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    return lambda name: values.get(name, [])


def _all_correct(quiz: Item) -> dict[str, frozenset[int]]:
    return {q.id: q.correct_indices for q in quiz.questions}


def test_kinds_in_the_fixture(quiz: Item) -> None:
    kinds = {q.id: q.kind for q in quiz.questions}
    assert kinds["m1-q-passwort"] == "single"
    assert kinds["m1-q-profil"] == "multiple"
    assert kinds["m1-q-2fa"] == "true_false"
    assert kinds["m1-q-uebernommen"] == "multiple"  # typ=mehrfach with one correct answer


def test_all_correct_passes_with_100(quiz: Item) -> None:
    result = grade(quiz, _all_correct(quiz))
    assert (result.score, result.correct_count, result.question_count, result.passed) == (100, 6, 6, True)
    assert result.pass_mark == 70  # the module's pass mark


def test_single_choice(quiz: Item) -> None:
    chosen = _all_correct(quiz)
    chosen["m1-q-passwort"] = frozenset({0})
    outcome = next(o for o in grade(quiz, chosen).outcomes if o.question.id == "m1-q-passwort")
    assert not outcome.correct
    chosen["m1-q-passwort"] = frozenset({1})
    assert all(o.correct for o in grade(quiz, chosen).outcomes)


def test_multiple_choice_needs_exactly_the_correct_answers(quiz: Item) -> None:
    def profil(chosen: set[int]) -> bool:
        answers = _all_correct(quiz) | {"m1-q-profil": frozenset(chosen)}
        return next(o for o in grade(quiz, answers).outcomes if o.question.id == "m1-q-profil").correct

    assert profil({0, 1})
    assert not profil({0})  # one correct answer missing
    assert not profil({0, 1, 2})  # one wrong answer too many
    assert not profil({2})


def test_true_false(quiz: Item) -> None:
    wahr_falsch = next(q for q in quiz.questions if q.kind == "true_false")
    assert [a.correct for a in wahr_falsch.answers] == [True, False]
    answers = _all_correct(quiz) | {wahr_falsch.id: frozenset({1})}
    result = grade(quiz, answers)
    assert result.correct_count == 5
    assert result.score == 83  # 5 of 6, rounded down
    assert result.passed


def test_score_is_rounded_down_and_compared_with_the_pass_mark(quiz: Item) -> None:
    answers = _all_correct(quiz)
    for question in quiz.questions[:2]:
        answers[question.id] = frozenset()
    result = grade(quiz, answers)
    assert (result.correct_count, result.score, result.passed) == (4, 66, False)  # 66.7 % < 70 %


def test_read_answers_reads_a_complete_form(quiz: Item) -> None:
    values = {"q-" + q.id: [str(i) for i in sorted(q.correct_indices)] for q in quiz.questions}
    values["csrf_token"] = ["x"]
    values["q-unknown"] = ["1"]
    assert read_answers(quiz, _form(values)) == _all_correct(quiz)


def test_read_answers_reports_missing_and_invalid(quiz: Item) -> None:
    values = {"q-" + q.id: [str(min(q.correct_indices))] for q in quiz.questions}
    del values["q-m1-q-2fa"]
    values["q-m1-q-passwort"] = ["0", "1"]  # two answers to a single choice question
    values["q-m1-q-profil"] = ["0", "7"]  # no answer 7
    values["q-m1-q-phishing"] = ["0", "0"]  # the same twice
    with pytest.raises(QuizFormError) as caught:
        read_answers(quiz, _form(values))
    assert caught.value.missing == ("m1-q-2fa",)
    assert set(caught.value.invalid) == {"m1-q-passwort", "m1-q-profil", "m1-q-phishing"}
    assert caught.value.selections["m1-q-speichern"] == frozenset({1})


@pytest.mark.parametrize("value", ["", "x", "-1", "1.0", "٣", "0" * 4, " 1"])
def test_read_answers_refuses_what_no_form_sends(quiz: Item, value: str) -> None:
    values = {"q-" + q.id: [str(min(q.correct_indices))] for q in quiz.questions}
    values["q-m1-q-passwort"] = [value]
    with pytest.raises(QuizFormError) as caught:
        read_answers(quiz, _form(values))
    assert caught.value.invalid == ("m1-q-passwort",)
