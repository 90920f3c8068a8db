"""``python -m compress grid`` under a real Tuner with the cheap fake objective, resumed, then
the replay benchmark through ``ray.tune.Tuner`` on the grid it wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks import compress_replay
from compress.config import load
from compress.experiment import trial_events
from compress.ray_grid import run_grid
from tests.compress.test_search_resume import FakeCompressTrial
from tests.conftest import GSM8K_DIR


@pytest.mark.slow
def test_grid_measures_resumes_and_replays(ray_session: Any, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path))
    cfg = load(overrides=[
        "name=fakegrid", f"eval.gsm8k_dir={GSM8K_DIR}", "grid.samples=5", "grid.cover=false",
        f"grid.copy_to={tmp_path / 'data'}",
        "search.objectives=[{name: accuracy, mode: max, ref: 0.3}, "
        "{name: disk_mb, mode: min, ref: 600}]",
        "search.constraints=['accuracy_drop <= 0.2']",
        "search.warm_start=[{method: bnb_int8}, {method: rtn, bits: 4, group_size: 64}]",
    ])
    first = run_grid(cfg, trial_fn=FakeCompressTrial)
    run = tmp_path / "compress" / "fakegrid"
    assert first["configs"] == 7 and first["measured"] == 7 and first["errors"] == 0
    n_events = len(trial_events(run))
    second = run_grid(cfg, trial_fn=FakeCompressTrial)  # same command: nothing left to measure
    assert second["measured"] == 7 and len(trial_events(run)) == n_events == 8  # + baseline
    doc = json.loads((tmp_path / "data" / "grid.json").read_text())
    assert [r["source"] for r in doc["rows"]][:2] == ["standard", "standard"]
    assert doc["baseline"]["params"] == {"method": "none", "pruning": "none"}
    assert (tmp_path / "data" / "grid.csv").read_text().count("\n") == 8

    report = compress_replay.main(["--table", str(tmp_path / "data" / "grid.json"),
                                   "--methods", "random,ax", "--seeds", "2", "--budgets", "2,4",
                                   "--out", str(tmp_path / "replay")])
    for row in report["methods"].values():
        assert 0 < row["hv_frac"]["4"]["mean"] <= 1.0
        assert row["distinct"]["4"]["min"] == 4.0  # no repeats, even for Ax
    assert (tmp_path / "replay" / "replay_hv.png").is_file()
