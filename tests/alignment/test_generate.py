"""A stage's data with a scripted model: skips counted in the report, resume skips finished shards."""

from __future__ import annotations

from typing import Any

import pytest

from alignment.constitution import Stage
from alignment.fakes import FakeLogprobLLM
from alignment.generate import GenerateSettings, StageData, split_heldout
from alignment.store import StageStore, content_key

TASKS = [
    "Explain how volcanoes form beneath the ocean floor.",
    "List some healthy breakfast ideas for busy students.",
    "Stay silent when asked about your favourite season.",
    "Repeat the same sentence about gardening twice over.",
    "Judge junk answers about medieval castle architecture.",
    "Summarize the story of a famous detective novel briefly.",
    "Give advice to someone learning to ride a bicycle.",
    "Compare electric cars with petrol cars for city driving.",
]


class FakeCrash(Exception):
    """Stands in for a killed run."""


class Script:
    """Answers each step; ``crash_on`` raises on that revision call (a killed run)."""

    def __init__(self, crash_on: int | None = None):
        self.responded: list[str] = []
        self.revisions = 0
        self.crash_on = crash_on

    def __call__(self, prompt: str, params: dict[str, Any]) -> Any:
        if "Come up with new, diverse tasks" in prompt:
            return "\n".join(f"{9 + i}. {t}" for i, t in enumerate(TASKS))
        if "The answer is: (" in prompt:
            if "junk" in prompt:
                return {"x": -0.1}  # no A/B among the top tokens: unparsable
            return {"A": -0.2, "B": -1.8} if "(A) A clearer" in prompt else {"A": -1.8, "B": -0.2}
        last = prompt.rstrip().splitlines()[-1]
        if last == "CRITIQUE-HONEST" or last == "CRITIQUE-KIND":
            return "It is vague."
        if last.startswith("REVISE"):
            self.revisions += 1
            if self.crash_on is not None and self.revisions == self.crash_on:
                raise FakeCrash
            instruction = prompt.splitlines()[0]
            return f"Answer: {instruction}" if "same" in instruction else f"A clearer answer to: {instruction}"
        self.responded.append(prompt)
        return "" if "silent" in prompt else f"Answer: {prompt}"


def make(tmp_path, principles, script: Script) -> StageData:
    from alignment.constitution import Constitution

    stage = Stage("explicit", "explicit instructions", ["Write a haiku about rain.", "Name three rivers in Asia."])
    constitution = Constitution(principles, [stage])
    settings = GenerateSettings(instructions=8, heldout=1, max_calls=2, shard_size=2, max_tokens=32)
    return StageData(FakeLogprobLLM(script), constitution, stage,
                     StageStore(tmp_path, "explicit"), settings, chat=True)


def test_stage_report_counts_every_skip(tmp_path, principles):
    report = make(tmp_path, principles, Script()).run()
    steps = report["steps"]
    assert steps["instructions"]["records"] == 8
    assert steps["revisions"]["skipped"]["empty_or_unparsable_response"] == 1  # "silent"
    pair_skips = steps["pairs"]["skipped"]
    # the held-out instruction is never trained on; each bad record is skipped once
    train, held = split_heldout(TASKS, 1)
    expected = {"identical": "same" in " ".join(train), "unparsable_judge": "junk" in " ".join(train)}
    assert pair_skips == {k: 1 for k, v in expected.items() if v}
    pairs = StageStore(tmp_path, "explicit").records("pairs")
    assert len(pairs) == len(train) - 1 - sum(expected.values())  # minus "silent" and the skips
    assert all(p["source"] == "judge" and p["chosen"].startswith("A clearer") for p in pairs)
    assert all(p["confidence"] == pytest.approx(0.8320, abs=1e-4) for p in pairs)  # e^-.2/(e^-.2+e^-1.8)
    assert not any(held[0] == p["prompt"] for p in pairs)


def test_rerun_skips_finished_shards(tmp_path, principles):
    first = Script(crash_on=2)  # dies while revising the second shard
    with pytest.raises(FakeCrash):
        make(tmp_path, principles, first).run()
    done = StageStore(tmp_path, "explicit").keys("revisions")
    assert len(done) == 2  # the first shard (finished or skipped for good) was written
    second = Script()
    make(tmp_path, principles, second).run()
    assert second.responded and not {content_key(p) for p in second.responded} & done
    assert len(StageStore(tmp_path, "explicit").keys("revisions")) == 7  # 8 minus the held-out one
    third = Script()
    make(tmp_path, principles, third).run()
    assert third.responded == [] and third.revisions == 0  # every step done: no calls at all
