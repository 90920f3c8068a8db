"""One curriculum stage end to end through the real ``llm`` Serve app and Ray Train.

SmolLM2-135M makes a handful of instructions, responses, critiques, revisions and judged
pairs through the shared Serve app; SFT then DPO run on 2 Ray Train workers (gloo, LoRA,
2 steps each) with one injected worker failure that training survives by resuming from its
checkpoint; the trained model is served beside the base and both answer the same prompts.
A rerun of the same command does no work.
"""

from __future__ import annotations

import json

import pytest

from alignment.config import AlignmentConfig, EvalSettings
from alignment.generate import GenerateSettings
from alignment.pipeline import Pipeline
from alignment.training import TrainSettings

pytestmark = pytest.mark.slow


def test_one_stage_end_to_end(serving_stack, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("items:\n  - instruction: Say hello in at most five words.\n"
                     "    rules: [{kind: max_words, value: 5}]\n"
                     "  - instruction: Name two colours as a bulleted list.\n"
                     "    rules: [{kind: bullets, value: 2}]\n")
    config = AlignmentConfig(
        run_name="e2e", stages=["explicit"], stage_app_cpus=0.5,
        generate=GenerateSettings(instructions=6, heldout=1, max_calls=6, max_tokens=40,
                                  instruction_max_tokens=120, shard_size=4,
                                  instruction_temperature=1.0, instruction_top_p=0.95,
                                  selfinstruct_style="completion"),
        train=TrainSettings(max_steps=2, save_steps=1, batch_size=1, num_workers=2,
                            cpus_per_worker=0.5, max_length=192, lora_r=4),
        eval=EvalSettings(rules_path=str(rules), max_tokens=24))
    pipeline = Pipeline(config, root=tmp_path)
    baseline = pipeline.baseline()
    report = pipeline.generate(0)
    assert report["steps"]["pairs"]["records"] >= 1, report
    trained = pipeline.train(0, crash_after_step=1)
    sft = trained["sft"]
    assert sft["world_size"] == 2 and sft["steps"] == 2
    assert sft["resumed_from"], "the injected worker failure should resume from the step-1 checkpoint"
    stage = pipeline.stage_dir(0)
    assert (stage / "dpo" / "adapter" / "adapter_config.json").is_file()
    assert (stage / "dpo" / "model" / "config.json").is_file()
    result = pipeline.evaluate(0)
    assert len(result["rule_responses"]) == len(pipeline.rules.items)
    rows = [json.loads(line) for line in (stage / "comparison.jsonl").read_text().splitlines()]
    assert len(rows) == 1  # the one held-out instruction: judged, a tie or skipped, once
    assert result["judged"] + sum(result["comparison_skipped"].values()) == 1
    table = pipeline.report()["rows"]
    assert [r["stage"] for r in table] == ["baseline", "explicit"]
    assert table[0]["rule_strict"] == baseline["rule_strict"]
    assert "| explicit |" in (pipeline.run.path / "report.md").read_text()

    events = list(pipeline.run.events())
    again = Pipeline(config, root=tmp_path).run_all()  # the same command again: nothing redone
    assert again["rows"] == table
    assert list(pipeline.run.events()) == events
