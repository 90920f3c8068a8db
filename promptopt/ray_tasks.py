"""Ray wiring of the evaluator: one Ray task per chunk, every task calling the one Serve app.

Each task builds its own :class:`~serving.client.LLMClient` (same endpoint, same shared
response cache) with a ledger capped at its share of the calls the driver has left (the shares
add up to what is left, so the tasks together never overspend), scores its chunk and returns
the outcomes with its usage, which the driver adds to its own ledger. A task that runs out of
budget returns its usage and no outcomes; the driver keeps every finished chunk, then raises
:class:`~serving.ledger.BudgetExceeded` so the optimizer stops cleanly.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import ray

from promptopt.protocols import Outcome
from promptopt.scoring import LLMScorer
from promptopt.tasks import Example
from promptopt.tasks.base import Format, Judge
from serving.client import LLMClient
from serving.ledger import BudgetExceeded, BudgetLedger
from serving.protocols import Usage
from serving.settings import ClientConfig


@dataclass(frozen=True)
class ScorerSpec:
    """Everything a remote task needs to rebuild the driver's scorer.

    Attributes:
        client: the scorer endpoint's client config.
        base_url: the resolved endpoint URL.
        model: the resolved model name (part of the table key).
        prompt_format: where the instruction goes.
        params: sampling parameters of every scoring call.
        judge: the task's judge.
    """

    client: ClientConfig
    base_url: str
    model: str
    prompt_format: Format
    params: dict[str, Any] = field(default_factory=dict)
    judge: Judge | None = None


@ray.remote(num_cpus=0)  # an HTTP client: it waits on the Serve replica, which holds the CPUs
def _score_chunk(
    spec: ScorerSpec, instruction: str, examples: list[Example], max_calls: int | None
) -> tuple[list[Outcome] | None, dict]:
    client = LLMClient(
        spec.client, base_url=spec.base_url, model=spec.model, ledger=BudgetLedger(max_calls)
    )
    scorer = LLMScorer(client, spec.prompt_format, model=spec.model, judge=spec.judge,
                       **spec.params)
    try:
        return scorer.score(instruction, examples), client.ledger.state()
    except BudgetExceeded:  # finished calls are in the response cache; usage counts
        return None, client.ledger.state()


def shares(left: int | None, n: int) -> list[int | None]:
    """``left`` calls split over ``n`` tasks as evenly as possible (``None``: no cap)."""
    if left is None:
        return [None] * n
    return [left // n + (1 if i < left % n else 0) for i in range(n)]


class RayFanOut:
    """A :data:`~promptopt.evaluator.ChunkMapper` over Ray tasks.

    Args:
        spec: how to rebuild the scorer in a task.
        ledger: the driver's ledger; each task may spend what it has left, and its usage is
            added back when the task returns.
    """

    def __init__(self, spec: ScorerSpec, ledger: BudgetLedger):
        self.spec, self.ledger = spec, ledger

    def __call__(
        self, instruction: str, chunks: list[list[Example]]
    ) -> list[list[Outcome] | None]:
        """One outcome list per chunk (``None`` for a chunk that ran out of budget: the
        evaluator stores the others, then raises ``BudgetExceeded``)."""
        self.ledger.check()
        caps = shares(self.ledger.remaining_calls(), len(chunks))
        refs = [
            _score_chunk.remote(self.spec, instruction, c, cap)
            for c, cap in zip(chunks, caps, strict=True)
        ]
        results = ray.get(refs)
        total = self.ledger.usage
        for _, state in results:
            used = Usage(**state)
            total.calls += used.calls
            total.prompt_tokens += used.prompt_tokens
            total.completion_tokens += used.completion_tokens
            total.cache_hits += used.cache_hits
        self.ledger.load_state(asdict(total))
        return [outcomes for outcomes, _ in results]
