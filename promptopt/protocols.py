"""The small types the optimizers share: scorer, per-example outcome, results, budget.

OPRO and ProTeGi take a :class:`Scorer` (how good is an instruction on these examples), LLMs
from :mod:`serving.protocols`, an ``on_event`` callback and, optionally, a
:class:`UsageMeter`. Nothing here imports ``ray``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from promptopt.tasks import Example
from serving.ledger import BudgetExceeded as _BudgetExceeded
from serving.protocols import Usage

Event = dict[str, Any]
EventSink = Callable[[Event], None]


# The client's budget error: optimizers stop cleanly on it (and on whatever else is passed
# as ``stop_on``) and return what they have. ``serving.ledger`` imports no ``ray``.
BudgetExceeded = _BudgetExceeded


@runtime_checkable
class UsageMeter(Protocol):
    """Anything that reports how much the run has spent so far (the client's ledger)."""

    def used(self) -> Usage: ...


@dataclass(frozen=True)
class Outcome:
    """The result of one instruction on one example.

    Attributes:
        example_id: :attr:`promptopt.tasks.Example.id`.
        correct: whether the task's extractor found the gold answer (what runs optimize).
        output: the model's full output text.
        prediction: what the extractor found (GSM8K: the last number, as ``"18"``), or
            ``None`` when it found nothing (counted as wrong, never a crash).
        strict: APE's exact match (first line, cut at the first ".", lower-cased).
    """

    example_id: str
    correct: bool
    output: str = ""
    prediction: str | None = None
    strict: bool = False


@runtime_checkable
class Scorer(Protocol):
    """Scores an instruction on examples, one :class:`Outcome` per example, in order."""

    def score(self, instruction: str, examples: Sequence[Example]) -> list[Outcome]: ...


def mean_correct(outcomes: Sequence[Outcome]) -> float:
    """The fraction of correct outcomes (0.0 for none)."""
    return sum(o.correct for o in outcomes) / len(outcomes) if outcomes else 0.0


def mean_strict(outcomes: Sequence[Outcome]) -> float:
    """The fraction of outcomes right under APE's strict exact match (0.0 for none)."""
    return sum(o.strict for o in outcomes) / len(outcomes) if outcomes else 0.0


@dataclass(frozen=True)
class ScoredInstruction:
    """An instruction with a score and where the score came from.

    Attributes:
        instruction: the full instruction text.
        score: accuracy in [0, 1] (for ProTeGi's bandits, the running estimate).
        n: number of example evaluations behind ``score``.
        step: the optimization step that produced it (0: the initial instructions).
        source: ``"initial"``, ``"generated"`` (OPRO), ``"minibatch"``, ``"bandit"`` (ProTeGi).
    """

    instruction: str
    score: float
    n: int
    step: int
    source: str = ""


@dataclass
class OptimizationResult:
    """What an optimizer returns, complete or stopped by the budget.

    Attributes:
        best: the best-scored instruction, ``None`` when nothing was scored.
        final: OPRO: the top instructions, best first; ProTeGi: the last beam, best first.
        history: every score in the order it was obtained.
        steps_completed: optimization steps fully done.
        stopped: ``None`` when all steps ran, else why the run stopped (e.g. the budget).
    """

    best: ScoredInstruction | None
    final: list[ScoredInstruction] = field(default_factory=list)
    history: list[ScoredInstruction] = field(default_factory=list)
    steps_completed: int = 0
    stopped: str | None = None
