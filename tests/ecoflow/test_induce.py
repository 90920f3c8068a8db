"""The ``induced`` corpus source with a scripted LLM: seeded requests, skips, counts."""

from __future__ import annotations

import pytest

from ecoflow.induce import SEED_TAG, induce_instructions
from promptopt.recording import derive_seed
from promptopt.sampling import APE_TEMPLATE
from promptopt.tasks import Example
from serving.fakes import FakeScriptedLLM

DEMOS = [Example(f"t/induce-{i}", f"input {i}", f"output {i}", f"output {i}") for i in range(8)]


def test_induced_texts_are_parsed_deduplicated_and_counted():
    # 2 calls x 3 replies: a labelled reply, a blank one, a duplicate, a quoted one, ...
    llm = FakeScriptedLLM(["The instruction was: Reverse the word.", "   ", "Reverse the word.",
                           '"Copy the input."', "Instruction: " + "x" * 400, "Say it twice."])
    out = induce_instructions(llm, DEMOS, count=5, num_demos=3, per_call=3, seed=7, max_calls=2)

    assert out.texts == ["Reverse the word.", "Copy the input.", "Say it twice."]
    assert (out.calls, out.parse_failures, out.duplicates, out.too_long) == (2, 1, 1, 1)
    assert out.summary(5) == {"requested": 5, "texts": 3, "calls": 2, "parse_failures": 1,
                              "duplicates": 1, "too_long": 1}
    assert [r["kept"] for r in out.requests] == [["Reverse the word."],
                                                 ["Copy the input.", "Say it twice."]]
    # APE's forward template with 3 demonstrations, one seeded chat call of n=3 per request
    prompt, params = llm.calls[0]
    assert prompt.startswith(APE_TEMPLATE.split("{n}")[0] + "3 inputs")
    assert prompt.count("Input: input") == 3 and prompt.endswith("The instruction was")
    assert params["n"] == 3 and params["temperature"] == 0.9
    assert [p["seed"] for _, p in llm.calls] == [derive_seed(7, SEED_TAG, s) for s in (1, 2)]


def test_induction_stops_at_count_and_is_reproducible():
    replies = [f"Rule number {i}." for i in range(100)]
    first = induce_instructions(FakeScriptedLLM(replies), DEMOS, count=6, per_call=4, seed=1)
    assert first.texts == [f"Rule number {i}." for i in range(6)] and first.calls == 2
    again = FakeScriptedLLM(replies)
    induce_instructions(again, DEMOS, count=6, per_call=4, seed=1)
    assert [r["prompt"] for r in first.requests] == [p for p, _ in again.calls]  # same requests


def test_bounded_when_the_model_repeats_itself_and_zero_is_free():
    llm = FakeScriptedLLM(["Same thing."])
    out = induce_instructions(llm, DEMOS, count=8, per_call=4)
    assert out.texts == ["Same thing."] and out.calls == 4  # 2 x ceil(8 / 4), then gives up
    assert out.duplicates == 15
    none = FakeScriptedLLM(["x"])
    assert induce_instructions(none, DEMOS, count=0).calls == 0 and none.calls == []
    with pytest.raises(ValueError, match="demonstrations"):
        induce_instructions(none, [], count=2)
