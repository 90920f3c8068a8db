"""``stream: true``: OpenAI's chunks as Server-Sent Events, and cancellation of dropped work.

The engine runs in a worker thread and reports each choice's new text through its request's
``on_delta`` (:mod:`serving.engines.stream`); :func:`sse_events` hands those deltas to the
event loop through a queue and formats them:

- chat: ``chat.completion.chunk`` objects, a first ``{"role": "assistant", "content": ""}``
  delta per choice, then ``{"content": ...}`` deltas, then an empty delta with
  ``finish_reason``;
- completions: ``text_completion`` objects with ``text`` pieces, then ``finish_reason``;
- with ``stream_options.include_usage``: ``"usage": null`` on every chunk and one last chunk
  with empty ``choices`` and the usage; then ``data: [DONE]``.

A request whose consumer goes away (the client disconnects: Serve cancels the handler, and
``asyncio.CancelledError`` reaches the generator or the awaiting handler) gets its
``cancel`` event set, and the engine stops its choices at the next token or step. No Ray here.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Literal

from serving.engines.hf import GenRequest, GenResult
from serving.openai_api import completion_id, now, usage

#: Runs one engine request (the deployment's ``@serve.batch`` method, or a thread in tests).
Generate = Callable[[GenRequest], Awaitable[GenResult]]

DONE = "data: [DONE]\n\n"


def sse(data: dict) -> str:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n"


async def run_cancellable(requests: Sequence[GenRequest], generate: Generate) -> list[GenResult]:
    """Run ``requests`` (concurrently); if the caller is cancelled, cancel their work too."""
    cancel = threading.Event()
    for req in requests:
        req.cancel = cancel
    try:
        return list(await asyncio.gather(*(generate(r) for r in requests)))
    except asyncio.CancelledError:
        cancel.set()  # the engine drops these rows at its next token / step
        raise


async def sse_events(kind: Literal["chat", "completion"], model: str, requests: Sequence[GenRequest],
                     n: int, include_usage: bool, generate: Generate) -> AsyncIterator[str]:
    """The SSE lines of one streamed request (``n`` choices per prompt, indexed prompt-major).

    Args:
        kind: ``chat`` (``chat.completion.chunk``) or ``completion`` (``text_completion``).
        model: the served model name the chunks carry.
        requests: the engine requests, one per prompt (validated: the stream cannot fail on
            input any more).
        n: choices per prompt.
        include_usage: ``stream_options.include_usage``.
        generate: runs one engine request.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    cancel = threading.Event()
    for p, req in enumerate(requests):
        req.cancel = cancel
        req.on_delta = _forward(loop, queue, p * n)
    work = asyncio.gather(*(generate(r) for r in requests))
    # After the last delta: the engine's thread queued its deltas before it returned.
    work.add_done_callback(lambda _: queue.put_nowait(None))
    chunk = _Chunks(kind, model, include_usage)
    finished = False
    try:
        if kind == "chat":
            for i in range(n * len(requests)):
                yield chunk.choice(i, {"role": "assistant", "content": ""})
        while (item := await queue.get()) is not None:
            index, text, finish_reason = item
            if text:
                yield chunk.choice(index, {"content": text} if kind == "chat" else text)
            if finish_reason is not None:
                yield chunk.choice(index, {} if kind == "chat" else "", finish_reason)
        try:
            results = work.result()
        except Exception as exc:  # noqa: BLE001 — the status is sent: the error goes in the stream
            yield sse({"error": {"message": f"internal error: {type(exc).__name__}: {exc}",
                                 "type": "server_error", "param": None, "code": None}})
            return
        finished = True
        if include_usage:
            yield chunk.usage(sum(r.prompt_tokens for r in results),
                              sum(r.completion_tokens for r in results))
        yield DONE
    finally:
        if not finished:  # the client went away (or the engine failed): stop the rest
            cancel.set()
            work.cancel()


def _forward(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue, offset: int):
    """An ``on_delta`` for the engine's thread: queue ``(index, text, finish_reason)``."""

    def on_delta(choice: int, text: str, finish_reason: str | None) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, (offset + choice, text, finish_reason))

    return on_delta


class _Chunks:
    """The chunk objects of one stream (same ``id`` and ``created`` on every chunk)."""

    def __init__(self, kind: str, model: str, include_usage: bool):
        self.kind, self.model, self.include_usage = kind, model, include_usage
        self.id = completion_id("chatcmpl" if kind == "chat" else "cmpl")
        self.created = now()

    def _base(self) -> dict:
        return {"id": self.id, "object": "chat.completion.chunk" if self.kind == "chat" else "text_completion",
                "created": self.created, "model": self.model}

    def choice(self, index: int, delta: dict | str, finish_reason: str | None = None) -> str:
        body = {"index": index, "logprobs": None, "finish_reason": finish_reason}
        body["delta" if self.kind == "chat" else "text"] = delta
        chunk = {**self._base(), "choices": [body]}
        if self.include_usage:
            chunk["usage"] = None
        return sse(chunk)

    def usage(self, prompt_tokens: int, completion_tokens: int) -> str:
        return sse({**self._base(), "choices": [], "usage": usage(prompt_tokens, completion_tokens)})
