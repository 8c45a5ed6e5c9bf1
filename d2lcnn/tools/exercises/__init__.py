"""Self-checks for the chapters' exercises: answer in a cell, then ask whether it is right.

Every exercise whose answer is a value — a number, a shape, a count, an array, a choice — has a
self-check. In a chapter::

    from d2lcnn.tools.exercises import for_chapter

    exercises = for_chapter(3)
    exercises.q1.check(params=..., macs=...)   # right, or wrong and why
    exercises.q1.hint()                        # a nudge, not the answer
    exercises.q1.solution()                    # where the worked solution is

The expected values are computed by code from the lessons (``d2lcnn.lessons``) when a check runs,
never typed in; each chapter's questions live in the module ``chNN`` beside this one. A question
has one or more named *parts* (``params``, ``macs`` …); a question of one part also takes its
answer without a name, ``exercises.q2.check(answer)``. ``None`` means "not answered yet".

A wrong answer is explained where a reason can be seen: the wrong kind of value, a shape of the
wrong length, a value that a typical slip gives (each question lists its own), or a value off by
a whole factor or by one. The right value itself is never printed by ``check``.
"""

from __future__ import annotations

import importlib
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as onp

__all__ = ["Part", "Question", "Verdict", "ChapterExercises", "for_chapter", "NOT_ANSWERED"]

NOT_ANSWERED = None
"""What a part's answer is before the learner fills it in."""

_FACTORS = (2, 3, 4, 8, 9, 10, 16, 100, 1000, 1024)


@dataclass(frozen=True)
class Part:
    """One value of an exercise's answer.

    ``expected`` computes the right value (an int, a float, a bool, a str, a tuple of ints for a
    shape, or an array). ``what`` says what the value is, in the words of the exercise.
    ``rel_tol``: the relative tolerance for floats and arrays (default 1 %, since learners round).
    ``choices``: for a str answer, the words accepted (compared without case and spaces).
    ``slips``: pairs (function giving the value a typical slip leads to, why it is wrong).
    """

    name: str
    expected: Callable[[], Any]
    what: str
    rel_tol: float = 0.01
    choices: tuple[str, ...] = ()
    slips: tuple[tuple[Callable[[], Any], str], ...] = ()

    def compute(self) -> Any:
        """The right value, computed in MXNet's NumPy mode as the chapters run (a check may be
        called where it is off)."""
        return _in_numpy_mode(self.expected)


@dataclass(frozen=True)
class Verdict:
    """The outcome for one part: ``status`` is ``"right"``, ``"wrong"`` or ``"unanswered"``."""

    part: str
    status: str
    message: str

    @property
    def right(self) -> bool:
        return self.status == "right"


@dataclass(frozen=True)
class Question:
    """The self-check of one exercise: its number in the chapter's list, its parts, a hint."""

    number: int
    parts: tuple[Part, ...]
    hint_text: str
    notebook: str = field(default="", compare=False)  # the chapter's notebook, set by for_chapter

    def verdicts(self, answer: Any = NOT_ANSWERED, /, **answers: Any) -> list[Verdict]:
        """One :class:`Verdict` per part, for ``answer`` (one part) or ``answers`` (by name)."""
        answers = self._by_name(answer, answers)
        return [_judge(part, answers.get(part.name, NOT_ANSWERED)) for part in self.parts]

    def check(self, answer: Any = NOT_ANSWERED, /, **answers: Any) -> None:
        """Print, part by part, whether the answer is right, wrong and why, or still missing."""
        verdicts = self.verdicts(answer, **answers)
        for verdict in verdicts:
            label = f"exercise {self.number}" + (f", {verdict.part}" if len(self.parts) > 1 else "")
            mark = {"right": "✓", "wrong": "✗", "unanswered": "…"}[verdict.status]
            print(f"{mark} {label}: {verdict.message}")
        if any(v.status == "wrong" for v in verdicts):
            print(f"  (exercises.q{self.number}.hint() gives a hint)")

    def hint(self) -> None:
        """Print the hint."""
        print(f"Hint for exercise {self.number}: {self.hint_text}")

    def solution(self) -> None:
        """Say where the worked solution of this exercise is."""
        print(f"The worked solution is in solutions/{self.notebook}.ipynb, section "
              f"\"Exercise {self.number}\" (next to this chapter's notebook).")

    def _by_name(self, answer: Any, answers: dict[str, Any]) -> dict[str, Any]:
        names = [part.name for part in self.parts]
        unknown = sorted(set(answers) - set(names))
        if unknown:
            raise TypeError(f"exercise {self.number} has no part {', '.join(map(repr, unknown))}: "
                            f"its parts are {', '.join(names)}, e.g. "
                            f"check({', '.join(f'{n}=...' for n in names)})")
        if answer is not NOT_ANSWERED:
            if len(self.parts) > 1:
                raise TypeError(f"exercise {self.number} has {len(names)} parts: name each "
                                f"answer, check({', '.join(f'{n}=...' for n in names)})")
            answers = {names[0]: answer}
        return answers


