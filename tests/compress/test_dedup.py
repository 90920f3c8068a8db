"""DedupSearcher: a config measured before is answered from its measurement, not re-run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from compress.searchers import (
    AxMOOSearcher,
    Objective,
    Param,
    SearchProblem,
    make_optuna_searcher,
)
from compress.searchers.dedup import DedupSearcher, config_key

# Only two distinct configs when kind == "a" is drawn: {"kind": "a"} (y inactive) is one.
PROBLEM = SearchProblem(
    (Param("kind", choices=("a", "b")), Param("y", 0.0, 1.0, when={"kind": ("b",)})),
    (Objective("f", "max", 0.0), Objective("g", "min", 2.0)),
)


def f(cfg: dict[str, Any]) -> dict[str, float]:
    y = 0.5 if cfg["kind"] == "a" else cfg["y"]
    return {"f": y, "g": 1.0 - y}


def test_random_searcher_never_repeats_a_measured_config(tmp_path: Path) -> None:
    inner = make_optuna_searcher(PROBLEM, "random", seed=0)
    searcher = DedupSearcher(inner, PROBLEM, known={config_key({"kind": "a"}): f({"kind": "a"})},
                             max_skips=20)
    seen = []
    for i in range(6):
        cfg = searcher.suggest(f"t{i}")
        seen.append(config_key(cfg))
        searcher.on_trial_complete(f"t{i}", f(cfg))
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


def test_ax_duplicates_are_answered_and_let_through_after_max_skips() -> None:
    searcher = DedupSearcher(AxMOOSearcher(PROBLEM, points_to_evaluate=[{"kind": "a"}] * 3,
                                           seed=0), PROBLEM, max_skips=1)
    first = searcher.suggest("t0")
    searcher.on_trial_complete("t0", f(first))
    # the next two warm starts repeat {"kind": "a"}: one is answered, the second runs
    assert searcher.suggest("t1") == {"kind": "a"} and searcher.skipped == 1
    statuses = searcher.searcher.client.summarize()["trial_status"].tolist()
    assert statuses == ["COMPLETED", "COMPLETED", "RUNNING"]
