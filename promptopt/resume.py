"""Resume: replay a run's ``events.jsonl`` while the same command regenerates it.

A promptopt run is deterministic given its config: every random draw and every sampled LLM
call is seeded (:func:`promptopt.recording.derive_seed`), sampled calls come back from the
shared response cache and scores from the evaluation table. A resumed run therefore
re-walks its own history for free; :class:`ReplaySink` checks each regenerated event against
the recorded one and writes only what is new. No ``ray`` here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from promptopt.protocols import Event

logger = logging.getLogger(__name__)

# Spend and wall-clock fields differ between the first run and a replay (cache hits are free).
VOLATILE = frozenset({"llm_calls", "llm_tokens", "time"})


def stable(event: Event) -> dict[str, Any]:
    """The part of an event that a deterministic replay reproduces exactly."""
    return {k: v for k, v in event.items() if k not in VOLATILE}


class ReplaySink:
    """An event sink that skips events already recorded and appends the rest.

    Args:
        prior: the run's recorded events (only those of ``method`` are matched).
        append: writes one new event durably (``RunDir.append``).
        method: the optimizer whose events are replayed (``"opro"``, ``"protegi"``).
        after_append: called after each new event (e.g. to save the ledger state).
    """

    def __init__(
        self,
        prior: Iterable[Event],
        append: Callable[[Event], None],
        method: str,
        after_append: Callable[[], None] | None = None,
    ):
        self.prior = [e for e in prior if e.get("method") == method]
        self.append, self.after_append = append, after_append
        self.replayed, self.written, self.diverged = 0, 0, False

    @property
    def resuming(self) -> bool:
        """Whether recorded events remain to be matched."""
        return not self.diverged and self.replayed < len(self.prior)

    def __call__(self, event: Event) -> None:
        if self.resuming:
            recorded = self.prior[self.replayed]
            if stable(recorded) == stable({**event}):
                self.replayed += 1
                return
            self.diverged = True
            logger.warning(
                "resume diverged at recorded event %d: recorded %r, regenerated %r; "
                "appending from here (was the config or the code changed?)",
                self.replayed,
                recorded,
                event,
            )
            self.append({"method": "run", "event": "resume_diverged", "at": self.replayed})
        self.append({**event, "time": round(time.time(), 3)})
        self.written += 1
        if self.after_append is not None:
            self.after_append()
