"""Ray wiring of the evaluator: one Ray task per chunk, every task calling the one Serve app.

Each task builds its own :class:`~serving.client.LLMClient` (same endpoint, same shared
response cache) with a ledger capped at the calls the driver has left, scores its chunk and
returns the outcomes with its usage, which the driver adds to its own ledger.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import ray

from promptopt.protocols import Outcome
from promptopt.scoring import LLMScorer
from promptopt.task import Example, PromptFormat
from serving.client import LLMClient
from serving.ledger import BudgetLedger
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
    """

    client: ClientConfig
    base_url: str
    model: str
    prompt_format: PromptFormat
    params: dict[str, Any] = field(default_factory=dict)


@ray.remote(num_cpus=0)  # an HTTP client: it waits on the Serve replica, which holds the CPUs
def _score_chunk(
    spec: ScorerSpec, instruction: str, examples: list[Example], max_calls: int | None
) -> tuple[list[Outcome], dict]:
    client = LLMClient(
        spec.client, base_url=spec.base_url, model=spec.model, ledger=BudgetLedger(max_calls)
    )
    scorer = LLMScorer(client, spec.prompt_format, model=spec.model, **spec.params)
    return scorer.score(instruction, examples), client.ledger.state()


class RayFanOut:
    """A :data:`~promptopt.evaluator.ChunkMapper` over Ray tasks.

    Args:
        spec: how to rebuild the scorer in a task.
        ledger: the driver's ledger; each task may spend what it has left, and its usage is
            added back when the task returns.
    """

    def __init__(self, spec: ScorerSpec, ledger: BudgetLedger):
        self.spec, self.ledger = spec, ledger

    def __call__(self, instruction: str, chunks: list[list[Example]]) -> list[list[Outcome]]:
        self.ledger.check()
        left = self.ledger.remaining_calls()
        refs = [_score_chunk.remote(self.spec, instruction, c, left) for c in chunks]
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
