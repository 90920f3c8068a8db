"""Judges: an extractor plus a comparison, and APE's strict exact match beside it.

Each judge is a small frozen dataclass (picklable into Ray tasks) whose ``name`` goes into
evaluation keys, so changing a task's scorer never reuses another scorer's rows. The
scorers a user can declare for a JSONL task are :data:`SCORERS`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from promptopt.extract import TOLERANCE, numbers_match
from promptopt.tasks import answers
from promptopt.tasks.base import Example, Verdict

SCORERS = ("exact", "label", "number", "contains", "f1")


def strict_match(output: str, gold: str) -> bool:
    """APE's exact match: both normalized by :func:`answers.ape_normalize`."""
    return answers.ape_normalize(output) == answers.ape_normalize(gold)


@dataclass(frozen=True)
class NumberJudge:
    """The last number in the output equals the gold number (GSM8K, ``sum``)."""

    name: str = "number"

    def judge(self, output: str, example: Example) -> Verdict:
        prediction = answers.extract_number(output)
        gold = float(example.gold.replace(",", ""))
        correct = prediction is not None and numbers_match(float(prediction), gold, TOLERANCE)
        return Verdict(correct, strict_match(output, example.gold), prediction)


@dataclass(frozen=True)
class LabelJudge:
    """The first label named in the output equals the gold label (case-insensitive)."""

    labels: tuple[str, ...]
    name: str = "label"

    def judge(self, output: str, example: Example) -> Verdict:
        prediction = answers.extract_label(output, self.labels)
        correct = prediction is not None and prediction.lower() == example.gold.lower()
        return Verdict(correct, strict_match(output, example.gold), prediction)


@dataclass(frozen=True)
class ChoiceJudge:
    """The candidate answer named first (input echo ignored) is the gold one."""

    name: str = "choice"

    def judge(self, output: str, example: Example) -> Verdict:
        prediction = answers.extract_choice(output, example.choices, echo=example.question)
        correct = prediction is not None and prediction.lower() == example.gold.lower()
        return Verdict(correct, strict_match(output, example.gold), prediction)


@dataclass(frozen=True)
class ExtractJudge:
    """A named extractor (``word`` or ``letters``), then exact match after normalization."""

    extractor: str = "word"
    name: str = "extract"

    def __post_init__(self) -> None:
        if self.extractor not in ("word", "letters"):
            raise ValueError(f"`extractor` must be word or letters, got {self.extractor!r}.")

    def judge(self, output: str, example: Example) -> Verdict:
        fn = answers.extract_word if self.extractor == "word" else answers.extract_letters
        prediction = fn(output)
        correct = prediction is not None and (
            answers.ape_normalize(prediction) == answers.ape_normalize(example.gold))
        return Verdict(correct, strict_match(output, example.gold), prediction)

    @property
    def key(self) -> str:
        return f"{self.name}:{self.extractor}"


@dataclass(frozen=True)
class ExactJudge:
    """APE's strict exact match is the score (the user asked for no extraction)."""

    name: str = "exact"

    def judge(self, output: str, example: Example) -> Verdict:
        strict = strict_match(output, example.gold)
        return Verdict(strict, strict, answers.ape_normalize(output) or None)


@dataclass(frozen=True)
class ContainsJudge:
    """The normalized gold answer appears as whole words in the normalized output."""

    name: str = "contains"

    def judge(self, output: str, example: Example) -> Verdict:
        gold = answers.ape_normalize(example.gold)
        text = " ".join(re.sub(r"[^\w\s]", " ", output.lower()).split())
        found = bool(gold) and re.search(rf"(?<!\w){re.escape(gold)}(?!\w)", text) is not None
        return Verdict(found, strict_match(output, example.gold), gold if found else None)


@dataclass(frozen=True)
class F1Judge:
    """SQuAD-style token F1 of the first line against the gold answer; correct at
    ``threshold`` or above (the evaluation table stores correct/incorrect)."""

    threshold: float = 0.5
    name: str = "f1"

    def judge(self, output: str, example: Example) -> Verdict:
        pred = answers.ape_normalize(output).split()
        gold = answers.ape_normalize(example.gold).split()
        common = sum((Counter(pred) & Counter(gold)).values())
        f1 = 0.0 if not common else 2 * common / (len(pred) + len(gold))
        return Verdict(f1 >= self.threshold, strict_match(output, example.gold),
                       " ".join(pred) or None)


def judge_key(judge: object) -> str:
    """The judge's part of an evaluation key (its name and settings)."""
    key = getattr(judge, "key", None)
    if isinstance(key, str):
        return key
    labels = getattr(judge, "labels", None)
    return f"{judge.name}:{'|'.join(labels)}" if labels else str(judge.name)


def make_judge(scorer: str, labels: tuple[str, ...] | None = None) -> object:
    """The judge of a declared scorer (JSONL tasks).

    Raises:
        ValueError: an unknown scorer, or ``label`` without a label set.
    """
    if scorer not in SCORERS:
        raise ValueError(f"unknown scorer {scorer!r}; one of {SCORERS}.")
    if scorer == "label":
        if not labels:
            raise ValueError("scorer `label` needs a label set (`task.labels: [..]`).")
        return LabelJudge(tuple(labels))
    return {"exact": ExactJudge, "number": NumberJudge, "contains": ContainsJudge,
            "f1": F1Judge}[scorer]()  # fmt: skip
