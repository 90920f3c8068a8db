"""The budget ledger: calls, tokens and cache hits, with optional caps.

Optimizers read it (``ledger.usage``) and cap it (``max_calls`` / ``max_tokens``); a call
that would start past a cap raises :class:`BudgetExceeded`, which optimizers catch to stop
cleanly. Cache hits are free and counted separately, unless the ledger charges them
(``charge_cached=True``: an equal-budget benchmark, where a method must pay for an answer
even when another method's run already cached it). Thread-safe (one client serves many
threads and an event loop); ``state()`` / ``load_state()`` let a resumed run continue the
same budget.
"""

from __future__ import annotations

import threading
from dataclasses import asdict

from serving.protocols import Usage


class BudgetExceeded(RuntimeError):
    """The run's LLM budget is spent; stop and report what you have."""


class BudgetLedger:
    """Adds up usage and enforces caps.

    Args:
        max_calls: endpoint calls allowed (``None``: no cap).
        max_tokens: prompt + completion tokens allowed (``None``: no cap).
        charge_cached: count cache hits as calls with their recorded tokens (and check the
            caps before answering from the cache).
    """

    def __init__(self, max_calls: int | None = None, max_tokens: int | None = None,
                 charge_cached: bool = False):
        self.max_calls, self.max_tokens = max_calls, max_tokens
        self.charge_cached = charge_cached
        self._usage = Usage()
        self._lock = threading.Lock()

    @property
    def usage(self) -> Usage:
        with self._lock:
            return Usage(**asdict(self._usage))

    def remaining_calls(self) -> int | None:
        return None if self.max_calls is None else max(0, self.max_calls - self.usage.calls)

    def check(self) -> None:
        """Raise :class:`BudgetExceeded` if no further endpoint call is allowed."""
        u = self.usage
        if self.max_calls is not None and u.calls >= self.max_calls:
            raise BudgetExceeded(f"LLM call budget spent: {u.calls} of max_calls={self.max_calls}.")
        if self.max_tokens is not None and u.total_tokens >= self.max_tokens:
            raise BudgetExceeded(f"LLM token budget spent: {u.total_tokens} of max_tokens={self.max_tokens}.")

    def record(self, prompt_tokens: int, completion_tokens: int, cached: bool) -> None:
        with self._lock:
            if cached:
                self._usage.cache_hits += 1
                if not self.charge_cached:
                    return
            self._usage.calls += 1
            self._usage.prompt_tokens += prompt_tokens
            self._usage.completion_tokens += completion_tokens

    def state(self) -> dict:
        return asdict(self.usage)

    def load_state(self, state: dict) -> None:
        with self._lock:
            self._usage = Usage(**state)
