"""The small interfaces every optimizer programs against.

Algorithm code (promptopt, ecoflow, alignment) takes these as arguments and never imports
``ray``; the real implementations are :class:`serving.client.LLMClient` and
:class:`serving.client.EmbedClient`, the fakes live in :mod:`serving.fakes`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

Message = dict[str, str]  # {"role": "system" | "user" | "assistant", "content": str}


@dataclass(frozen=True)
class TokenLogprob:
    """One token of a completion (or of an echoed prompt) and its log-probability.

    ``logprob`` is ``None`` for the first prompt token (nothing conditions it).
    """

    token: str
    logprob: float | None
    top: dict[str, float] = field(default_factory=dict)  # most likely tokens at this position


@dataclass(frozen=True)
class Choice:
    """One of the ``n`` choices of a completion."""

    text: str
    finish_reason: str  # "stop" | "length"
    logprobs: tuple[TokenLogprob, ...] | None = None


@dataclass(frozen=True)
class Completion:
    """The result of one chat or text completion call.

    Attributes:
        choices: ``n`` choices, in order.
        prompt_tokens: prompt tokens billed by the endpoint.
        completion_tokens: generated tokens billed by the endpoint (all choices).
        cached: True when the response came from the shared cache (no endpoint call).
        model: the model name the endpoint reported.
    """

    choices: tuple[Choice, ...]
    prompt_tokens: int
    completion_tokens: int
    cached: bool = False
    model: str = ""

    @property
    def text(self) -> str:
        """The first choice's text (the common case, ``n=1``)."""
        return self.choices[0].text

    @property
    def texts(self) -> list[str]:
        return [c.text for c in self.choices]


@runtime_checkable
class LLM(Protocol):
    """What optimizers need from a language model endpoint.

    ``params`` are OpenAI sampling parameters: ``temperature``, ``top_p``, ``max_tokens``,
    ``stop``, ``n``, ``seed``, ``logprobs``, ``echo`` (completions only).
    """

    def chat(self, messages: Sequence[Message], **params: Any) -> Completion: ...

    def complete(self, prompt: str, **params: Any) -> Completion: ...

    def chat_many(
        self, conversations: Sequence[Sequence[Message]], **params: Any
    ) -> list[Completion]: ...


@runtime_checkable
class Encoder(Protocol):
    """Text → fixed-size vectors (one row per text)."""

    dim: int

    def encode(self, texts: Sequence[str]) -> list[list[float]]: ...


@runtime_checkable
class Decoder(Protocol):
    """Vectors → text (the inverse of an :class:`Encoder`, as well as it can)."""

    def decode(self, vectors: Sequence[Sequence[float]], **options: Any) -> list[str]: ...


@dataclass
class Usage:
    """Token accounting of one or more calls (what the budget ledger adds up)."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens
