"""Ray Tune ``Searcher`` over :class:`~moo.searchers.ax_moo.AxMOO` (the search has no Ray).

Pass one as ``TuneConfig(search_alg=...)``; Tune's ``suggest`` / ``on_trial_complete`` /
``save`` / ``restore`` go to the core's ``suggest`` / ``observe`` / ``get_state`` /
``set_state`` (one JSON file). The core's other members (``attach``, ``tell``, ``client``,
``memory``, ``replaced``, ...) are reachable on the searcher too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from moo.searchers.ax_moo import AxMOO
from moo.searchers.problem import SearchProblem
from moo.searchers.ray_searcher import CoreSearcher


class AxMOOSearcher(CoreSearcher):
    """Tune's view of :class:`AxMOO`; takes the same arguments."""

    def __init__(
        self,
        problem: SearchProblem,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(AxMOO(problem, points_to_evaluate, seed, **options))
