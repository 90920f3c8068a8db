"""What a task is: its examples and seeded splits, prompt format, judge, baseline, references.

A :class:`Task` is plain data plus pure functions: no ``ray``, no LLM. Optimizers score an
instruction on ``Task.splits(...).train`` (or the validation split, in the benchmark), every
report scores the held-out ``test`` split, and the task's :class:`Judge` turns each model
output into a :class:`Verdict` with two scores: the task's extractor (what the run
optimizes) and APE's strict exact match (what the papers report).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from serving.protocols import Message


@dataclass(frozen=True)
class Example:
    """One task example.

    Attributes:
        id: stable and unique across tasks (``"sentiment/induce-17"``; GSM8K keeps
            ``"train-0"`` / ``"test-0"``).
        question: the input the instruction is applied to.
        answer_text: the reference output as the data writes it (GSM8K: the worked solution).
        gold: the answer the judge compares with (GSM8K: the final number).
        choices: per-example candidate answers, when the task has them (``larger_animal``).
    """

    id: str
    question: str
    answer_text: str
    gold: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verdict:
    """A judged output.

    Attributes:
        correct: the task's extractor found the gold answer (the score optimizers use).
        strict: APE's exact match after its normalization (first line, cut at ".", lower).
        prediction: what the extractor found; ``None`` when it found nothing (scored 0).
    """

    correct: bool
    strict: bool
    prediction: str | None


@runtime_checkable
class Judge(Protocol):
    """Scores one model output against an example. ``name`` is part of evaluation keys."""

    name: str

    def judge(self, output: str, example: Example) -> Verdict: ...


@runtime_checkable
class Format(Protocol):
    """Where the instruction goes; ``key`` is part of evaluation keys."""

    key: str

    def render(self, question: str, instruction: str) -> str: ...

    def messages(self, question: str, instruction: str) -> list[Message]: ...

    def exemplar(self, question: str) -> str: ...


@dataclass(frozen=True)
class Splits:
    """Disjoint ``train`` (optimization), ``validation`` and held-out ``test`` examples."""

    train: list[Example]
    validation: list[Example]
    test: list[Example]


@dataclass(frozen=True)
class Task:
    """A task: examples, prompt format, judge, baseline and reference instructions.

    Attributes:
        name: the registry name (``python -m promptopt tasks`` lists them).
        description: the kind of prompt, for ProTeGi's templates ("sentiment classifier").
        pool: examples that train and validation (and test, past ``test_pool``) come from.
        test_pool: the data's own test split (GSM8K ``test.jsonl``, Instruction Induction's
            ``execute`` file); empty when the data has one pool (BBH).
        prompt_format: where the instruction goes.
        judge: extractor + scorer.
        baseline: the instruction every method is compared with.
        references: instructions written by people (a baseline to beat; they join a search
            only when the config says so).
        labels: the label set of a classification task (reports give the majority-label
            accuracy beside every score), else ``None``.
        max_tokens: default answer length of the scorer (greedy).
        source: where the data comes from, with its licence.
    """

    name: str
    description: str
    pool: list[Example]
    prompt_format: Format
    judge: Judge
    baseline: str
    test_pool: list[Example] = field(default_factory=list)
    references: tuple[str, ...] = ()
    labels: tuple[str, ...] | None = None
    max_tokens: int = 32
    source: str = ""

    def splits(self, train_size: int, val_size: int, test_size: int, seed: int = 0) -> Splits:
        """Seeded, disjoint splits.

        ``test``: a seeded sample of ``test_pool`` (all of it, shuffled, when ``test_size``
        exceeds it) topped up from the front of the seeded shuffle of ``pool``; then
        ``train``, then ``validation`` from the rest of that shuffle. The test split depends
        only on ``seed`` and ``test_size``.

        Raises:
            ValueError: a size below 1 (0 allowed for validation), or the data cannot supply
                the sizes (the message names them).
        """
        if train_size < 1 or test_size < 1 or val_size < 0:
            raise ValueError(f"task `{self.name}`: `train_size` and `test_size` must be >= 1 "
                             f"and `val_size` >= 0, got {train_size}, {test_size}, {val_size}.")
        order = random.Random(seed).sample(range(len(self.pool)), len(self.pool))
        from_test_pool = min(test_size, len(self.test_pool))
        extra = test_size - from_test_pool
        available = len(self.pool) - extra
        if extra > len(self.pool) or available < train_size + val_size:
            raise ValueError(
                f"task `{self.name}` has {len(self.test_pool)} test-pool and {len(self.pool)} "
                f"pool examples: it cannot give test_size={test_size} held-out examples plus "
                f"train_size={train_size} and val_size={val_size} disjoint ones; lower them "
                f"(at most {len(self.test_pool) + len(self.pool) - train_size - val_size} "
                f"held-out examples at these train and validation sizes).")
        test = random.Random(seed + 1).sample(self.test_pool, from_test_pool)
        test += [self.pool[i] for i in order[:extra]]
        rest = order[extra:]
        train = [self.pool[i] for i in rest[:train_size]]
        validation = [self.pool[i] for i in rest[train_size : train_size + val_size]]
        return Splits(train, validation, test)

    def majority_accuracy(self, examples: Sequence[Example]) -> float | None:
        """The accuracy of always answering the most frequent gold label (label tasks)."""
        if self.labels is None or not examples:
            return None
        return Counter(e.gold for e in examples).most_common(1)[0][1] / len(examples)


def dedupe(examples: Sequence[Example]) -> list[Example]:
    """The examples with the first of each input kept (disjoint splits need unique inputs)."""
    seen: set[str] = set()
    out = []
    for e in examples:
        if e.question not in seen:
            seen.add(e.question)
            out.append(e)
    return out
