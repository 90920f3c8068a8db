"""Fakes for unit tests of algorithm code (named as fakes; never used by a real run).

Like DSPy's ``DummyLM`` and BoTorch's ``MockModel``: they implement the protocols in
:mod:`serving.protocols` in a few lines, deterministically, so optimizer tests run in
milliseconds without Ray or a model. :class:`FakeEngine` does the same for the ``llm`` app's
request handling (:class:`serving.llm_server.LLMServer`).
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from serving.protocols import Choice, Completion, Message, Usage


class FakeScriptedLLM:
    """An :class:`~serving.protocols.LLM` that answers from a script.

    Args:
        responder: either a callable ``(prompt_text, params) -> str`` or an iterable of
            answers returned in order (cycled when exhausted). ``prompt_text`` is the
            completion prompt, or the chat messages' contents joined by newlines.

    Every call is recorded in ``calls`` (the prompt text and params) and counted in
    ``usage`` with whitespace-token counts, so budget logic can be tested.
    """

    def __init__(self, responder: Callable[[str, dict[str, Any]], str] | Iterable[str]):
        if callable(responder):
            self._respond = responder
        else:
            answers = itertools.cycle(list(responder))
            self._respond = lambda _prompt, _params: next(answers)
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.usage = Usage()

    def _answer(self, prompt: str, params: dict[str, Any]) -> Completion:
        n = int(params.get("n", 1))
        texts = [self._respond(prompt, params) for _ in range(n)]
        self.calls.append((prompt, dict(params)))
        p_tok, c_tok = len(prompt.split()), sum(len(t.split()) for t in texts)
        self.usage.calls += 1
        self.usage.prompt_tokens += p_tok
        self.usage.completion_tokens += c_tok
        return Completion(
            choices=tuple(Choice(text=t, finish_reason="stop") for t in texts),
            prompt_tokens=p_tok,
            completion_tokens=c_tok,
            model="fake-scripted",
        )

    def chat(self, messages: Sequence[Message], **params: Any) -> Completion:
        return self._answer("\n".join(m["content"] for m in messages), params)

    def complete(self, prompt: str, **params: Any) -> Completion:
        return self._answer(prompt, params)

    def chat_many(
        self, conversations: Sequence[Sequence[Message]], **params: Any
    ) -> list[Completion]:
        return [self.chat(messages, **params) for messages in conversations]


class FakeHashEncoder:
    """A deterministic bag-of-words encoder: each word hashes to a fixed random direction.

    Texts sharing words get positive cosine similarity, which is enough to test retrieval
    and GP code. Rows are L2-normalized.
    """

    def __init__(self, dim: int = 16):
        self.dim = dim

    def _word_vector(self, word: str) -> list[float]:
        digest = hashlib.sha256(word.lower().encode()).digest()
        raw = [(digest[i % len(digest)] / 127.5) - 1.0 for i in range(self.dim)]
        return raw

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        rows = []
        for text in texts:
            vec = [0.0] * self.dim
            for word in text.split() or [""]:
                for i, x in enumerate(self._word_vector(word)):
                    vec[i] += x
            norm = math.sqrt(sum(x * x for x in vec)) or 1.0
            rows.append([x / norm for x in vec])
        return rows


class FakeNearestDecoder:
    """Decodes a vector to the nearest text of a fixed bank (by cosine under ``encoder``)."""

    def __init__(self, encoder: FakeHashEncoder, bank: Sequence[str]):
        if not bank:
            raise ValueError("`bank` is empty: give the fake decoder at least one text.")
        self.encoder = encoder
        self.bank = list(bank)
        self._vectors = encoder.encode(self.bank)

    def decode(self, vectors: Sequence[Sequence[float]], **options: Any) -> list[str]:
        out = []
        for v in vectors:
            scores = [sum(a * b for a, b in zip(v, row, strict=True)) for row in self._vectors]
            out.append(self.bank[max(range(len(scores)), key=scores.__getitem__)])
        return out


class FakeEngine:
    """A generation engine (the interface of :class:`serving.engines.hf.HFEngine`) for
    :class:`serving.llm_server.LLMServer` tests: one token per character.

    ``chat_prompt_ids`` joins the messages' contents with newlines; ``generate`` answers each
    choice with the prompt text itself, cut to ``max_tokens`` characters (``finish_reason``
    ``length`` when cut), streamed one character at a time to a request's ``on_delta``.
    ``tokenized`` counts tokenizer calls, so a test can check that a request was refused
    before tokenizing.

    Args:
        max_model_len: the context length the server checks prompts against.
    """

    def __init__(self, max_model_len: int = 64):
        from serving.engines.stream import EngineCounters

        self.max_model_len = max_model_len
        self.tokenized = 0
        self.counters = EngineCounters()

    def chat_prompt_ids(self, messages: Sequence[Message]) -> list[int]:
        return self.text_prompt_ids("\n".join(m["content"] for m in messages))

    def text_prompt_ids(self, prompt: str) -> list[int]:
        self.tokenized += 1
        return [ord(c) for c in prompt]

    def generate(self, requests: Sequence[Any]) -> list[Any]:
        from serving.engines.hf import GenResult

        results = []
        for req in requests:
            choices = [self._choice(req, j) for j in range(req.params.n)]
            results.append(GenResult(choices, len(req.prompt_ids), sum(len(c.token_ids) for c in choices)))
        return results

    def _choice(self, req: Any, j: int) -> Any:
        from serving.engines.hf import GenChoice
        from serving.engines.stream import CANCELLED, choice_stream

        text = "".join(map(chr, req.prompt_ids))
        cut = text[: req.params.max_tokens]
        stream = choice_stream(req.on_delta, j, ())
        for k in range(len(cut)):
            if req.cancelled:
                self.counters.cancelled += 1
                return GenChoice(cut[:k], [ord(c) for c in cut[:k]], CANCELLED)
            self.counters.tokens += 1
            if stream is not None:
                stream.update(cut[: k + 1])
        reason = "length" if len(cut) < len(text) else "stop"
        if stream is not None:
            stream.finish(cut, reason)
        return GenChoice(cut, [ord(c) for c in cut], reason)
