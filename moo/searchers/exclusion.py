"""Which configs were run, and the nearest one not yet run: the "no wasted trials" core.

A config is identified by its *active* part (:meth:`SearchProblem.active`): ``bnb_int8``
with ``bits: 4`` and with ``bits: 8`` is one compression. :class:`MeasuredConfigs` counts
the runs of each config (finished, failed or still running) and keeps the last successful
outcome, so a searcher can (1) refuse to hand out a config that has used up its
``repeats``, (2) tell its model the stored outcome of a refused proposal, and (3) propose
instead the nearest config not yet run, from a candidate pool: the space's own scrambled
Sobol sequence (:mod:`moo.searchers.encoding`), drawn further when the pool runs dry.
No ``ray`` here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from moo.searchers.encoding import config_distance, config_key, iter_sobol_configs
from moo.searchers.problem import SearchProblem

logger = logging.getLogger(__name__)

#: Candidate configs drawn at most (a space with fewer distinct configs is exhausted).
MAX_CANDIDATES = 4096


class MeasuredConfigs:
    """Runs per active config, pending runs, and stored outcomes.

    Args:
        problem: Gives the active part of a config and the candidate space.
        repeats: Runs allowed per config (1: never measured twice). Failed runs count.
        seed: Seeds the candidate pool's Sobol sequence.
    """

    def __init__(self, problem: SearchProblem, repeats: int = 1, seed: int | None = 0) -> None:
        if repeats < 1:
            raise ValueError(f"`repeats` must be >= 1 (runs allowed per config), got {repeats}.")
        self.problem, self.repeats, self.seed = problem, repeats, seed or 0
        self.runs: dict[str, int] = {}  # finished runs (ok or failed) per key
        self.pending: dict[str, str] = {}  # trial id → key, still running
        self.outcomes: dict[str, Any] = {}  # key → last successful outcome
        self._pool: list[dict[str, Any]] | None = None

    def key(self, config: Mapping[str, Any]) -> str:
        """The canonical key of ``config``'s active part."""
        return config_key(self.problem.active(config))

    def used(self, config: Mapping[str, Any]) -> int:
        """Runs of ``config`` finished or in flight."""
        key = self.key(config)
        return self.runs.get(key, 0) + sum(k == key for k in self.pending.values())

    def allows(self, config: Mapping[str, Any]) -> bool:
        """Whether ``config`` may run once more."""
        return self.used(config) < self.repeats

    def start(self, trial_id: str, config: Mapping[str, Any]) -> None:
        """``trial_id`` now runs ``config``."""
        self.pending[trial_id] = self.key(config)

    def finish(self, trial_id: str, outcome: Any = None) -> str | None:
        """``trial_id`` finished; ``outcome`` is None for a failed run. Returns its key."""
        key = self.pending.pop(trial_id, None)
        if key is not None:
            self.runs[key] = self.runs.get(key, 0) + 1
            if outcome is not None:
                self.outcomes[key] = outcome
        return key

    def record(self, config: Mapping[str, Any], outcome: Any) -> None:
        """A run measured elsewhere (e.g. the uncompressed baseline)."""
        key = self.key(config)
        self.runs[key] = self.runs.get(key, 0) + 1
        if outcome is not None:
            self.outcomes[key] = outcome

    def outcome(self, config: Mapping[str, Any]) -> Any:
        """The stored outcome of ``config`` (None when it never succeeded)."""
        return self.outcomes.get(self.key(config))

    def _candidates(self) -> list[dict[str, Any]]:
        """Distinct configs of the space's Sobol sequence (drawn once, lazily)."""
        if self._pool is None:
            seen: dict[str, dict[str, Any]] = {}
            for config in iter_sobol_configs(self.problem.params, self.seed,
                                             limit=MAX_CANDIDATES):
                seen.setdefault(config_key(config), config)
            self._pool = list(seen.values())
        return self._pool

    def fresh_nearest(self, target: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The candidate nearest ``target`` (the space's distance) that may still run.

        With no target, the first such candidate in Sobol order (space-filling). None when
        every candidate has used its runs (a small discrete space fully measured).
        """
        target = self.problem.active(target) if target is not None else None
        best, best_d = None, float("inf")
        for config in self._candidates():
            if not self.allows(config):
                continue
            if target is None:
                return dict(config)
            d = config_distance(self.problem.params, target, config)
            if d < best_d:
                best, best_d = config, d
        if best is None:
            logger.warning("every one of the %d candidate configs was run %d time(s): nothing "
                           "new to propose", len(self._candidates()), self.repeats)
        return dict(best) if best is not None else None

    def get_state(self) -> dict[str, Any]:
        """Plain JSON-able data (the pool is rebuilt from the seed)."""
        return {"repeats": self.repeats, "seed": self.seed, "runs": self.runs,
                "pending": self.pending, "outcomes": self.outcomes}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`get_state` returned."""
        self.repeats, self.seed = int(state["repeats"]), int(state["seed"])
        self.runs = {k: int(v) for k, v in state["runs"].items()}
        self.pending, self.outcomes = dict(state["pending"]), dict(state["outcomes"])
        self._pool = None


def known_configs(known: Mapping[str, Any]) -> list[tuple[dict[str, Any], Any]]:
    """``{config_key: result}`` (as :class:`DedupSearcher` takes it) → ``[(config, result)]``."""
    return [(json.loads(k), v) for k, v in known.items()]
