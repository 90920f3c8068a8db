"""The optimizer-gains report: per-task runs merge into one headline, table and plot."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import gains_report


def row(task: str, method: str, heldout: float, diff_ci: tuple[float, float],
        budget: int | None = None, seed: int | None = None) -> dict:
    return {"task": task, "method": method, "seed": seed, "budget": budget, "llm_calls": 20,
            "instruction": method, "validation": heldout, "heldout": heldout,
            "ci95": [heldout - 0.05, heldout + 0.05], "strict": 0.0, "unparsed": 0,
            "vs_baseline": {"diff": sum(diff_ci) / 2, "ci95": list(diff_ci)},
            "vs_reference": {"diff": 0.0, "ci95": [-0.1, 0.1]}}


def block(task: str, gain_ci: tuple[float, float]) -> dict:
    rows = [row(task, "baseline", 0.2, (0.0, 0.0)), row(task, "reference", 0.3, (0.0, 0.2)),
            row(task, "fewshot", 0.6, gain_ci, budget=100, seed=0)]
    return {"task": task, "n_test": 300, "n_val": 20, "n_train": 100,
            "majority_label_accuracy": None, "best_reference": "r", "rows": rows,
            "curves": {"fewshot/s0": [[20, 0.2], [40, 0.6]]}, "wall_s": 1.0}


def test_runs_merge_with_later_tasks_replacing_earlier(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    first.write_text(json.dumps({"tasks": [block("sum", (-0.1, 0.1)), block("antonyms", (-0.2, 0.0))],
                                 "wall_s": 10.0}))
    second.write_text(json.dumps({"tasks": [block("sum", (0.2, 0.5))], "wall_s": 5.0}))
    merged = gains_report.merge([first, second])
    assert [b["task"] for b in merged["tasks"]] == ["sum", "antonyms"] and merged["wall_s"] == 15.0
    head = gains_report.headline(merged)
    assert head["tasks_with_a_significant_gain_over_baseline"] == ["sum"]
    assert head["tasks"]["sum"]["mean_heldout_by_method_and_budget"]["fewshot"][100] == 0.6
    table = gains_report.markdown(merged)
    assert table.count("\n| sum |") == 3 and "+0.350 [+0.200, +0.500]" in table
    gains_report.plot(merged, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
