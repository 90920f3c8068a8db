"""Fakes for optimizer tests and examples (named as fakes; never used by a real run).

:class:`FakeKeywordScorer` rewards longer, keyword-bearing instructions, so an optimizer
that works must find better ones; :class:`FakeBudgetedLLM` raises
:class:`~promptopt.protocols.BudgetExceeded` after a number of calls, like the client's
ledger.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from promptopt.protocols import BudgetExceeded, Outcome
from promptopt.tasks import Example
from serving.protocols import LLM, Completion, Message, Usage


def unit_hash(text: str) -> float:
    """A stable pseudo-random number in [0, 1) for ``text``."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2**64


class FakeKeywordScorer:
    """A scorer whose accuracy grows with instruction length and keywords.

    The target accuracy is ``min(1, base + per_word * words + per_keyword * keywords)``
    (keywords counted case-insensitively, once each); an example is correct when its
    :func:`unit_hash` is below it. A better instruction is therefore right on a superset
    of the examples, on any example set. Every call is recorded in ``calls``.
    """

    def __init__(
        self,
        keywords: Sequence[str] = ("step",),
        base: float = 0.1,
        per_word: float = 0.02,
        per_keyword: float = 0.2,
    ):
        self.keywords = [k.lower() for k in keywords]
        self.base, self.per_word, self.per_keyword = base, per_word, per_keyword
        self.calls: list[tuple[str, list[str]]] = []

    def target(self, instruction: str) -> float:
        """The accuracy this instruction earns in expectation."""
        text = instruction.lower()
        hits = sum(k in text for k in self.keywords)
        raw = self.base + self.per_word * len(instruction.split()) + self.per_keyword * hits
        return min(1.0, raw)

    def score(self, instruction: str, examples: Sequence[Example]) -> list[Outcome]:
        self.calls.append((instruction, [e.id for e in examples]))
        p = self.target(instruction)
        return [Outcome(e.id, unit_hash(e.id) < p, output="", prediction=None) for e in examples]


class FakeBudgetedLLM:
    """Wraps an :class:`~serving.protocols.LLM` and raises after ``max_calls`` calls.

    Also a :class:`~promptopt.protocols.UsageMeter` (``used()`` counts calls made).
    """

    def __init__(self, llm: LLM, max_calls: int):
        self.llm, self.max_calls = llm, max_calls
        self.usage = Usage()

    def _spend(self, calls: int) -> None:
        if self.usage.calls + calls > self.max_calls:
            raise BudgetExceeded(f"fake budget of {self.max_calls} LLM calls spent")
        self.usage.calls += calls

    def used(self) -> Usage:
        return self.usage

    def chat(self, messages: Sequence[Message], **params: Any) -> Completion:
        self._spend(1)
        return self.llm.chat(messages, **params)

    def complete(self, prompt: str, **params: Any) -> Completion:
        self._spend(1)
        return self.llm.complete(prompt, **params)

    def chat_many(
        self, conversations: Sequence[Sequence[Message]], **params: Any
    ) -> list[Completion]:
        self._spend(len(conversations))
        return self.llm.chat_many(conversations, **params)
