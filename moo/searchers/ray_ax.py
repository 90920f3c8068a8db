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
from moo.searchers.json_state import JSONStateSearcher
from moo.searchers.problem import SearchProblem


class AxMOOSearcher(JSONStateSearcher):
    """Tune's view of :class:`AxMOO`; takes the same arguments."""

    def __init__(
        self,
        problem: SearchProblem,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        **options: Any,
    ) -> None:
        super().__init__(metric=problem.metric_names, mode=problem.modes)
        self.core = AxMOO(problem, points_to_evaluate, seed, **options)

    def __getattr__(self, name: str) -> Any:
        if name == "core":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.core, name)

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict, **spec: Any
    ) -> bool:
        """Decline Tune's ``param_space``: the space is fixed by ``problem`` at construction.

        Tune then merges constant ``param_space`` entries into each suggestion and raises
        on search domains there, as with Ray's own searchers.
        """
        return False

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        return self.core.suggest(trial_id)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        self.core.observe(trial_id, result, error)

    def get_state(self) -> dict[str, Any]:
        return self.core.get_state()

    def set_state(self, state: Mapping[str, Any]) -> None:
        self.core.set_state(state)
