"""A Tune searcher wrapper that never spends a trial on a config already run.

Searchers that see a conditional space flat (Ax) propose configs that differ only in
inactive parameters (``bnb_int8`` with another ``bits``): the same compression. Configs
measured outside the search (the baseline) are given to the inner searcher up front when it
can take them (:meth:`AxMOOSearcher.tell`); Ax then never proposes them (it excludes what it
ran itself too). For any other inner searcher a proposal of a config already run is told to
it with the stored measurement under a fresh id, and it is asked again, at most
``max_skips`` times; then the nearest config not yet run (the space's distance over a Sobol
candidate pool, :mod:`moo.searchers.exclusion`) is *attached* to the inner searcher and
runs instead. Tune sees only new configs (``repeats`` > 1 allows that many runs each).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from ray.tune.search import Searcher

from moo.searchers.encoding import config_key
from moo.searchers.exclusion import MeasuredConfigs, known_configs
from moo.searchers.problem import SearchProblem

logger = logging.getLogger(__name__)

__all__ = ["DedupSearcher", "config_key"]

#: Queued configs (an inner searcher's pending warm starts) drained before an attached one.
MAX_QUEUED = 100


class DedupSearcher(Searcher):
    """Wraps ``searcher``; never lets a config run more than ``repeats`` times.

    Args:
        searcher: The inner Tune searcher; with an ``attach(trial_id, config)`` method a
            replacement config is run through it (all of ours have one), otherwise a
            repeat is let through after ``max_skips`` (logged).
        problem: Gives the active part of a config and the candidate space.
        known: ``{config_key: result}`` measured outside this searcher (e.g. the baseline).
        max_skips: Repeats answered per Tune trial before the nearest new config replaces
            the proposal (each costs one step of the inner searcher: ~2 s for Ax here).
        repeats: Runs allowed per config (``search.repeats``).
        seed: Seeds the candidate pool.
    """

    def __init__(self, searcher: Searcher, problem: SearchProblem,
                 known: Mapping[str, Mapping[str, Any]] | None = None,
                 max_skips: int = 5, repeats: int = 1, seed: int | None = 0) -> None:
        super().__init__(metric=searcher.metric, mode=searcher.mode)
        self.searcher, self.problem, self.max_skips = searcher, problem, max_skips
        self.known: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (known or {}).items()}
        self.memory = MeasuredConfigs(problem, repeats, seed)
        for config, result in known_configs(self.known):
            self.memory.record(config, result)
            if hasattr(searcher, "tell"):
                searcher.tell(config, result)
        self._inner_id: dict[str, str] = {}  # Tune trial id → the id the inner searcher knows
        self._configs: dict[str, str] = {}  # Tune trial id → config key
        self.skipped = 0
        self.replaced = 0

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict,
                              **spec: Any) -> bool:
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        config: dict[str, Any] | None = None
        for attempt in range(self.max_skips + 1):
            inner = trial_id if attempt == 0 else f"{trial_id}~dup{attempt}"
            config = self.searcher.suggest(inner)
            if config is None or config == Searcher.FINISHED:
                return config
            if self.memory.allows(config):
                return self._start(trial_id, inner, config)
            self._answer(inner, config)
        return self._replace(trial_id, config)

    def _answer(self, inner: str, config: dict[str, Any]) -> None:
        """Tell the inner searcher about its proposal of a config already run."""
        self.skipped += 1
        key = config_key(self.problem.active(config))
        if key in self.known:
            logger.info("suggestion %s was measured already; answered from that measurement",
                        key)
            self.searcher.on_trial_complete(inner, result=dict(self.known[key]))
        else:  # still running in another trial, or failed before
            logger.info("suggestion %s is running or failed already; told as failed", key)
            self.searcher.on_trial_complete(inner, result=None, error=True)

    def _replace(self, trial_id: str, proposal: dict[str, Any] | None) -> dict[str, Any] | None:
        """Run the nearest new config through the inner searcher's ``attach``."""
        fresh = self.memory.fresh_nearest(proposal)
        if fresh is None:
            return Searcher.FINISHED  # type: ignore[return-value]
        inner = f"{trial_id}~new"
        if not hasattr(self.searcher, "attach"):
            logger.warning("%s cannot run a given config; measuring the repeat %s again",
                           type(self.searcher).__name__, proposal)
            config = self.searcher.suggest(inner)
            return self._start(trial_id, inner, config) if isinstance(config, dict) else config
        self.replaced += 1
        logger.info("running %s, the nearest new config, instead of the repeat %s", fresh,
                    proposal)
        config = self.searcher.attach(inner, fresh)
        for n in range(1, MAX_QUEUED + 1):
            # Optuna asks its queue in order: warm starts still queued come out first.
            if not isinstance(config, dict) or self.memory.allows(config):
                break
            self._answer(inner, config)
            inner = f"{trial_id}~new{n}"
            config = self.searcher.suggest(inner)
        if not isinstance(config, dict):
            return config
        return self._start(trial_id, inner, config)

    def _start(self, trial_id: str, inner: str, config: dict[str, Any]) -> dict[str, Any]:
        self._inner_id[trial_id] = inner
        self._configs[trial_id] = config_key(self.problem.active(config))
        self.memory.start(trial_id, config)
        return config

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        self.searcher.on_trial_result(self._inner_id.get(trial_id, trial_id), result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None,
                          error: bool = False) -> None:
        inner = self._inner_id.pop(trial_id, trial_id)
        key = self._configs.pop(trial_id, None)
        ok = key is not None and bool(result) and not error
        if ok:
            self.known[key] = dict(result)
        self.memory.finish(trial_id, dict(result) if ok else None)
        self.searcher.on_trial_complete(inner, result=result, error=error)

    def get_state(self) -> dict[str, Any]:
        """This wrapper's bookkeeping. Tune treats a searcher with a ``.searcher`` attribute
        as a wrapper: it stores this state and checkpoints the inner searcher itself."""
        return {"known": self.known, "ids": self._inner_id, "configs": self._configs,
                "skipped": self.skipped, "replaced": self.replaced,
                "memory": self.memory.get_state()}

    def set_state(self, state: dict[str, Any]) -> None:
        """Load what :meth:`get_state` returned."""
        self.known, self._inner_id = dict(state["known"]), dict(state["ids"])
        self._configs, self.skipped = dict(state["configs"]), int(state["skipped"])
        self.replaced = int(state.get("replaced", 0))
        if "memory" in state:
            self.memory.set_state(state["memory"])
