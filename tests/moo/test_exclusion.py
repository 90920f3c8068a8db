"""MeasuredConfigs: runs per active config, repeats, and the nearest config not yet run."""

from __future__ import annotations

import json

import pytest

from moo.searchers import Objective, Param, SearchProblem
from moo.searchers.exclusion import MeasuredConfigs

# Five distinct configs: a/1, a/2, a/3, b, c ("level" is active only for kind a).
PROBLEM = SearchProblem(
    (Param("kind", choices=("a", "b", "c")), Param("level", choices=(1, 2, 3),
                                                    when={"kind": ("a",)})),
    (Objective("f", "max", 0.0),),
)


def test_runs_pending_and_failures_count_against_repeats() -> None:
    memory = MeasuredConfigs(PROBLEM)
    memory.start("t0", {"kind": "b", "level": 2})  # level is inactive: the config is {b}
    assert not memory.allows({"kind": "b", "level": 3})  # running counts
    memory.finish("t0", {"f": 1.0})
    assert memory.used({"kind": "b"}) == 1 and memory.outcome({"kind": "b"}) == {"f": 1.0}
    memory.start("t1", {"kind": "c"})
    memory.finish("t1", None)  # failed: counted, no outcome
    assert not memory.allows({"kind": "c"}) and memory.outcome({"kind": "c"}) is None
    assert memory.allows({"kind": "a", "level": 1})
    twice = MeasuredConfigs(PROBLEM, repeats=2)
    twice.record({"kind": "b"}, {"f": 1.0})
    assert twice.allows({"kind": "b"})
    twice.record({"kind": "b"}, {"f": 1.2})
    assert not twice.allows({"kind": "b"}) and twice.outcome({"kind": "b"}) == {"f": 1.2}
    with pytest.raises(ValueError, match="`repeats` must be >= 1"):
        MeasuredConfigs(PROBLEM, repeats=0)


def test_fresh_nearest_skips_what_ran_until_the_space_is_exhausted() -> None:
    memory = MeasuredConfigs(PROBLEM, seed=0)
    memory.record({"kind": "a", "level": 2}, {"f": 0.0})
    # nearest to a/2 among the rest: a/1 and a/3 (0.5 each: |2-1|/(3-1)); Sobol order decides
    first = memory.fresh_nearest({"kind": "a", "level": 2})
    assert first in ({"kind": "a", "level": 1}, {"kind": "a", "level": 3})
    proposed = [first]
    memory.record(first, None)
    while (config := memory.fresh_nearest({"kind": "a", "level": 2})) is not None:
        assert config not in proposed
        proposed.append(config)
        memory.record(config, None)
    assert len(proposed) == 4  # all five configs ran once: nothing new is left
    assert memory.fresh_nearest(None) is None


def test_state_round_trips_through_json() -> None:
    memory = MeasuredConfigs(PROBLEM, repeats=2, seed=5)
    memory.record({"kind": "b"}, {"f": 1.0})
    memory.start("t3", {"kind": "c"})
    restored = MeasuredConfigs(PROBLEM)
    restored.set_state(json.loads(json.dumps(memory.get_state())))
    assert restored.get_state() == memory.get_state()
    assert restored.used({"kind": "c"}) == 1 and restored.repeats == 2
