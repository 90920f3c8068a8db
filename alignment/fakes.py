"""Fakes for alignment tests (named as fakes; never used by a real run).

:class:`serving.fakes.FakeScriptedLLM` returns text only; the judge also needs top-k
log-probs, which :class:`FakeLogprobLLM` scripts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from serving.protocols import Choice, Completion, Message, TokenLogprob

Answer = str | Mapping[str, float]  # text, or the first token's top log-probs


class FakeLogprobLLM:
    """An :class:`~serving.protocols.LLM` whose completions can carry top-k log-probs.

    Args:
        responder: ``(prompt_text, params) -> answer``; a ``str`` answer is returned as
            text (with no log-probs unless ``logprobs`` was asked, then an empty tuple), a
            mapping ``{token: logprob}`` becomes a one-token completion whose ``top`` is
            that mapping and whose text is its most likely token.

    Calls are recorded in ``calls`` as ``(prompt_text, params)``.
    """

    def __init__(self, responder: Callable[[str, dict[str, Any]], Answer]):
        self._respond = responder
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def complete(self, prompt: str, **params: Any) -> Completion:
        self.calls.append((prompt, dict(params)))
        answer = self._respond(prompt, params)
        if isinstance(answer, str):
            logprobs = () if params.get("logprobs") else None
            choice = Choice(text=answer, finish_reason="stop", logprobs=logprobs)
        else:
            top = dict(answer)
            token = max(top, key=top.__getitem__)
            choice = Choice(text=token, finish_reason="length",
                            logprobs=(TokenLogprob(token, top[token], top),))
        return Completion(choices=(choice,), prompt_tokens=len(prompt.split()),
                          completion_tokens=1, model="fake-logprob")

    def chat(self, messages: Sequence[Message], **params: Any) -> Completion:
        return self.complete("\n".join(m["content"] for m in messages), **params)

    def chat_many(
        self, conversations: Sequence[Sequence[Message]], **params: Any
    ) -> list[Completion]:
        return [self.chat(messages, **params) for messages in conversations]
