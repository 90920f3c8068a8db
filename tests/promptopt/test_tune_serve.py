"""``python -m promptopt tune`` through real Ray Tune and the shared ``llm`` app on the
embedded SmolLM2-135M: two trials, a Pareto front on disk, then the same command again
restores the finished experiment (``Tuner.restore``) and pays for no LLM call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import GSM8K_DIR as GSM8K


def _trial_events(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): len(p.read_text().splitlines())
            for p in sorted(folder.glob("trials/*/events.jsonl"))}  # fmt: skip


@pytest.mark.slow
def test_tune_sweep_writes_a_front_and_restores(serving_stack, tmp_path, monkeypatch):
    from promptopt.config import load
    from promptopt.ray_tune import run_tune

    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path / "results"))
    overrides = [
        f"task.data_dir={GSM8K}", "task.train_size=3", "task.max_tokens=24",
        "tune.methods=[opro]", "tune.num_samples=2", "tune.max_concurrent=1",
        "tune.val_size=3", "tune.opro_steps=1", "tune.opro_candidates_per_step=[1, 2]",
        "opro.max_tokens=32", "opro.num_exemplars=1",
        f"scorer.cache_path={tmp_path / 'cache.sqlite'}",
        f"optimizer.cache_path={tmp_path / 'cache.sqlite'}", "name=tune-e2e",
    ]  # fmt: skip
    first = run_tune(load("tune", preset="demo", overrides=overrides))
    assert first["trials"] == 2 and first["errors"] == 0
    folder = tmp_path / "results" / "promptopt" / "tune-e2e"
    pareto = json.loads((folder / "pareto.json").read_text())  # moo.report's format
    assert pareto["objectives"] == {"accuracy": "max", "llm_tokens": "min"}
    assert pareto["n_trials"] == 2 and pareto["hypervolume"] is not None
    for t in pareto["trials"]:
        accuracy, tokens = t["values"]
        assert 0.0 <= accuracy <= 1.0 and tokens > 0
        assert 1 <= t["params"]["candidates_per_step"] <= 2
    assert pareto["front"] and (folder / "pareto.html").is_file()
    assert (folder / "pareto.png").is_file()
    events = _trial_events(folder)
    assert len(events) == 2 and all(n > 0 for n in events.values())

    again = run_tune(load("tune", preset="demo", overrides=overrides))  # restores, reruns nothing
    assert again["trials"] == 2 and _trial_events(folder) == events  # re-logged, counted once
    assert json.loads((folder / "pareto.json").read_text())["n_trials"] == 2
    assert sorted(t["llm_tokens"] for t in again["pareto"]) == sorted(
        t["llm_tokens"] for t in first["pareto"]
    )
