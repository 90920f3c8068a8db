"""Multi-objective search with Ax's own ``ax.api.Client`` (qLogNEHVI), one trial at a time.

:class:`AxMOO` is the searcher, with no Ray: ``suggest(trial_id)`` / ``observe(trial_id,
result)`` / ``get_state`` / ``set_state``. Ray Tune drives it through the thin ``Searcher`` in
:mod:`moo.searchers.ray_ax` (Ray's built-in ``AxSearch`` targets the removed ``AxClient``
service API and optimizes one metric). The client is built by :mod:`moo.searchers.ax_client`.

No wasted trials: Ax sees a conditional space flat, so it proposes configs that differ only
in inactive parameters (``bnb_int8`` with another ``bits``), and it deduplicates only exact
flat points. The searcher therefore keeps :class:`~moo.searchers.exclusion.MeasuredConfigs`
of the *active* configs run, running or measured elsewhere (:meth:`AxMOO.tell`). A
proposal of such a config is told to Ax at once (completed with the stored measurement, or
abandoned while its twin is still running: Ax treats both as observed/pending points) and
the nearest config not yet run (the space's distance, over a Sobol candidate pool) is
attached to Ax and run instead (``max_reasks`` > 0 asks Ax again first; measured on the
compression space, qLogNEHVI with inferred noise re-proposed its best measured point even
after being told it twice, and each ask is a model fit, so the default is 0). Measurements carry
their standard error when the result has ``<metric>_sem`` or ``<metric>_stderr``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ax.api.client import Client
from ax.exceptions.core import DataRequiredError, OptimizationComplete
from ax.exceptions.generation_strategy import (
    GenerationStrategyRepeatedPoints,
    MaxParallelismReachedException,
)

from moo.searchers.ax_client import ax_client_for
from moo.searchers.exclusion import MeasuredConfigs
from moo.searchers.fused_kernel import ensure_fused_kernel
from moo.searchers.problem import SearchProblem

logger = logging.getLogger(__name__)
#: What :meth:`AxMOO.suggest` returns when the search is over (Tune's ``Searcher.FINISHED``).
FINISHED = "FINISHED"

class AxMOO:
    """Multi-objective searcher backed by ``ax.api.Client``.

    Conditional parameters are searched flat: Ax sees every parameter, and the config
    handed to Tune keeps only the active ones. A config is handed out at most ``repeats``
    times (failed runs count); see the module doc for how repeats are refused.

    Args:
        problem: Parameters, objectives (1 to 4) and outcome constraints.
        points_to_evaluate: Warm-start configs, suggested (and attached to Ax) first; one
            already run is skipped.
        seed: Seeds Ax's Sobol initialization, its candidate generation and the pool of
            replacement candidates.
        use_thresholds: Pass each objective's ``ref`` to Ax as its objective threshold.
        initialization_budget: Sobol trials before modelling (Ax's default: 5).
        method: Ax generation method ("fast" = BoTorch defaults, "quality" = SAAS).
        sem: Known noise standard error of every measurement (0.0 for deterministic
            benchmarks); None lets Ax infer the noise. A result key ``<metric>_sem`` (or
            lm-eval's ``<metric>_stderr``) overrides it per metric.
        repeats: Runs allowed per config (``search.repeats``; 1 = never measured twice).
        max_reasks: Times Ax is asked again after proposing a config already run, before
            the nearest new config replaces its proposal (each ask is one model fit).
    """

    def __init__(
        self,
        problem: SearchProblem,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        use_thresholds: bool = True,
        initialization_budget: int | None = None,
        method: Literal["fast", "quality", "random_search"] = "fast",
        sem: float | None = None,
        repeats: int = 1,
        max_reasks: int = 0,
    ) -> None:
        self.problem = problem
        self._client = ax_client_for(problem, seed, use_thresholds, initialization_budget, method)
        self._seed = seed
        self._sem = sem
        self._warm = [problem.complete(cfg) for cfg in points_to_evaluate or ()]
        self._live: dict[str, int] = {}
        self.memory = MeasuredConfigs(problem, repeats, seed)
        self.max_reasks = max_reasks
        self.replaced = 0  # proposals of a config already run, replaced by a new one

    @property
    def client(self) -> Client:
        """The underlying Ax client (for reports: ``client.get_pareto_frontier()``)."""
        return self._client

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """Next config for Tune trial ``trial_id``, never one that used up its runs.

        Returns None while Ax waits for running trials' data (e.g. more concurrent trials
        than its initialization budget) and :data:`FINISHED` once Ax says the search is
        complete or no config is left to run.
        """
        while self._warm:
            params = self._warm.pop(0)
            if self.memory.allows(params):
                return self._start(trial_id, self._client.attach_trial(parameters=params), params)
            logger.info("warm start %s was run already; skipped", self.problem.active(params))
        proposal: dict[str, Any] | None = None
        for _ in range(self.max_reasks + 1):
            try:
                trials = self._client.get_next_trials(max_trials=1)
            except GenerationStrategyRepeatedPoints:
                break  # Ax's own deduplication gave up: pick a new config ourselves
            except OptimizationComplete:
                return FINISHED
            except (DataRequiredError, MaxParallelismReachedException):
                if not self._live:
                    raise  # nothing running can bring the data Ax is waiting for
                return None  # Tune asks again once a running trial completes
            if not trials:
                return None
            ((index, proposal),) = trials.items()
            if self.memory.allows(proposal):
                return self._start(trial_id, index, proposal)
            self._answer_repeat(index, proposal)
        return self._replace(trial_id, proposal)

    def _answer_repeat(self, index: int, params: Mapping[str, Any]) -> None:
        """Tell Ax about its proposal of a config already run: the stored measurement, or
        abandoned (a pending point for Ax) when there is none yet."""
        outcome = self.memory.outcome(params)
        logger.info("Ax proposed %s, which was run already; %s", self.problem.active(params),
                    "told Ax its measurement" if outcome else "abandoned in Ax")
        if outcome:
            self._client.complete_trial(index, raw_data=_from_json(outcome))
        else:
            self._client.mark_trial_abandoned(index)

    def _replace(self, trial_id: str, proposal: Mapping[str, Any] | None) -> dict[str, Any]:
        """Run the nearest config not run yet instead of ``proposal`` (attached to Ax)."""
        fresh = self.memory.fresh_nearest(proposal)
        if fresh is None:
            return FINISHED  # type: ignore[return-value]
        self.replaced += 1
        logger.info("running %s, the nearest new config, instead of Ax's repeat %s", fresh,
                    self.problem.active(proposal) if proposal else None)
        full = self.problem.complete(fresh)
        return self._start(trial_id, self._client.attach_trial(parameters=full), full)

    def _start(self, trial_id: str, index: int, params: Mapping[str, Any]) -> dict[str, Any]:
        self._live[trial_id] = index
        self.memory.start(trial_id, params)
        return self.problem.active(params)

    def attach(self, trial_id: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Run a config chosen elsewhere (e.g. by the LLM coordinator) as Tune trial
        ``trial_id``: Ax records it, and its result trains Ax's model like any other.

        Returns:
            The active config that runs.
        """
        full = self.problem.complete(config)
        return self._start(trial_id, self._client.attach_trial(parameters=full), full)

    def tell(self, config: Mapping[str, Any], result: Mapping[str, Any] | None) -> None:
        """A config measured outside this searcher (the uncompressed baseline): Ax gets it as
        a completed trial (failed when ``result`` lacks a metric) and it is not run again."""
        index = self._client.attach_trial(parameters=self.problem.complete(config))
        outcome = self._finish(index, result, error=False)
        self.memory.record(config, outcome)

    def observe(
        self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False
    ) -> None:
        """Report a finished trial; errors or missing/non-finite metrics mark it failed."""
        index = self._live.pop(trial_id, None)
        if index is None:
            logger.warning("AxMOO: unknown or already completed trial %s", trial_id)
            return
        self.memory.finish(trial_id, self._finish(index, result, error))

    def _finish(self, index: int, result: Mapping[str, Any] | None, error: bool) -> Any:
        """Complete (or fail) Ax trial ``index``; returns the outcome given to Ax, or None."""
        values = None if error else self.problem.metric_values(result)
        if values is None:
            reason = "trial errored" if error else "missing or non-finite metrics"
            self._client.mark_trial_failed(index, failed_reason=reason)
            return None
        raw = {name: self._outcome(name, v, result or {}) for name, v in values.items()}
        self._client.complete_trial(index, raw_data=raw)
        return raw

    def _outcome(self, name: str, value: float, result: Mapping[str, Any]) -> Any:
        """``value`` or ``(value, sem)``: the result's ``<name>_sem``, else its
        ``<name>_stderr``, else the searcher's ``sem``."""
        for sem in (result.get(f"{name}_sem"), result.get(f"{name}_stderr"), self._sem):
            if isinstance(sem, int | float) and math.isfinite(sem) and sem >= 0:
                return (value, float(sem))
        return value

    def get_state(self) -> dict[str, Any]:
        """Ax's JSON snapshot and this searcher's bookkeeping, as plain data (JSON-able)."""
        with tempfile.TemporaryDirectory(prefix="ax_state_") as folder:
            path = os.path.join(folder, "ax.json")
            self._client.save_to_json_file(path)
            with open(path) as f:
                ax_state = json.load(f)
        return {"ax": ax_state, "live": self._live, "warm": self._warm, "seed": self._seed,
                "memory": self.memory.get_state(), "replaced": self.replaced}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`get_state` returned; suggestions continue where they stopped."""
        with tempfile.TemporaryDirectory(prefix="ax_state_") as folder:
            path = os.path.join(folder, "ax.json")
            with open(path, "w") as f:
                json.dump(state["ax"], f)
            ensure_fused_kernel()
            self._client = Client.load_from_json_file(path)
        # The JSON snapshot drops the client's random seed; put it back so that restored
        # searches stay reproducible.
        self._client._random_seed = state["seed"]
        self._seed = state["seed"]
        self._live = {k: int(v) for k, v in state["live"].items()}
        self._warm = list(state["warm"])
        if "memory" in state:  # checkpoints written before the exclusion lack it
            self.memory.set_state(state["memory"])
            self.replaced = int(state.get("replaced", 0))


def _from_json(outcome: Mapping[str, Any]) -> dict[str, Any]:
    """A stored outcome back to Ax's form (JSON turned ``(mean, sem)`` into a list)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in outcome.items()}
