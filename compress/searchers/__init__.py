"""Multi-objective Ray Tune searchers built from one :class:`SearchProblem`.

- :class:`AxMOOSearcher`: Ax's ``ax.api.Client`` (qLogNEHVI), up to 4 objectives.
- :func:`make_optuna_searcher`: Optuna NSGA-II / TPE / GP through Ray's ``OptunaSearch``.
- :func:`make_random_searcher`: seeded random baseline.
- :func:`make_searcher`: any of them by name (``search.searcher``); :func:`register` adds one.
- :mod:`~compress.searchers.exclusion` / :mod:`~compress.searchers.dedup`: no config is run
  twice (the nearest new config replaces a repeat); :mod:`~compress.searchers.encoding`: the
  space's unit-cube encoding, Sobol designs and distance; :mod:`~compress.searchers.fused_kernel`:
  BoTorch's fused kernel built once per machine under an flock.

All of them are ``ray.tune.search.Searcher`` objects: pass one as
``TuneConfig(search_alg=...)``, or call ``suggest`` / ``on_trial_complete`` / ``save`` /
``restore`` directly.
"""

from compress.searchers.ax_moo import MAX_AX_OBJECTIVES, AxMOOSearcher, ax_client_for
from compress.searchers.optuna_moo import (
    MOOptunaSearch,
    make_optuna_searcher,
    make_random_searcher,
)
from compress.searchers.problem import Constraint, Objective, Param, SearchProblem
from compress.searchers.registry import SEARCHERS, make_searcher, register

__all__ = [
    "MAX_AX_OBJECTIVES",
    "AxMOOSearcher",
    "Constraint",
    "MOOptunaSearch",
    "SEARCHERS",
    "Objective",
    "Param",
    "SearchProblem",
    "ax_client_for",
    "make_optuna_searcher",
    "make_random_searcher",
    "make_searcher",
    "register",
]
