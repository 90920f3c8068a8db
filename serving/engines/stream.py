"""What engines tell a streaming caller while they generate, and how a caller stops them.

An engine re-decodes a choice's tokens after every token (byte-level BPE can end in half a
UTF-8 character) and cuts the text at a stop string once one appears. :class:`ChoiceStream`
turns that growing text into deltas that are never taken back: it holds back a trailing
replacement character and any tail that could still become a stop string, so the deltas of
a choice add up to the text the engine returns for it. (That needs a decoding that only
grows as tokens are added, as byte-level BPE's does; a tokenizer that rewrites earlier text
would have its rewritten part left out of the stream.)

Cancellation is cooperative: a caller sets the request's ``cancel`` event, and the engine
checks it between tokens (llamacpp) or decode steps (hf). :class:`EngineCounters` records
what that cost. No Ray and no asyncio here.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: ``(choice index, text delta, finish_reason or None)``; ``finish_reason`` set on the last call.
DeltaCallback = Callable[[int, str, "str | None"], None]

#: The ``finish_reason`` of a choice stopped by its request's ``cancel`` event (never sent to
#: a client: the client is gone).
CANCELLED = "cancelled"


@dataclass
class EngineCounters:
    """Work an engine did, for tests and the benchmark's "wasted tokens after a cancel".

    Attributes:
        tokens: tokens generated (all choices, all requests).
        cancelled: choices stopped (or never started) because their request was cancelled.
        tokens_after_cancel: tokens computed for a choice whose cancel was already set when
            its token came out (at most one per cancelled choice: the step in flight).
    """

    tokens: int = 0
    cancelled: int = 0
    tokens_after_cancel: int = 0


def is_cancelled(cancel: threading.Event | None) -> bool:
    return cancel is not None and cancel.is_set()


class ChoiceStream:
    """Safe text deltas of one choice, sent through ``emit``.

    Args:
        emit: the request's delta callback.
        index: the choice's index within its request.
        stops: the request's stop strings (a tail that may grow into one is held back).
    """

    def __init__(self, emit: DeltaCallback, index: int, stops: Sequence[str]):
        self.emit, self.index, self.stops = emit, index, [s for s in stops if s]
        self.sent = ""

    def update(self, text: str) -> None:
        """The choice's whole text so far; sends what can no longer change."""
        safe = len(text) - self._held_back(text)
        if safe > len(self.sent) and text.startswith(self.sent):
            self.emit(self.index, text[len(self.sent):safe], None)
            self.sent = text[:safe]

    def finish(self, text: str, finish_reason: str) -> None:
        """The choice's final text: sends the rest, then the finish reason."""
        rest = text[len(self.sent):] if text.startswith(self.sent) else ""
        self.sent = text
        self.emit(self.index, rest, finish_reason)

    def _held_back(self, text: str) -> int:
        held = len(text) - len(text.rstrip("\ufffd"))  # half a UTF-8 character so far
        body = text[: len(text) - held]
        for stop in self.stops:
            for k in range(min(len(stop) - 1, len(body)), 0, -1):
                if body.endswith(stop[:k]):
                    held = max(held, len(text) - len(body) + k)
                    break
        return held


def choice_stream(emit: DeltaCallback | None, index: int, stops: Sequence[str]) -> ChoiceStream | None:
    """A :class:`ChoiceStream` when the request streams (``emit`` set), else ``None``."""
    return ChoiceStream(emit, index, stops) if emit is not None else None
