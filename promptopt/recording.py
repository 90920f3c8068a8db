"""Event emission and seed derivation shared by the optimizers."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Any

from promptopt.protocols import (
    EventSink,
    OptimizationResult,
    Outcome,
    ScoredInstruction,
    UsageMeter,
    mean_correct,
)

logger = logging.getLogger(__name__)


def derive_seed(*parts: object) -> int:
    """A stable 31-bit seed from ``parts`` (same parts, same seed, in every process).

    Used for every random draw and for the ``seed`` of every sampled LLM call, so a rerun
    of the same command makes the same requests and a shared cache answers them for free.
    """
    digest = hashlib.sha256(repr(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class Recorder:
    """Sends one JSON-ready dict per event to ``on_event``, with the spend so far.

    Args:
        method: ``"opro"`` or ``"protegi"``, written into every event.
        on_event: the sink (the run writes it to ``events.jsonl``); ``None`` drops events.
        meter: when given, every event carries ``llm_calls`` and ``llm_tokens`` used so far.
    """

    def __init__(self, method: str, on_event: EventSink | None, meter: UsageMeter | None):
        self.method = method
        self.on_event = on_event
        self.meter = meter

    def emit(self, event: str, **fields: Any) -> None:
        """Emits ``{"method", "event", **fields}`` (plus spend when a meter is set)."""
        record: dict[str, Any] = {"method": self.method, "event": event, **fields}
        if self.meter is not None:
            usage = self.meter.used()
            record["llm_calls"] = usage.calls
            record["llm_tokens"] = usage.total_tokens
        if self.on_event is not None:
            self.on_event(record)

    def stopped(self, result: OptimizationResult, exc: BaseException) -> None:
        """A run stopped by ``exc`` (the budget): say why in ``result``, the log and an event."""
        result.stopped = f"{type(exc).__name__}: {exc}"
        logger.info("%s stopped after %d steps: %s", self.method, result.steps_completed,
                    result.stopped)
        self.emit("stopped", step=result.steps_completed, reason=result.stopped)

    def skip(self, step: int, reason: str, text: str, **fields: Any) -> None:
        """Logs and emits a skipped candidate, with its full text (never truncated)."""
        level = logging.WARNING if reason == "parse_failure" else logging.INFO
        logger.log(level, "%s step %d: skipped (%s): %r", self.method, step, reason, text)
        self.emit("skipped", step=step, reason=reason, text=text, **fields)

    def evaluated(
        self, instruction: str, outcomes: Sequence[Outcome], step: int, source: str
    ) -> ScoredInstruction:
        """Scores ``outcomes`` and emits an ``evaluated`` event with every per-example result."""
        scored = ScoredInstruction(instruction, mean_correct(outcomes), len(outcomes), step, source)
        self.emit(
            "evaluated",
            step=step,
            source=source,
            instruction=instruction,
            score=scored.score,
            n=scored.n,
            correct=[int(o.correct) for o in outcomes],
        )
        return scored
