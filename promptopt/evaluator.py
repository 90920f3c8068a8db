"""The evaluator: a :class:`~promptopt.protocols.Scorer` that fans large sets out.

Small sets go through :class:`~promptopt.scoring.LLMScorer` (one concurrent ``chat_many``,
the shared evaluation table in front). A set with more missing evaluations than
``fan_out_above`` is cut into chunks handed to an injected :data:`ChunkMapper` (the Ray one
lives in :mod:`promptopt.ray_tasks`: one Ray task per chunk, all calling the one Serve app); its
results are written into the same table. No ``ray`` here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from promptopt.protocols import Outcome
from promptopt.scoring import LLMScorer
from promptopt.tasks import Example
from serving.ledger import BudgetExceeded
from serving.protocols import LLM, Completion, Message, Usage

# One outcome list per chunk, or None for a chunk that ran out of budget (the evaluator
# stores the finished chunks, then raises BudgetExceeded).
ChunkMapper = Callable[[str, list[list[Example]]], list[list[Outcome] | None]]


class Evaluator:
    """Scores an instruction on examples: table first, then concurrent or fanned-out calls.

    Args:
        scorer: the table-backed scorer (its table receives fanned-out results too).
        fan_out: maps ``(instruction, chunks)`` to one outcome list per chunk; ``None``
            scores everything in this process.
        fan_out_above: fan out only when more evaluations than this are missing.
        chunk_size: examples per chunk.
    """

    def __init__(
        self,
        scorer: LLMScorer,
        fan_out: ChunkMapper | None = None,
        *,
        fan_out_above: int = 256,
        chunk_size: int = 64,
    ):
        if chunk_size < 1:
            raise ValueError(f"`chunk_size` must be >= 1, got {chunk_size}.")
        self.scorer, self.fan_out = scorer, fan_out
        self.fan_out_above, self.chunk_size = fan_out_above, chunk_size

    def missing(self, instruction: str, examples: Sequence[Example]) -> list[Example]:
        """The examples (deduplicated, in order) with no row in the table yet."""
        table, key = self.scorer.table, self.scorer.key
        todo = {key(instruction, e): e for e in examples if key(instruction, e) not in table}
        return list(todo.values())

    def score(self, instruction: str, examples: Sequence[Example]) -> list[Outcome]:
        """One :class:`Outcome` per example, in order; every evaluation is done at most once."""
        todo = self.missing(instruction, examples)
        if self.fan_out is not None and len(todo) > self.fan_out_above:
            chunks = [todo[i : i + self.chunk_size] for i in range(0, len(todo), self.chunk_size)]
            results = self.fan_out(instruction, chunks)
            for chunk, outcomes in zip(chunks, results, strict=True):
                if outcomes is None:
                    continue
                for example, outcome in zip(chunk, outcomes, strict=True):
                    self.scorer.table[self.scorer.key(instruction, example)] = outcome
            if any(outcomes is None for outcomes in results):
                raise BudgetExceeded(
                    f"budget spent while scoring {instruction!r}: "
                    f"{sum(o is not None for o in results)} of {len(chunks)} chunks stored."
                )
        return self.scorer.score(instruction, examples)


class CountingLLM:
    """Wraps an :class:`~serving.protocols.LLM` and adds up every completion's tokens.

    Cached completions count too (they carry the tokens of the original call), so the total
    is what the caller consumed whoever paid for it first: a Tune trial's cost that does not
    depend on which trial happened to run first.
    """

    def __init__(self, llm: LLM):
        self.llm = llm
        self.usage = Usage()

    def _count(self, completions: Sequence[Completion]) -> None:
        for c in completions:
            self.usage.calls += 1
            self.usage.prompt_tokens += c.prompt_tokens
            self.usage.completion_tokens += c.completion_tokens

    def chat(self, messages: Sequence[Message], **params: Any) -> Completion:
        out = self.llm.chat(messages, **params)
        self._count([out])
        return out

    def complete(self, prompt: str, **params: Any) -> Completion:
        out = self.llm.complete(prompt, **params)
        self._count([out])
        return out

    def chat_many(
        self, conversations: Sequence[Sequence[Message]], **params: Any
    ) -> list[Completion]:
        out = self.llm.chat_many(conversations, **params)
        self._count(out)
        return out
