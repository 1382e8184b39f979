"""What `medienwerk courses check` reports: the problems the loader found (a module with any is not served)
and warnings: things that load fine but weaken the course."""

from __future__ import annotations

import re
from pathlib import Path

from lms.courses.check import Problem
from lms.courses.content import load_course


def check_course(path: Path) -> list[Problem]:
    """Every problem in the course folder at `path`, in file and line order."""
    return list(load_course(path).problems)


# --- warnings: allowed, but worth a look ---------------------------------------------------------

LONGEST_SHARE = 50  # percent of a module's single-choice questions


def _text_length(html: str) -> int:
    return len(" ".join(re.sub(r"<[^>]+>", " ", html).split()))


def pool_warning(pool: int, draw: int | None) -> str | None:
    """Why a question pool hardly varies between attempts, or None: a draw of the whole pool shows the same
    questions every time; fewer spare questions than a quarter of the draw change too little."""
    if draw is None or draw > pool:
        return None
    if draw == pool:
        return f"warning: draw: {draw} takes the whole pool of {pool} questions, so every attempt shows the same ones"
    if (pool - draw) * 4 < draw:
        return (
            f"warning: a pool of {pool} questions for draw: {draw} hardly varies between attempts; "
            f"write at least {draw + -(-draw // 4)} questions"
        )
    return None


def check_warnings(path: Path) -> list[Problem]:
    """Things that load fine but weaken the course: self-checks in which the correct answer of most
    single-choice questions is the longest option (learners then guess it without knowing the topic), and
    question pools too small to vary between attempts."""
    course = load_course(path)
    root = path.resolve()
    warnings = []
    for module in course.modules:
        quiz = module.quiz
        if quiz is None:
            continue
        if (pool := pool_warning(len(quiz.questions), quiz.draw)) is not None:
            source = quiz.source_path
            where = source.relative_to(root) if source.is_relative_to(root) else source
            warnings.append(Problem(where, 1, pool))
        singles = [q for q in quiz.questions if q.kind == "single" and len(q.answers) > 1]
        longest = 0
        for question in singles:
            lengths = [_text_length(a.text_html) for a in question.answers]
            right = [n for n, a in zip(lengths, question.answers, strict=True) if a.correct]
            wrong = [n for n, a in zip(lengths, question.answers, strict=True) if not a.correct]
            if right and wrong and min(right) > max(wrong):
                longest += 1
        if len(singles) >= 3 and longest * 100 > LONGEST_SHARE * len(singles):
            source = quiz.source_path
            where = source.relative_to(root) if source.is_relative_to(root) else source
            warnings.append(
                Problem(
                    where,
                    1,
                    f"warning: in {longest} of {len(singles)} single-choice questions the correct answer is the "
                    "longest option; make the distractors about as long, or learners guess without knowing",
                )
            )
    return warnings
