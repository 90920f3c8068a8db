"""Ax's ``ax.api.Client`` configured for one :class:`~moo.searchers.problem.SearchProblem`.

Kept apart from the Tune ``Searcher`` (:mod:`moo.searchers.ax_moo`) so that a notebook, a test
or a benchmark can build and drive the client without Ray. Each objective's reference value
becomes an Ax objective threshold (``f >= ref`` / ``f <= ref``): measured on BraninCurrin,
this keeps Ax from locking onto one piece of the front.
"""

from __future__ import annotations

from typing import Literal

from ax.api.client import Client
from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig

from moo.searchers.fused_kernel import ensure_fused_kernel
from moo.searchers.problem import Param, SearchProblem

#: Ax switches from qLogNEHVI to ParEGO above this many objectives (and slows badly).
MAX_AX_OBJECTIVES = 4


def _ax_parameter(p: Param) -> RangeParameterConfig | ChoiceParameterConfig:
    """Translate one :class:`Param` to Ax's config (conditional ones stay flat: see
    :class:`~moo.searchers.ax_moo.AxMOOSearcher`)."""
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
    ensure_fused_kernel()
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
