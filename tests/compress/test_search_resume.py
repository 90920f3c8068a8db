"""The search under a real Tuner, with a cheap fake objective: events, tables, resume.

``FakeCompressTrial`` stands in for compress + measure (seconds instead of minutes); the
Tune wiring, the searcher, the event log, ``results.csv``, ``pareto.json`` and
``Tuner.restore`` are the real ones.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest
from ray import cloudpickle, tune

from compress.config import load
from compress.experiment import trial_events
from compress.ray_search import run_search
from tests.conftest import GSM8K_DIR


def FakeCompressTrial(params: dict[str, Any], cfg: Any, workdir: Path, threads: int = 1,  # noqa: N802
                      baseline_accuracy: float | None = None) -> dict[str, Any]:
    """Deterministic metrics from the config: fewer bits → smaller, faster, less accurate."""
    bits = {"none": 32, "bnb_int8": 8, "bnb_nf4": 4, "bnb_fp4": 4}.get(
        params["method"], params.get("bits", 16))
    sparsity = params.get("sparsity", 0.5 if params.get("pruning") == "nm_2_4" else 0.0)
    accuracy = 0.6 - 0.2 / bits - 0.3 * sparsity**2
    out = {**params, "label": params["method"], "accuracy": accuracy,
           "decode_tps_b1": 10.0 + 64.0 / bits, "disk_mb": 16.0 * bits, "peak_mem_mb": 100.0}
    if baseline_accuracy is not None:
        out["accuracy_drop"] = baseline_accuracy - accuracy
    return out


class FakeInterrupt(tune.Callback):
    """Sends this process SIGINT (Ctrl+C) after ``after`` trials, once: Tune saves and stops.

    ``Tuner.restore`` brings stored callbacks back, so "once" is a marker file, not state.
    """

    def __init__(self, after: int, marker: Path) -> None:
        self.after, self.seen, self.marker = after, 0, marker

    def on_trial_complete(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        self.seen += 1
        if self.seen >= self.after and not self.marker.exists():
            self.marker.touch()
            os.kill(os.getpid(), signal.SIGINT)


cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.mark.slow
def test_interrupted_search_resumes_with_tuner_restore(
    ray_session: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path))
    cfg = load(overrides=[
        "name=fake", "search.num_samples=5", "search.searcher=ax",
        "search.initialization_budget=2", f"eval.gsm8k_dir={GSM8K_DIR}",
        "search.objectives=[{name: accuracy, mode: max, ref: 0.3}, "
        "{name: disk_mb, mode: min, ref: 600}]",
        "search.constraints=['accuracy_drop <= 0.2']",
        "search.warm_start=[{method: bnb_int8}, {method: rtn, bits: 4, group_size: 64}]",
    ])
    first = run_search(cfg, trial_fn=FakeCompressTrial, callbacks=[FakeInterrupt(2, tmp_path / "interrupted")])
    run = tmp_path / "compress" / "fake"
    done = [e["trial_id"] for e in trial_events(run)]
    assert done[0] == "baseline" and 3 <= len(done) < 6 and first["trials"] == len(done)

    second = run_search(cfg, trial_fn=FakeCompressTrial)  # same command: resumes
    events = trial_events(run)
    ids = [e["trial_id"] for e in events]
    assert len(ids) == len(set(ids)) == 6  # baseline + 5 trials, none twice
    configs = {json.dumps(e["params"], sort_keys=True) for e in events}
    assert len(configs) == 6  # no config measured twice (the baseline included)
    assert second["distinct_configs"] == 5
    assert ids[: len(done)] == done
    assert [e["params"]["method"] for e in events[1:3]] == ["bnb_int8", "rtn"]  # warm start
    assert all(e["status"] == "ok" for e in events)
    first_trial = events[1]["metrics"]
    assert first_trial["accuracy_drop"] == pytest.approx(0.6 - 0.2 / 32 - (0.6 - 0.2 / 8))
    assert first_trial["feasible"] == 1

    pareto = json.loads((run / "pareto.json").read_text())
    assert pareto["n_trials"] == 6 and pareto["hypervolume"] > 0
    assert len(pareto["hypervolume_curve"]) == 6
    assert second["hypervolume"] == pareto["hypervolume"]
    rows = (run / "results.csv").read_text().splitlines()
    assert len(rows) == 7 and "accuracy_drop" in rows[0]
    assert (run / "pareto.html").exists() and (run / "pareto.png").exists()
