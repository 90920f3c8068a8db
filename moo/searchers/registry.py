"""Searchers by name: one place that maps a config's ``search.searcher`` to a factory.

Every factory takes ``(problem, seed, points_to_evaluate, **options)`` and returns a Tune
``Searcher``; each imports its backend (Ax, Optuna, Ray Tune) when called, so importing the
registry imports none of them. Other modules add theirs with :func:`register` (the LLM coordinator registers
``llm``); :func:`make_searcher` imports the optional ones listed in :data:`PLUGINS` first.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from moo.searchers.problem import SearchProblem

logger = logging.getLogger(__name__)

SearcherFactory = Callable[..., Any]
SEARCHERS: dict[str, SearcherFactory] = {}
#: name → module that registers it on import (optional searchers live outside this file).
PLUGINS: dict[str, str] = {"llm": "moo.searchers.ray_llm"}


def register(name: str) -> Callable[[SearcherFactory], SearcherFactory]:
    """Decorator: ``@register("llm")`` adds a factory under ``name``."""

    def deco(factory: SearcherFactory) -> SearcherFactory:
        SEARCHERS[name] = factory
        return factory

    return deco


@register("ax")
def _ax(
    problem: SearchProblem,
    seed: int | None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None,
    **options: Any,
) -> Any:
    from moo.searchers.ray_ax import AxMOOSearcher

    return AxMOOSearcher(problem, points_to_evaluate=points_to_evaluate, seed=seed, **options)


def _optuna(sampler: str) -> SearcherFactory:
    def factory(
        problem: SearchProblem,
        seed: int | None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None,
        **options: Any,
    ) -> Any:
        from moo.searchers.ray_optuna import make_optuna_searcher

        return make_optuna_searcher(problem, sampler, seed, points_to_evaluate, **options)

    return factory


for _name in ("nsga2", "tpe", "gp", "random"):
    register(_name)(_optuna(_name))


def make_searcher(
    name: str,
    problem: SearchProblem,
    seed: int | None = None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    **options: Any,
) -> Any:
    """Build the searcher registered as ``name``.

    Raises:
        ValueError: On an unknown name, or a plugin whose module cannot be imported (the
            message says why).
    """
    if name not in SEARCHERS and name in PLUGINS:
        try:
            importlib.import_module(PLUGINS[name])
        except ImportError as exc:
            raise ValueError(
                f"searcher `{name}` is unavailable: importing {PLUGINS[name]} failed ({exc})."
            ) from exc
    if name not in SEARCHERS:
        raise ValueError(
            f"unknown searcher `{name}`; choose from {sorted(set(SEARCHERS) | set(PLUGINS))}."
        )
    return SEARCHERS[name](problem, seed, points_to_evaluate, **options)
