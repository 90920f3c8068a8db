"""No wasted trials: a config already run is never handed out again (``repeats`` aside).

Ax is fixed in the searcher (:class:`AxMOOSearcher` excludes what it ran or was told, tells Ax
about every repeat it proposes, and runs the nearest new config instead); other searchers go
through :class:`DedupSearcher`, which answers repeats and then attaches the nearest new one.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from moo.searchers import (
    AxMOOSearcher,
    Objective,
    Param,
    SearchProblem,
    make_optuna_searcher,
)
from moo.searchers.ray_dedup import DedupSearcher, config_key

# Only two distinct configs when kind == "a" is drawn: {"kind": "a"} (y inactive) is one.
PROBLEM = SearchProblem(
    (Param("kind", choices=("a", "b")), Param("y", 0.0, 1.0, when={"kind": ("b",)})),
    (Objective("f", "max", 0.0), Objective("g", "min", 2.0)),
)
# A small discrete space seen flat by Ax (4 * 3 * 2 = 24 points) with 7 distinct configs:
# a/1, a/2, a/3, b/False, b/True, c, d.
DISCRETE = SearchProblem(
    (Param("kind", choices=("a", "b", "c", "d")),
     Param("level", choices=(1, 2, 3), when={"kind": ("a",)}),
     Param("flag", choices=(False, True), when={"kind": ("b",)})),
    (Objective("f1", "max", 0.0), Objective("f2", "min", 10.0)),
)


def f(cfg: dict[str, Any]) -> dict[str, float]:
    y = 0.5 if cfg["kind"] == "a" else cfg["y"]
    return {"f": y, "g": 1.0 - y}


def fake(cfg: dict[str, Any]) -> dict[str, float]:
    """A cheap deterministic objective on DISCRETE."""
    v = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 0.5}[cfg["kind"]]
    v += 0.3 * cfg.get("level", 0) + 0.2 * cfg.get("flag", False)
    return {"f1": v, "f2": 4.0 - v + 0.1 * cfg.get("level", 0)}


def drive(searcher: Any, n: int, objective: Any = fake) -> list[dict[str, Any] | str | None]:
    """Suggest/complete one trial at a time, as Tune does with one concurrent trial."""
    out: list[dict[str, Any] | str | None] = []
    for i in range(n):
        config = searcher.suggest(f"t{i}")
        out.append(config)
        if not isinstance(config, dict):
            break
        searcher.on_trial_complete(f"t{i}", objective(config))
    return out


def test_random_searcher_never_repeats_a_measured_config(tmp_path: Path) -> None:
    inner = make_optuna_searcher(PROBLEM, "random", seed=0)
    searcher = DedupSearcher(inner, PROBLEM, known={config_key({"kind": "a"}): f({"kind": "a"})},
                             max_skips=20)
    seen = [config_key(c) for c in drive(searcher, 6, f)]
    assert len(set(seen)) == 6 and config_key({"kind": "a"}) not in seen
    studied = inner._ot_study.trials
    assert searcher.skipped == len(studied) - 6 > 0  # every skip was told to Optuna
    assert all(t.state.name == "COMPLETE" for t in studied)

    # As Tune checkpoints a wrapper: its get_state, and the inner searcher's own save.
    path = str(tmp_path / "inner.pkl")
    inner.save(path)
    restored_inner = make_optuna_searcher(PROBLEM, "random", seed=0)
    restored_inner.restore(path)
    restored = DedupSearcher(restored_inner, PROBLEM)
    restored.set_state(searcher.get_state())
    assert restored.known == searcher.known and restored.skipped == searcher.skipped
    assert restored.suggest("t6") == searcher.suggest("t6")


def test_optuna_repeats_are_replaced_by_the_nearest_new_config() -> None:
    """Warm starts repeating the baseline: answered twice (max_skips=1), then the nearest
    new config is attached to the study (enqueued) instead of measuring a repeat."""
    inner = make_optuna_searcher(DISCRETE, "random", seed=0,
                                 points_to_evaluate=[{"kind": "d"}] * 3)
    searcher = DedupSearcher(inner, DISCRETE, known={config_key({"kind": "d"}): fake({"kind": "d"})},
                             max_skips=1)
    configs = drive(searcher, 8)
    assert configs[-1] == "FINISHED"  # 6 new configs + the baseline: the space is exhausted
    keys = [config_key(c) for c in configs[:-1]]
    assert len(keys) == len(set(keys)) == 6 and config_key({"kind": "d"}) not in keys
    assert searcher.replaced >= 1
    assert all(t.state.name == "COMPLETE" for t in inner._ot_study.trials)


def test_repeats_allow_a_config_twice() -> None:
    inner = make_optuna_searcher(DISCRETE, "random", seed=0, points_to_evaluate=[{"kind": "c"}] * 3)
    searcher = DedupSearcher(inner, DISCRETE, repeats=2, max_skips=0)
    first = drive(searcher, 3)
    assert first[:2] == [{"kind": "c"}, {"kind": "c"}] and first[2] != {"kind": "c"}


def test_ax_excludes_measured_and_told_configs_in_a_small_discrete_space() -> None:
    """The real Ax client and adapter (Sobol generation: no model fits, so fast) over a space
    it sees as 24 flat points: every proposal is a new config, 100% distinct, the baseline
    told up front is never proposed, warm starts that repeat are skipped, and once all 7
    configs ran the searcher says FINISHED."""
    ax = AxMOOSearcher(DISCRETE, seed=0, method="random_search",
                       points_to_evaluate=[{"kind": "c"}, {"kind": "d"}, {"kind": "c"}])
    searcher = DedupSearcher(ax, DISCRETE, known={config_key({"kind": "d"}): fake({"kind": "d"})})
    configs = drive(searcher, 10)
    assert configs[-1] == "FINISHED" and configs[0] == {"kind": "c"}
    keys = [config_key(c) for c in configs[:-1]]
    assert len(keys) == len(set(keys)) == 6 and config_key({"kind": "d"}) not in keys
    assert searcher.skipped == 0  # Ax never handed the wrapper a repeat
    assert ax.replaced > 0  # Sobol over the flat space did propose repeats: replaced
    statuses = set(ax.client.summarize()["trial_status"])
    assert statuses == {"COMPLETED"}  # repeats were told to Ax with their measurement


def test_ax_tells_and_restores_its_exclusions(tmp_path: Path) -> None:
    ax = AxMOOSearcher(DISCRETE, seed=1, method="random_search")
    ax.tell({"kind": "d"}, fake({"kind": "d"}))
    drive(ax, 3)
    path = str(tmp_path / "ax.json")
    ax.save(path)
    restored = AxMOOSearcher(DISCRETE, seed=1, method="random_search")
    restored.restore(path)
    assert restored.memory.get_state() == ax.memory.get_state()
    rest = [c for c in drive(restored, 10) if isinstance(c, dict)]
    assert len(rest) == 3  # 7 configs: the baseline and 3 ran before the checkpoint


def test_ax_sem_from_the_result() -> None:
    ax = AxMOOSearcher(DISCRETE, seed=0, method="random_search", sem=0.5)
    assert ax._outcome("f1", 2.0, {"f1_sem": 0.1}) == (2.0, 0.1)
    assert ax._outcome("f1", 2.0, {"f1_sem": None, "f1_stderr": 0.2}) == (2.0, 0.2)
    assert ax._outcome("f1", 2.0, {}) == (2.0, 0.5)
    assert AxMOOSearcher(DISCRETE, method="random_search")._outcome("f1", 2.0, {}) == 2.0


@pytest.mark.slow
def test_ax_model_proposals_are_all_distinct_in_a_small_discrete_space() -> None:
    """Ax's qLogNEHVI (model fits: ~10-40 s a step on 2 CPU cores) over DISCRETE."""
    warnings.filterwarnings("ignore", message="Very small noise values")
    ax = AxMOOSearcher(DISCRETE, seed=0, initialization_budget=2,
                       points_to_evaluate=[{"kind": "c"}])
    configs = drive(DedupSearcher(ax, DISCRETE), 8)
    keys = [config_key(c) for c in configs if isinstance(c, dict)]
    assert len(keys) == len(set(keys)) == 7 and configs[-1] == "FINISHED"
    assert "MBM" in set(ax.client.summarize()["generation_node"].dropna())
