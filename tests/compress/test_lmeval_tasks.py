"""The local lm-eval tasks: files written from GSM8K_DIR, lm-eval reads them (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from compress.measure.energy import power_source
from compress.measure.lmeval import TASKS, build_task_dir, flatten, match_examples
from tests.conftest import GSM8K_DIR

GSM8K = Path(GSM8K_DIR)


def test_match_items_hold_the_reference_solution() -> None:
    items = match_examples(GSM8K / "test.jsonl")
    first = json.loads((GSM8K / "test.jsonl").read_text().splitlines()[0])
    assert len(items) == 1319 and items[0]["question"] == first["question"]
    gold = items[0]["choices"][items[0]["label"]]
    assert gold.strip().endswith(first["answer"].rsplit("####", 1)[1].strip())
    assert "<<" not in gold and len(set(items[0]["choices"])) == 4
    assert match_examples(GSM8K / "test.jsonl") == items  # seeded


def test_task_dir_is_read_by_lm_eval(tmp_path: Path) -> None:
    from lm_eval.tasks import TaskManager

    out = build_task_dir(GSM8K, tmp_path, num_fewshot=3, max_gen_toks=64)
    gsm = yaml.safe_load((out / "rayopt_gsm8k.yaml").read_text())
    assert gsm["num_fewshot"] == 3 and gsm["generation_kwargs"]["max_gen_toks"] == 64
    assert gsm["dataset_kwargs"]["data_files"]["test"] == str(GSM8K.resolve() / "test.jsonl")
    assert [f["name"] for f in gsm["filter_list"]] == ["strict-match", "flexible-extract"]
    manager = TaskManager(include_path=str(out), include_defaults=False)
    assert set(TASKS) <= set(manager.all_tasks)


def test_missing_gsm8k_and_empty_split(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no train.jsonl"):
        build_task_dir(tmp_path, tmp_path / "out", 1, 8)
    (tmp_path / "test.jsonl").write_text("")
    with pytest.raises(ValueError, match="is empty"):
        match_examples(tmp_path / "test.jsonl")


def test_flatten_keeps_stderr_and_marks_missing_ones() -> None:
    results = {"rayopt_gsm8k": {"exact_match,strict-match": 0.25,
                                "exact_match_stderr,strict-match": 0.1,
                                "exact_match,flexible-extract": 0.5,
                                "exact_match_stderr,flexible-extract": "N/A"}}
    out = flatten(results)
    assert out["gsm8k_strict"] == 0.25 and out["gsm8k_strict_stderr"] == 0.1
    assert out["gsm8k_flexible"] == 0.5 and out["gsm8k_flexible_stderr"] is None


def test_power_source_says_measured_or_estimated() -> None:
    class CPU:
        def __init__(self, mode: str) -> None:
            self._mode = mode

    class RAM:
        pass

    class GPU:
        pass

    assert power_source([RAM(), CPU("cpu_load")]) == "estimated: RAM(size), CPU(cpu_load)"
    assert power_source([GPU(), CPU("intel_rapl")]) == "measured: GPU(nvml), CPU(intel_rapl)"