class ChapterExercises:
    """The self-checks of one chapter, as attributes ``q1``, ``q2`` … (see :func:`for_chapter`)."""

    def __init__(self, chapter: int, notebook: str, questions: Sequence[Question]):
        self.chapter = chapter
        self.notebook = notebook
        self.questions = {q.number: q for q in questions}

    def __getattr__(self, name: str) -> Question:
        number = int(name[1:]) if name.startswith("q") and name[1:].isdigit() else None
        if number is None:
            raise AttributeError(name)
        if number not in self.questions:
            checked = ", ".join(f"q{n}" for n in sorted(self.questions)) or "none"
            raise AttributeError(
                f"exercise {number} of chapter {self.chapter:02d} has no self-check (its answer "
                f"is an explanation or a program, not a value): its worked solution is in "
                f"solutions/{self.notebook}.ipynb. Self-checks here: {checked}")
        return self.questions[number]

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *(f"q{n}" for n in self.questions)]

    def __repr__(self) -> str:
        numbers_ = ", ".join(f"q{n}" for n in sorted(self.questions))
        return f"<self-checks of chapter {self.chapter:02d}: {numbers_}>"


def for_chapter(chapter: int) -> ChapterExercises:
    """The self-checks of chapter ``chapter`` (0–16)."""
    if isinstance(chapter, bool) or not isinstance(chapter, numbers.Integral):
        raise TypeError(f"chapter must be the chapter's number, e.g. for_chapter(3), got "
                        f"{chapter!r}")
    try:
        module = importlib.import_module(f"{__name__}.ch{int(chapter):02d}")
    except ModuleNotFoundError:
        raise ValueError(f"chapter {chapter} has no self-checks: the chapters are 0 to 16, "
                         f"e.g. for_chapter(3)") from None
    questions = [Question(q.number, q.parts, q.hint_text, module.NOTEBOOK)
                 for q in module.QUESTIONS]
    return ChapterExercises(int(chapter), module.NOTEBOOK, questions)


# The judging of one part.

def _judge(part: Part, answer: Any) -> Verdict:
    if answer is NOT_ANSWERED:
        return Verdict(part.name, "unanswered",
                       f"not answered yet: replace None by {part.what}")
    expected, answer = _plain(part.compute()), _plain(answer)
    problem = _kind_problem(part, expected, answer)
    if problem:
        return Verdict(part.name, "wrong", problem)
    if _same(part, expected, answer):
        return Verdict(part.name, "right", f"right, {_show(answer)} is {part.what}")
    for slip, why in part.slips:
        if _same(part, _plain(_in_numpy_mode(slip)), answer):
            return Verdict(part.name, "wrong", f"{_show(answer)} is not {part.what}: {why}")
    return Verdict(part.name, "wrong", f"{_show(answer)} is not {part.what}{_how_far(expected, answer)}")


