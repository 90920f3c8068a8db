"""A Tune searcher wrapper that never spends a trial on a config already measured.

Searchers that see a conditional space flat (Ax) propose configs that differ only in
inactive parameters (``bnb_int8`` with another ``bits``): the same compression. When the
active part of a suggestion was measured before, this wrapper reports that measurement to
the inner searcher under a fresh id and asks again (at most ``max_skips`` times, then the
duplicate runs). Tune sees only new configs.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from ray.tune.search import Searcher

from compress.searchers.problem import SearchProblem

logger = logging.getLogger(__name__)


def config_key(config: Mapping[str, Any]) -> str:
    """A canonical key of an (active) config."""
    return json.dumps(dict(config), sort_keys=True, default=str)


class DedupSearcher(Searcher):
    """Wraps ``searcher``; answers repeated active configs from earlier results.

    Args:
        searcher: The inner Tune searcher.
        problem: Gives the active part of a config.
        known: ``{config_key: result}`` measured outside this searcher (e.g. the baseline).
        max_skips: Duplicates answered per Tune trial before a duplicate is let through
            (each skip costs one model fit of the inner searcher: ~10 s for Ax here).
    """

    def __init__(self, searcher: Searcher, problem: SearchProblem,
                 known: Mapping[str, Mapping[str, Any]] | None = None,
                 max_skips: int = 5) -> None:
        super().__init__(metric=searcher.metric, mode=searcher.mode)
        self.searcher, self.problem, self.max_skips = searcher, problem, max_skips
        self.known: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (known or {}).items()}
        self._inner_id: dict[str, str] = {}  # Tune trial id → the id the inner searcher knows
        self._configs: dict[str, str] = {}  # Tune trial id → config key
        self.skipped = 0

    def set_search_properties(self, metric: str | None, mode: str | None, config: dict,
                              **spec: Any) -> bool:
        return self.searcher.set_search_properties(metric, mode, config, **spec)

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        for attempt in range(self.max_skips + 1):
            inner = trial_id if attempt == 0 else f"{trial_id}~dup{attempt}"
            config = self.searcher.suggest(inner)
            if config is None or config == Searcher.FINISHED:
                return config
            key = config_key(self.problem.active(config))
            if key not in self.known or attempt == self.max_skips:
                if key in self.known:
                    logger.warning("searcher keeps proposing %s; measuring it again", key)
                self._inner_id[trial_id], self._configs[trial_id] = inner, key
                return config
            self.skipped += 1
            logger.info("suggestion %s was measured already; answered from that measurement",
                        key)
            self.searcher.on_trial_complete(inner, result=dict(self.known[key]))
        return None  # unreachable: the last attempt always returns

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        self.searcher.on_trial_result(self._inner_id.get(trial_id, trial_id), result)

    def on_trial_complete(self, trial_id: str, result: dict[str, Any] | None = None,
                          error: bool = False) -> None:
        inner = self._inner_id.pop(trial_id, trial_id)
        key = self._configs.pop(trial_id, None)
        if key is not None and result and not error:
            self.known[key] = dict(result)
        self.searcher.on_trial_complete(inner, result=result, error=error)

    def get_state(self) -> dict[str, Any]:
        """This wrapper's bookkeeping. Tune treats a searcher with a ``.searcher`` attribute
        as a wrapper: it stores this state and checkpoints the inner searcher itself."""
        return {"known": self.known, "ids": self._inner_id, "configs": self._configs,
                "skipped": self.skipped}

    def set_state(self, state: dict[str, Any]) -> None:
        """Load what :meth:`get_state` returned."""
        self.known, self._inner_id = dict(state["known"]), dict(state["ids"])
        self._configs, self.skipped = dict(state["configs"]), int(state["skipped"])
