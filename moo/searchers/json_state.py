"""``save``/``restore`` of a Tune ``Searcher`` as one JSON file of its ``get_state()``.

JSON rather than Ray's default pickle: a checkpoint stays readable, and survives library
upgrades that rename classes.
"""

from __future__ import annotations

import json

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
