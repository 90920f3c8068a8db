"""Multi-objective searchers built from one :class:`SearchProblem`.

- :class:`AxMOOSearcher`: Ax's ``ax.api.Client`` (qLogNEHVI), up to 4 objectives.
- :func:`make_optuna_searcher`: Optuna NSGA-II / TPE / GP through Ray's ``OptunaSearch``.
- :func:`make_random_searcher`: seeded random baseline.
- :func:`make_searcher`: any of them by name (``search.searcher``); :func:`register` adds one.
- :mod:`~moo.searchers.exclusion` / :mod:`~moo.searchers.ray_dedup`: no config is run
  twice (the nearest new config replaces a repeat); :mod:`~moo.searchers.encoding`: the
  space's unit-cube encoding, Sobol designs and distance; :mod:`~moo.searchers.fused_kernel`:
  BoTorch's fused kernel built once per machine under an flock.

The searches themselves have no Ray: :class:`AxMOO` (:mod:`~moo.searchers.ax_moo`, its client
from :mod:`~moo.searchers.ax_client`) and :class:`~moo.searchers.llm_coordinator.LLMCoordinator`
answer ``suggest`` / ``observe`` / ``get_state`` / ``set_state``. The ``ray_*`` modules are
Ray Tune ``Searcher`` objects (thin, over those cores, or over Ray's ``OptunaSearch``): pass
one as ``TuneConfig(search_alg=...)``, or call ``suggest`` / ``on_trial_complete`` /
``save`` / ``restore`` directly.

The names below load on first use (PEP 562), so importing the package, or one of its pure
modules (:mod:`~moo.searchers.problem`, ``encoding``, ``exclusion``, ``registry``), pulls
in neither Ray nor Ax nor Optuna.
"""

from __future__ import annotations

import importlib
from typing import Any

#: public name → the module that defines it
_LAZY = {
    "MAX_AX_OBJECTIVES": "moo.searchers.ax_client",
    "AxMOO": "moo.searchers.ax_moo",
    "AxMOOSearcher": "moo.searchers.ray_ax",
    "ax_client_for": "moo.searchers.ax_client",
    "MOOptunaSearch": "moo.searchers.ray_optuna",
    "make_optuna_searcher": "moo.searchers.ray_optuna",
    "make_random_searcher": "moo.searchers.ray_optuna",
    "Constraint": "moo.searchers.problem",
    "Objective": "moo.searchers.problem",
    "Param": "moo.searchers.problem",
    "SearchProblem": "moo.searchers.problem",
    "SEARCHERS": "moo.searchers.registry",
    "make_searcher": "moo.searchers.registry",
    "register": "moo.searchers.registry",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
