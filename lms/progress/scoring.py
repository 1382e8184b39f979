"""Drawing, reading and scoring a self-check (courses/FORMAT.md, "The self-check"). Pure functions, no database.

A self-check with a question pool (``draw:``) shows a drawn set of its questions per attempt
(:func:`draw_questions`); reading and grading then cover only that set. A question counts as correct only
when exactly its correct answers are chosen (single choice, true/false:
the one correct answer; multiple choice: all correct ones and no other). The score is the share of
correct questions in percent, rounded down; the self-check is passed when the score reaches the pass mark.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass

from lms.courses.content import DEFAULT_PASS_MARK, Item, Question

FIELD_PREFIX = "q-"
SINGLE_KINDS = ("single", "true_false")


def field_name(question: Question) -> str:
    """Name of the form field holding the answers to `question`."""
    return FIELD_PREFIX + question.id


@dataclass(frozen=True)
class QuestionOutcome:
    question: Question
    chosen: frozenset[int]

    @property
    def correct(self) -> bool:
        return self.chosen == self.question.correct_indices


@dataclass(frozen=True)
class QuizResult:
    outcomes: tuple[QuestionOutcome, ...]
    pass_mark: int

    @property
    def question_count(self) -> int:
        return len(self.outcomes)

    @property
    def correct_count(self) -> int:
        return sum(1 for outcome in self.outcomes if outcome.correct)

    @property
    def score(self) -> int:
        """Percent of questions answered correctly, rounded down."""
        if not self.outcomes:
            return 0
        return self.correct_count * 100 // self.question_count

    @property
    def passed(self) -> bool:
        return bool(self.outcomes) and self.score >= self.pass_mark


class QuizFormError(ValueError):
    """The answers cannot be scored: questions left out, or values no form of ours can send."""

    def __init__(
        self, missing: tuple[str, ...], invalid: tuple[str, ...], selections: dict[str, frozenset[int]]
    ) -> None:
        super().__init__("quiz form incomplete or invalid")
        self.missing = missing  # question ids without an answer
        self.invalid = invalid  # question ids with values that are not answers of the question
        self.selections = selections  # what could be read, to show the form again as it was


def draw_questions(item: Item, avoid: Collection[str] = (), rng: random.Random | None = None) -> tuple[Question, ...]:
    """The questions of one attempt: all of them, or for a pool `item.drawn_count` chosen at random, at least
    one of each group, preferring questions not in `avoid` (those of the last attempt). In the file's order."""
    pool = item.questions
    if not item.is_pool:
        return pool
    rng = rng or random.SystemRandom()
    fresh = [q for q in pool if q.id not in avoid]
    seen = [q for q in pool if q.id in avoid]
    rng.shuffle(fresh)
    rng.shuffle(seen)
    ranked = fresh + seen  # unseen first, each part in random order
    chosen: list[Question] = []
    groups = sorted({q.group for q in pool if q.group})
    rng.shuffle(groups)
    for group in groups[: item.drawn_count]:  # `courses check` makes sure every group fits
        chosen.append(next(q for q in ranked if q.group == group))
    for question in ranked:
        if len(chosen) >= item.drawn_count:
            break
        if question not in chosen:
            chosen.append(question)
    ids = {q.id for q in chosen}
    return tuple(q for q in pool if q.id in ids)


def questions_by_id(item: Item, question_ids: Iterable[str]) -> tuple[Question, ...] | None:
    """The item's questions with these ids in the item's order, or None when any of them is gone."""
    wanted = list(question_ids)
    by_id = {q.id: q for q in item.questions}
    if not wanted or any(qid not in by_id for qid in wanted):
        return None
    keep = set(wanted)
    return tuple(q for q in item.questions if q.id in keep)


def read_answers(
    item: Item, getlist: Callable[[str], list[str]], questions: tuple[Question, ...] | None = None
) -> dict[str, frozenset[int]]:
    """The chosen answer positions per question id of `questions` (default: all of the item's), read from form
    values; raises QuizFormError."""
    selections: dict[str, frozenset[int]] = {}
    missing: list[str] = []
    invalid: list[str] = []
    for question in item.questions if questions is None else questions:
        raw = getlist(field_name(question))
        if not raw:
            missing.append(question.id)
            continue
        chosen: set[int] = set()
        bad = False
        for value in raw:
            if not value.isascii() or not value.isdigit() or len(value) > 3:
                bad = True
                continue
            index = int(value)
            if index >= len(question.answers) or index in chosen:
                bad = True
                continue
            chosen.add(index)
        if question.kind in SINGLE_KINDS and len(raw) > 1:
            bad = True
        if bad:
            invalid.append(question.id)
        elif chosen:
            selections[question.id] = frozenset(chosen)
    if missing or invalid:
        raise QuizFormError(tuple(missing), tuple(invalid), selections)
    return selections


def grade(
    item: Item, selections: dict[str, frozenset[int]], questions: tuple[Question, ...] | None = None
) -> QuizResult:
    """Score the chosen answers against the self-check `item`, or against the `questions` drawn for this attempt
    (unanswered questions count as wrong; questions not drawn do not count)."""
    asked = item.questions if questions is None else questions
    outcomes = tuple(QuestionOutcome(question, selections.get(question.id, frozenset())) for question in asked)
    return QuizResult(outcomes, item.pass_mark or DEFAULT_PASS_MARK)
