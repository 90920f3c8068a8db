"""``save``/``restore`` of a Tune ``Searcher`` as one JSON file of its ``get_state()``, and
:class:`CoreSearcher`, the thin Tune ``Searcher`` over a searcher core that has no Ray.

JSON rather than Ray's default pickle: a checkpoint stays readable, and survives library
upgrades that rename classes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ray.tune.search import Searcher


class JSONStateSearcher(Searcher):
    """A ``Searcher`` whose ``get_state``/``set_state`` hold plain JSON-able data."""

    def save(self, checkpoint_path: str) -> None:
        """Write ``get_state()`` to one JSON file."""
        with open(checkpoint_path, "w") as f:
            json.dump(self.get_state(), f)

    def restore(self, checkpoint_path: str) -> None:
        """Load what :meth:`save` wrote; suggestions continue where they stopped."""
        with open(checkpoint_path) as f:
            self.set_state(json.load(f))


class CoreSearcher(JSONStateSearcher):
    """A Tune ``Searcher`` over a searcher core with no Ray: an object with ``problem``,
    ``suggest(trial_id)``, ``observe(trial_id, result, error)``, ``get_state()`` and
    ``set_state(state)``. The core's other members are reachable on the searcher too.

    Tune's ``param_space`` is declined (:meth:`set_search_properties`): the space is fixed by
    the core's problem, and Tune then merges constant ``param_space`` entries into each
    suggestion and raises on search domains there, as with Ray's own searchers.
    """

    def __init__(self, core: Any) -> None:
        super().__init__(metric=core.problem.metric_names, mode=core.problem.modes)
        self.core = core

    def __getattr__(self, name: str) -> Any:
        if name == "core":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.core, name)

    def set_search_properties(
        self, metric: str | None, mode: str | None, config: dict, **spec: Any
    ) -> bool:
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