def _kind_problem(part: Part, expected: Any, answer: Any) -> str | None:
    """Why ``answer`` cannot be compared with ``expected`` at all, or None."""
    if isinstance(expected, bool):
        if not isinstance(answer, bool | onp.bool_):
            return f"answer True or False ({part.what}), not {_show(answer)}"
    elif isinstance(expected, numbers.Integral):
        if not _is_number(answer) or (isinstance(answer, numbers.Real)
                                      and not float(answer).is_integer()):
            return f"{part.what} is a whole number, not {_show(answer)}"
    elif isinstance(expected, numbers.Real):
        if not _is_number(answer):
            return f"{part.what} is a number, not {_show(answer)}"
    elif isinstance(expected, str):
        if not isinstance(answer, str):
            return f"answer with one of {', '.join(map(repr, part.choices))}, not {_show(answer)}"
        if part.choices and _word(answer) not in map(_word, part.choices):
            return f"answer with one of {', '.join(map(repr, part.choices))}, not {answer!r}"
    elif isinstance(expected, tuple):
        if not isinstance(answer, tuple | list) or not all(_is_number(a) for a in answer):
            return f"{part.what} is a tuple of {len(expected)} numbers, not {_show(answer)}"
        if len(answer) != len(expected):
            return (f"{part.what} has {len(expected)} numbers, your answer has {len(answer)}")
    else:  # an array
        shape = onp.shape(expected)
        try:
            answer_shape = onp.shape(onp.asarray(answer, dtype=float))
        except (TypeError, ValueError):
            return f"{part.what} is an array of shape {shape}, not {_show(answer)}"
        if answer_shape != shape:
            return f"{part.what} has the shape {shape}, your answer has the shape {answer_shape}"
    return None


def _same(part: Part, expected: Any, answer: Any) -> bool:
    if isinstance(expected, bool) or isinstance(expected, numbers.Integral):
        return answer == expected
    if isinstance(expected, numbers.Real):
        return math.isclose(float(answer), float(expected), rel_tol=part.rel_tol, abs_tol=1e-9)
    if isinstance(expected, str):
        return _word(answer) == _word(expected)
    if isinstance(expected, tuple):
        return tuple(answer) == expected
    answer = onp.asarray(answer, dtype=float)
    return onp.shape(answer) == onp.shape(expected) and bool(
        onp.allclose(answer, onp.asarray(expected, dtype=float), rtol=part.rel_tol, atol=1e-6))


def _how_far(expected: Any, answer: Any) -> str:
    """A remark for a number off by a whole factor or by one; empty otherwise."""
    if isinstance(expected, bool) or not (_is_number(expected) and _is_number(answer)):
        return ""
    expected, answer = float(expected), float(answer)
    if expected == 0 or answer == 0:
        return ""
    for factor in _FACTORS:
        for ratio, word in ((answer / expected, "large"), (expected / answer, "small")):
            if math.isclose(ratio, factor, rel_tol=1e-3):
                return f": it is {factor} times too {word}"
    if abs(answer - expected) == 1 and expected.is_integer():
        return ": it is off by one"
    return ""


def _in_numpy_mode(function: Callable[[], Any]) -> Any:
    import mxnet as mx

    with mx.util.np_shape(True), mx.util.np_array(True):
        return function()


def _plain(value: Any) -> Any:
    """MXNet arrays as NumPy arrays, 0-d arrays as Python numbers, NumPy tuples of ints as ints."""
    if hasattr(value, "asnumpy"):
        value = value.asnumpy()
    if isinstance(value, onp.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, onp.generic):
        value = value.item()
    if isinstance(value, tuple):
        value = tuple(v.item() if isinstance(v, onp.generic) else v for v in value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | onp.bool_)


def _word(text: str) -> str:
    return "".join(text.lower().split())


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = repr(value) if not isinstance(value, onp.ndarray) else f"an array {value.shape}"
    return text if len(text) <= 60 else text[:57] + "..."
