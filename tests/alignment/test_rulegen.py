"""Rule pairs in a stage's store: sampling, checking, pairs, SFT targets, resume."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alignment.constitution import Constitution, Stage
from alignment.generate import GenerateSettings, StageData
from alignment.ifeval.offline import ifeval_modules
from alignment.rulegen import RuleData, RuleSettings, passing_records
from alignment.store import StageStore
from serving.fakes import FakeScriptedLLM

KINDS = ["punctuation:no_comma", "change_case:english_lowercase"]
TASKS = ["Describe a lake.", "Describe a forest.", "Describe a desert.", "Describe a river.",
         "Describe a city."]
# Each request asks for n=3 choices; the script answers them in this order, every time.
# (lowercase needs langdetect to say English, hence whole sentences): 2, 0 and 1 passed.
SAMPLES = ("the quiet lake is calm and the water is very still in the early morning light",
           "The quiet lake is calm, and the water is very still in the early morning light",
           "the quiet lake is calm, and the water is very still in the early morning light")


class FakeKilled(Exception):
    """Stands in for a killed run."""


class Script(FakeScriptedLLM):
    """Answers with :data:`SAMPLES` in turn; raises on chat call ``crash_on`` (1-based)."""

    def __init__(self, crash_on: int | None = None):
        self.turn = 0
        super().__init__(self._next)
        self.crash_on = crash_on

    def _next(self, prompt: str, params: dict[str, Any]) -> str:
        self.turn += 1
        return SAMPLES[(self.turn - 1) % len(SAMPLES)]

    def chat(self, messages, **params):
        if self.crash_on is not None and len(self.calls) + 1 == self.crash_on:
            raise FakeKilled
        return super().chat(messages, **params)


def settings(**kw: Any) -> RuleSettings:
    base = {"instructions": 5, "samples_per_instruction": 3, "constraints_per_instruction": 2,
            "pairs_per_instruction": 3, "kinds": KINDS, "shard_size": 2, "max_tokens": 32}
    return RuleSettings(**{**base, **kw})


def rule_data(tmp_path, llm, **kw: Any) -> RuleData:
    return RuleData(llm, StageStore(tmp_path, "explicit"), settings(**kw), chat=True, tasks=TASKS)


def test_samples_are_checked_and_paired_by_margin(tmp_path):
    llm = Script()
    rule_data(tmp_path, llm).run()
    store = StageStore(tmp_path, "explicit")
    assert all(params["n"] == 3 and params["seed"] == 0 for _, params in llm.calls)
    records = store.records("rule_samples")
    assert len(records) == 5
    assert [sum(s["strict"]) for s in records[0]["samples"]] == [2, 0, 1]
    pairs = store.records("pairs")
    assert len(pairs) == 15  # 3 per instruction
    first = [(p["chosen"], p["rejected"], p["confidence"]) for p in pairs[:3]]
    assert first == [(SAMPLES[0], SAMPLES[1], 1.0), (SAMPLES[0], SAMPLES[2], 0.75),
                     (SAMPLES[2], SAMPLES[1], 0.75)]
    assert all(p["source"] == "rules" and sorted(p["principle"].split("+")) == sorted(KINDS)
               for p in pairs)
    sft = passing_records(records)
    assert [r["revision"] for r in sft] == [SAMPLES[0]] * 5  # only the sample passing both
    assert {r["instruction"] for r in sft} == {r["prompt"] for r in records}


def test_a_killed_generation_resumes_without_redoing_finished_instructions(tmp_path):
    with pytest.raises(FakeKilled):
        rule_data(tmp_path, Script(crash_on=3)).run()  # dies in the second shard
    store = StageStore(tmp_path, "explicit")
    assert len(store.records("rule_samples")) == 2 and not store.is_done("rule_samples")
    second = Script()
    rule_data(tmp_path, second).run()
    assert len(second.calls) == 3  # the three instructions not yet sampled, once each
    assert len(store.records("rule_samples")) == 5 and len(store.records("pairs")) == 15
    third = Script()
    rule_data(tmp_path, third).run()
    assert third.calls == [] and len(store.records("pairs")) == 15  # all done: nothing redone


def test_checker_exceptions_fail_the_constraint_and_are_counted(tmp_path, monkeypatch):
    registry, _, _ = ifeval_modules()

    def broken(self, value):
        raise ValueError("odd text")

    monkeypatch.setattr(registry.INSTRUCTION_DICT["punctuation:no_comma"], "check_following", broken)
    rule_data(tmp_path, Script(), instructions=2).run()
    store = StageStore(tmp_path, "explicit")
    samples = store.records("rule_samples")[0]["samples"]
    comma = [c["kind"] for c in store.records("rule_samples")[0]["constraints"]].index(KINDS[0])
    assert [s["strict"][comma] for s in samples] == [False, False, False]
    manifest = json.loads((tmp_path / "explicit" / "manifest.json").read_text())
    assert manifest["steps"]["rule_samples"]["skipped"]["checker_error"] == 2 * 3 * 2  # strict+loose


def test_prompts_holding_a_heldout_prompt_are_skipped(tmp_path):
    data = RuleData(Script(), StageStore(tmp_path, "explicit"), settings(), chat=True,
                    tasks=TASKS, heldout=["describe a  LAKE."])
    kept = data.prompts()
    assert kept and not any("lake" in p.prompt.lower() for p in kept)
    assert data.store.report().steps["rule_prompts"].skipped == {"ifeval_overlap": 1}


def test_stage_data_with_rule_pairs_only(tmp_path, principles):
    stage = Stage("explicit", "explicit instructions", ["Write a haiku about rain.", "Name a river."])
    gen = GenerateSettings(pair_source="rules", rules=settings())
    llm = Script()
    report = StageData(llm, Constitution(principles, [stage]), stage, StageStore(tmp_path, "explicit"),
                       gen, chat=True).run()
    assert set(report["steps"]) == {"rule_prompts", "rule_samples", "pairs"}  # no Self-Instruct
    assert report["steps"]["pairs"]["records"] == 15 and report["steps"]["pairs"]["done"]
    assert len(llm.calls) == 5
