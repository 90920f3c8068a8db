"""Ray Tune ``Searcher`` over :class:`~moo.searchers.llm_coordinator.LLMCoordinator`, and the
registry's ``llm`` searcher."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moo.searchers.ax_moo import AxMOO
from moo.searchers.llm_coordinator import LLMCoordinator
from moo.searchers.problem import SearchProblem
from moo.searchers.ray_searcher import CoreSearcher
from moo.searchers.registry import register
from serving.protocols import LLM


class LLMCoordinatorSearcher(CoreSearcher):
    """Tune's view of :class:`LLMCoordinator`; takes the same arguments (``fallback`` may
    also be an :class:`~moo.searchers.ray_ax.AxMOOSearcher`: its core is used)."""

    def __init__(self, problem: SearchProblem, llm: LLM | None = None, **options: Any) -> None:
        fallback = options.get("fallback")
        if fallback is not None and not isinstance(fallback, AxMOO):
            options["fallback"] = fallback.core
        super().__init__(LLMCoordinator(problem, llm, **options))


@register("llm")
def make_llm_coordinator(
    problem: SearchProblem,
    seed: int | None = None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    llm: LLM | None = None,
    initialization_budget: int | None = None,
    sem: float | None = None,
    repeats: int = 1,
    **kwargs: Any,
) -> LLMCoordinatorSearcher:
    """The registry's ``llm`` searcher.

    By default it asks the shared ``llm`` app through :class:`serving.client.LLMClient`
    (``RAYOPT_LLM_BASE_URL`` or the local Serve app; ``python -m serving up`` deploys it),
    built lazily so that Tune can pickle the searcher. ``initialization_budget``, ``sem`` and
    ``repeats`` configure the Ax fallback; other keyword arguments go to
    :class:`LLMCoordinator` (e.g. ``log_path``, ``temperature``).
    """
    if llm is None:
        from serving.client import LLMClient

        kwargs.setdefault("llm_factory", LLMClient)
    fallback = AxMOO(
        problem, seed=seed, initialization_budget=initialization_budget, sem=sem,
        repeats=repeats,
    )
    return LLMCoordinatorSearcher(
        problem, llm, fallback=fallback, points_to_evaluate=points_to_evaluate, **kwargs
    )
