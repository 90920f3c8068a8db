"""One curriculum stage end to end through the real ``llm`` Serve app and Ray Train.

SmolLM2-135M makes a handful of instructions, responses, critiques, revisions and judged
pairs, and a few constrained instructions whose samples lm-eval's IFEval checker scores into
rule pairs, through the shared Serve app; SFT then DPO run on 2 Ray Train workers (gloo,
LoRA, 2 steps each) with one injected worker failure that training survives by resuming from
its checkpoint; the trained model is served beside the base, both are scored on 3 IFEval
prompts and compared. A rerun of the same command does no work.
"""

from __future__ import annotations

import json

import pytest

from alignment.config import AlignmentConfig, EvalSettings
from alignment.generate import GenerateSettings
from alignment.pipeline import Pipeline
from alignment.rulegen import RuleSettings
from alignment.training import DPOSettings, TrainSettings

pytestmark = pytest.mark.slow


def test_one_stage_end_to_end(serving_stack, shared_ifeval, tmp_path):
    config = AlignmentConfig(
        run_name="e2e", stages=["explicit"], stage_app_cpus=0.5,
        generate=GenerateSettings(instructions=6, heldout=1, max_calls=6, max_tokens=40,
                                  instruction_max_tokens=120, shard_size=4,
                                  instruction_temperature=1.0, instruction_top_p=0.95,
                                  selfinstruct_style="completion", pair_source="both",
                                  rules=RuleSettings(instructions=3, samples_per_instruction=2,
                                                     max_tokens=24, shard_size=3)),
        train=TrainSettings(max_steps=2, save_steps=1, batch_size=1, num_workers=2,
                            cpus_per_worker=0.5, max_length=192, lora_r=4),
        dpo=DPOSettings(min_pairs=1),
        eval=EvalSettings(ifeval_dir=str(shared_ifeval), ifeval_n=3, max_tokens=24,
                          bootstrap_resamples=1000))
    pipeline = Pipeline(config, root=tmp_path)
    baseline = pipeline.baseline()
    report = pipeline.generate(0)
    assert report["steps"]["pairs"]["records"] >= 1, report
    assert report["steps"]["rule_samples"]["records"] == 3, report
    trained = pipeline.train(0, crash_after_step=1)
    sft = trained["sft"]
    assert sft["world_size"] == 2 and sft["steps"] == 2
    assert sft["resumed_from"], "the injected worker failure should resume from the step-1 checkpoint"
    stage = pipeline.stage_dir(0)
    assert (stage / "dpo" / "adapter" / "adapter_config.json").is_file()
    assert (stage / "dpo" / "model" / "config.json").is_file()
    result = pipeline.evaluate(0)
    assert len(result["ifeval_responses"]) == 3 and result["ifeval_keys"] == baseline["ifeval_keys"]
    assert set(result["vs_base"]) == {"prompt_strict", "prompt_loose", "inst_strict", "inst_loose"}
    rows = [json.loads(line) for line in (stage / "comparison.jsonl").read_text().splitlines()]
    assert len(rows) == 1  # the one held-out instruction: judged, a tie or skipped, once
    assert result["judged"] + sum(result["comparison_skipped"].values()) == 1
    table = pipeline.report()["rows"]
    assert [r["stage"] for r in table] == ["baseline", "explicit"]
    assert table[0]["ifeval"] == baseline["ifeval"]
    assert "| explicit |" in (pipeline.run.path / "report.md").read_text()

    events = list(pipeline.run.events())
    again = Pipeline(config, root=tmp_path).run_all()  # the same command again: nothing redone
    assert again["rows"] == table
    assert list(pipeline.run.events()) == events
