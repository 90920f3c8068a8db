"""Ray Tune ``Searcher`` around Ax's own ``ax.api.Client`` (qLogNEHVI for several objectives).

Ray's built-in ``AxSearch`` targets the removed ``AxClient`` service API and optimizes one
metric; this adapter keeps Ax's modern client and hands Tune one trial at a time. Each
objective's reference value becomes an Ax objective threshold (``f >= ref`` / ``f <= ref``):
measured on BraninCurrin, this keeps Ax from locking onto one piece of the front.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig
from ax.exceptions.core import DataRequiredError, OptimizationComplete
from ax.exceptions.generation_strategy import MaxParallelismReachedException
from ray.tune.search import Searcher

from compress.searchers.json_state import JSONStateSearcher
from compress.searchers.problem import Param, SearchProblem

logger = logging.getLogger(__name__)

#: Ax switches from qLogNEHVI to ParEGO above this many objectives (and slows badly).
MAX_AX_OBJECTIVES = 4


def no_runtime_kernel_build() -> None:
    """Keep BoTorch from JIT-compiling its fused qLogNEHVI kernel inside a search.

    BoTorch compiles ``logei_fused_ext`` with ``torch.utils.cpp_extension.load`` the first
    time the acquisition is built: a minute of C++ on a small node, repeated for every new
    environment, behind a lock file in ``~/.cache/torch_extensions``. A process killed while
    compiling (a timed-out trial, Ctrl-C) leaves that lock behind, and every later search
    on the machine then waits on it forever (seen in CI). A prebuilt ``logei_fused_ext``
    module is still used; otherwise BoTorch's pure-PyTorch path computes the same values.
    """
    from botorch.acquisition.multi_objective import logei

    if logei._load_attempted or importlib.util.find_spec("logei_fused_ext") is not None:
        return
    logei._load_attempted = True
    logger.info("BoTorch's fused qLogNEHVI kernel is not compiled at run time (PyTorch path).")


def _ax_parameter(p: Param) -> RangeParameterConfig | ChoiceParameterConfig:
    """Translate one :class:`Param` to Ax's config (conditional ones stay flat; see class)."""
    if p.choices is None:
        return RangeParameterConfig(
            name=p.name,
            bounds=(p.low, p.high),
            parameter_type="int" if p.integer else "float",
            scaling="log" if p.log else None,
        )
    kinds = {bool: "bool", int: "int", float: "float", str: "str"}
    kind = {kinds.get(type(v)) for v in p.choices}
    if kind == {"int", "float"}:
        kind = {"float"}
    if len(kind) != 1 or None in kind:
        raise ValueError(f"parameter `{p.name}`: choices must share one of bool/int/float/str.")
    ptype = kind.pop()
    return ChoiceParameterConfig(
        name=p.name,
        values=list(p.choices),
        parameter_type=ptype,
        is_ordered=ptype in ("int", "float"),
    )


def ax_client_for(
    problem: SearchProblem,
    seed: int | None = None,
    use_thresholds: bool = True,
    initialization_budget: int | None = None,
    method: Literal["fast", "quality", "random_search"] = "fast",
) -> Client:
    """A configured ``ax.api.Client`` for ``problem`` (exposed for tests and notebooks).

    Raises:
        ValueError: With more than :data:`MAX_AX_OBJECTIVES` objectives.
    """
    if len(problem.objectives) > MAX_AX_OBJECTIVES:
        raise ValueError(
            f"AxMOOSearcher models at most {MAX_AX_OBJECTIVES} objectives, got "
            f"{len(problem.objectives)} ({problem.metric_names}); Ax falls back to ParEGO "
            "above that. Turn the rest into `constraints` or derive them after the search."
        )
    no_runtime_kernel_build()
    client = Client(random_seed=seed)
    client.configure_experiment(parameters=[_ax_parameter(p) for p in problem.params])
    objective = ", ".join(("" if o.mode == "max" else "-") + o.name for o in problem.objectives)
    constraints = [str(c) for c in problem.constraints]
    if use_thresholds:
        ops = {"max": ">=", "min": "<="}
        constraints += [
            f"{o.name} {ops[o.mode]} {float(o.ref)!r}"
            for o in problem.objectives
            if o.ref is not None
        ]
    client.configure_optimization(objective=objective, outcome_constraints=constraints or None)
    client.configure_generation_strategy(
        method=method,
        initialization_budget=initialization_budget,
        initialization_random_seed=seed,
    )
    return client


