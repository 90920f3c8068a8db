"""One OPRO run end to end through the real shared ``llm`` app on the embedded SmolLM2-135M:
deploy/reuse → optimize → held-out report fanned out over Ray tasks → the same command again
costs no LLM call and writes no new event."""

from __future__ import annotations

import json

import pytest

from tests.conftest import GSM8K_DIR as GSM8K


@pytest.mark.slow
def test_opro_run_through_serve_then_resume_is_free(serving_stack, tmp_path, monkeypatch):
    from promptopt.config import load
    from promptopt.jobs import run_optimizer

    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path / "results"))
    overrides = [
        f"task.data_dir={GSM8K}", "task.train_size=4", "task.test_size=4", "task.max_tokens=32",
        "opro.steps=1", "opro.candidates_per_step=2", "opro.max_tokens=48",
        "opro.num_exemplars=2", f"evaluation.table={tmp_path / 'evals.sqlite'}",
        f"scorer.cache_path={tmp_path / 'cache.sqlite'}",
        f"optimizer.cache_path={tmp_path / 'cache.sqlite'}",
        "evaluation.fan_out_above=2", "evaluation.chunk_size=2",  # the report uses Ray tasks
        "evaluation.n_resamples=500", "progress=false", "name=e2e",
    ]  # fmt: skip
    config = load("opro", overrides=overrides)
    first = run_optimizer(config, "opro")

    folder = tmp_path / "results" / "promptopt" / "e2e"
    for name in (
        "config.yaml",
        "events.jsonl",
        "summary.json",
        "progress.png",
        "progress.html",
        "run.log",
        "ledger.json",
    ):
        assert (folder / name).is_file(), name
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    kinds = {e["event"] for e in events}
    assert {"evaluated", "meta_prompt", "step"} <= kinds
    meta = next(e for e in events if e["event"] == "meta_prompt")
    logged = json.dumps(meta["prompt"], ensure_ascii=False)[1:-1]
    assert logged in (folder / "run.log").read_text()  # logged in full, never truncated
    assert first["usage"]["optimization"]["calls"] >= 1 + 4  # optimizer + the baseline's 4
    held = first["heldout"]
    assert held["n"] == 4 and set(held["results"]) == {"baseline", "best"}
    for r in held["results"].values():
        assert 0.0 <= r["ci95"][0] <= r["accuracy"] <= r["ci95"][1] <= 1.0
    assert first["usage"]["report"]["calls"] <= 8

    again = run_optimizer(load("opro", overrides=overrides), "opro")
    assert again["resume"] == {"replayed_events": len(events), "new_events": 0}
    for k in ("calls", "prompt_tokens", "completion_tokens"):  # no new call
        assert again["usage"]["optimization"][k] == first["usage"]["optimization"][k]
    assert again["usage"]["report"]["calls"] == 0
    assert again["heldout"]["results"] == held["results"]


@pytest.mark.slow
def test_budget_stops_the_ray_task_fan_out_cleanly(serving_stack, tmp_path):
    from promptopt import build
    from promptopt.config import load
    from promptopt.tasks.gsm8k import load_gsm8k
    from serving.ledger import BudgetExceeded, BudgetLedger

    config = load("opro", overrides=[
        f"task.data_dir={GSM8K}", "task.max_tokens=8", "evaluation.fan_out_above=1",
        "evaluation.chunk_size=1", f"scorer.cache_path={tmp_path / 'cache.sqlite'}",
    ])  # fmt: skip
    ledger = BudgetLedger(max_calls=2)
    table: dict = {}
    evaluator = build.evaluator(config, build.client(config.scorer, None, ledger), table)
    examples = load_gsm8k("test", GSM8K)[:3]
    with pytest.raises(BudgetExceeded, match="2 of 3 chunks stored"):
        evaluator.score("Answer with a number.", examples)  # 3 Ray tasks share 2 calls
    assert ledger.usage.calls == 2 and len(table) == 2  # nothing overspent, nothing lost
    with pytest.raises(BudgetExceeded):
        evaluator.score("Answer with a number.", examples)
    assert ledger.usage.calls == 2
