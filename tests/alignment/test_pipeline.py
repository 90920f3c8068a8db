"""The pipeline rejects bad configs before any work, evaluates on IFEval, and stops a stage
with too few pairs before training."""

from __future__ import annotations

import json

import pytest

from alignment.config import AlignmentConfig, EvalSettings
from alignment.ifeval.data import ENV_VAR
from alignment.pipeline import Pipeline
from alignment.report import table
from alignment.store import content_key
from serving.config import ConfigError
from serving.fakes import FakeScriptedLLM


def config(ifeval_dir, **kw) -> AlignmentConfig:
    kw.setdefault("stages", ["explicit"])
    return AlignmentConfig(eval=EvalSettings(ifeval_dir=str(ifeval_dir), ifeval_n=3,
                                             bootstrap_resamples=200), **kw)


def test_bad_stage_principle_or_ifeval_is_rejected_before_work(tmp_path, ifeval_dir, monkeypatch):
    with pytest.raises(ConfigError, match="`stages` names `nope`"):
        Pipeline(config(ifeval_dir, stages=["nope"]), root=tmp_path)
    with pytest.raises(KeyError, match="no principle `kindness`"):
        Pipeline(AlignmentConfig(eval=EvalSettings(ifeval_dir=str(ifeval_dir), ifeval_n=3,
                                                   judge_principle="kindness")), root=tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    with pytest.raises(ConfigError, match="set `IFEVAL_DIR="):
        Pipeline(AlignmentConfig(), root=tmp_path)
    with pytest.raises(ConfigError, match=r"`eval.ifeval_n` must be in \[1, 4\]"):
        Pipeline(AlignmentConfig(eval=EvalSettings(ifeval_dir=str(ifeval_dir))), root=tmp_path)
    assert not (tmp_path / "alignment").exists()  # nothing written
    pipeline = Pipeline(config(ifeval_dir, run_name="ok"), root=tmp_path)
    with pytest.raises(ConfigError, match="out of range"):
        pipeline.stages(2)
    with pytest.raises(RuntimeError, match="no finished data"):
        pipeline.train(0)  # nothing generated yet: a clear error, no training started


def test_a_changed_config_is_not_mixed_into_an_old_run(tmp_path, ifeval_dir):
    Pipeline(config(ifeval_dir, run_name="r"), root=tmp_path)
    with pytest.raises(ValueError, match="different config"):
        Pipeline(config(ifeval_dir, run_name="r", stages=["explicit", "implicit"]), root=tmp_path)


def test_too_few_pairs_stop_before_training(tmp_path, ifeval_dir):
    pipeline = Pipeline(config(ifeval_dir, run_name="few"), root=tmp_path)
    store = pipeline.store(0)
    for i in range(3):
        store.append("pairs", content_key(i), {"prompt": f"p{i}", "chosen": "a", "rejected": "b",
                                               "confidence": 1.0, "source": "rules", "principle": ""})
    store.mark_done("pairs")
    with pytest.raises(RuntimeError, match=r"3 preference pairs, fewer than `dpo.min_pairs=16`"):
        pipeline.train(0)
    assert not (pipeline.stage_dir(0) / "sft").exists()
    pipeline.config.dpo.min_pairs = 3
    with pytest.raises(RuntimeError, match="no SFT target"):
        pipeline.train(0)


def test_baseline_is_scored_by_ifeval_once_and_reported(tmp_path, ifeval_dir):
    pipeline = Pipeline(config(ifeval_dir, run_name="base"), root=tmp_path)
    llm = FakeScriptedLLM(lambda prompt, params: "a small brown dog")
    pipeline._base = llm  # stands in for the shared `llm` app
    base = pipeline.baseline()
    assert base["ifeval_keys"] == sorted(base["ifeval_keys"]) and len(base["ifeval_keys"]) == 3
    assert all(params["temperature"] == 0.0 for _, params in llm.calls)
    assert base["ifeval"]["prompt_strict"]["n"] == 3
    events = [e for e in pipeline.run.events() if e["event"] == "ifeval"]
    assert [e["key"] for e in events] == base["ifeval_keys"]
    calls = len(llm.calls)
    assert pipeline.baseline() == json.loads((pipeline.run.path / "baseline.json").read_text())
    assert len(llm.calls) == calls  # read back, not redone
    rows = pipeline.report()["rows"]
    assert "ifeval_responses" not in rows[0] and (pipeline.run.path / "report.png").is_file()
    assert "| baseline |" in (pipeline.run.path / "report.md").read_text()


def test_report_table_shows_intervals_and_differences():
    acc = {"value": 0.5, "low": 0.3, "high": 0.7, "correct": 5, "n": 10}
    diff = {"diff": 0.1, "low": -0.05, "high": 0.25, "p_value": 0.1, "n": 10}
    metrics = ("prompt_strict", "prompt_loose", "inst_strict", "inst_loose")
    rows = [{"stage": "baseline", "ifeval": dict.fromkeys(metrics, acc)},
            {"stage": "explicit", "ifeval": dict.fromkeys(metrics, acc),
             "vs_base": dict.fromkeys(metrics, diff), "pairs": 300, "win_rate": None}]
    text = table(rows)
    assert "IFEval on 10 held-out prompts" in text
    assert "| explicit | 0.500 [0.300, 0.700] |" in text
    assert "| explicit | +0.100 [-0.050, +0.250] |" in text