class AxMOOSearcher(JSONStateSearcher):
    """Multi-objective Tune searcher backed by ``ax.api.Client``.

    Conditional parameters are searched flat: Ax sees every parameter, and the config
    handed to Tune keeps only the active ones.

    Args:
        problem: Parameters, objectives (1 to 4) and outcome constraints.
        points_to_evaluate: Warm-start configs, suggested (and attached to Ax) first.
        seed: Seeds Ax's Sobol initialization and its candidate generation.
        use_thresholds: Pass each objective's ``ref`` to Ax as its objective threshold.
        initialization_budget: Sobol trials before modelling (Ax's default: 5).
        method: Ax generation method ("fast" = BoTorch defaults, "quality" = SAAS).
        sem: Known noise standard error of every measurement (0.0 for deterministic
            benchmarks); None lets Ax infer the noise. A result key ``<metric>_sem``
            overrides it per metric.
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
    ) -> None:
        super().__init__(metric=problem.metric_names, mode=problem.modes)
        self.problem = problem
        self._client = ax_client_for(problem, seed, use_thresholds, initialization_budget, method)
        self._seed = seed
        self._sem = sem
        self._warm = [problem.complete(cfg) for cfg in points_to_evaluate or ()]
        self._live: dict[str, int] = {}

    @property
    def client(self) -> Client:
        """The underlying Ax client (for reports: ``client.get_pareto_frontier()``)."""
        return self._client

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict, **spec: Any
    ) -> bool:
        """Decline Tune's ``param_space``: the space is fixed by ``problem`` at construction.

        Tune then merges constant ``param_space`` entries into each suggestion and raises
        on search domains there, as with Ray's own searchers.
        """
        return False

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """Next config for Tune trial ``trial_id``.

        Returns None while Ax waits for running trials' data (e.g. more concurrent trials
        than its initialization budget) and ``Searcher.FINISHED`` once Ax says the search
        is complete.
        """
        if self._warm:
            params = self._warm.pop(0)
            index = self._client.attach_trial(parameters=params)
        else:
            try:
                trials = self._client.get_next_trials(max_trials=1)
            except OptimizationComplete:
                return Searcher.FINISHED
            except (DataRequiredError, MaxParallelismReachedException):
                if not self._live:
                    raise  # nothing running can bring the data Ax is waiting for
                return None  # Tune asks again once a running trial completes
            if not trials:
                return None
            ((index, params),) = trials.items()
        self._live[trial_id] = index
        return self.problem.active(params)

    def attach(self, trial_id: str, config: Mapping[str, Any]) -> None:
        """Run a config chosen elsewhere (e.g. by the LLM coordinator) as Tune trial
        ``trial_id``: Ax records it, and its result trains Ax's model like any other."""
        self._live[trial_id] = self._client.attach_trial(parameters=self.problem.complete(config))

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Report a finished trial; errors or missing/non-finite metrics mark it failed."""
        index = self._live.pop(trial_id, None)
        if index is None:
            logger.warning("AxMOOSearcher: unknown or already completed trial %s", trial_id)
            return
        values = None if error else self.problem.metric_values(result)
        if values is None:
            reason = "trial errored" if error else "missing or non-finite metrics"
            self._client.mark_trial_failed(index, failed_reason=reason)
            return
        raw = {name: self._outcome(name, v, result) for name, v in values.items()}
        self._client.complete_trial(index, raw_data=raw)

    def _outcome(self, name: str, value: float, result: Mapping[str, Any]) -> Any:
        sem = result.get(f"{name}_sem", self._sem)
        return value if sem is None else (value, float(sem))

    def get_state(self) -> dict[str, Any]:
        """Ax's JSON snapshot and this adapter's bookkeeping, as plain data."""
        with tempfile.TemporaryDirectory(prefix="ax_state_") as folder:
            path = os.path.join(folder, "ax.json")
            self._client.save_to_json_file(path)
            with open(path) as f:
                ax_state = json.load(f)
        return {"ax": ax_state, "live": self._live, "warm": self._warm, "seed": self._seed}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`get_state` returned; suggestions continue where they stopped."""
        with tempfile.TemporaryDirectory(prefix="ax_state_") as folder:
            path = os.path.join(folder, "ax.json")
            with open(path, "w") as f:
                json.dump(state["ax"], f)
            no_runtime_kernel_build()
            self._client = Client.load_from_json_file(path)
        # The JSON snapshot drops the client's random seed; put it back so that restored
        # searches stay reproducible.
        self._client._random_seed = state["seed"]
        self._seed = state["seed"]
        self._live = {k: int(v) for k, v in state["live"].items()}
        self._warm = list(state["warm"])
