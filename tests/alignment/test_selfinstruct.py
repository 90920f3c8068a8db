"""Self-Instruct: ROUGE-L, filters, parsing, prompt shapes and the generate loop."""

from __future__ import annotations

import random
from typing import Any

import pytest

from alignment.rouge import max_rouge_l, rouge_l
from alignment.selfinstruct import (
    InstructionFilter,
    SelfInstruct,
    completion_prompt,
    parse_instructions,
    sample_in_context,
)
from serving.fakes import FakeScriptedLLM
from serving.protocols import Choice, Completion

WORDS = "one two three four five six seven eight".split()
SEEDS = [f"Seed task number {w} about apples." for w in WORDS]


@pytest.mark.parametrize("a, b, expected", [
    ("a b c d", "a c d e", 0.75),  # LCS a-c-d = 3; P = R = 3/4
    ("a b c d e f", "a c f", 2 / 3),  # LCS 3; P = 3/3, R = 3/6; F = 2PR/(P+R) = 2/3
    ("Hello, World!", "hello world", 1.0),  # lower-cased, punctuation dropped
    ("a b", "c d", 0.0),
    ("", "a b", 0.0),
])
def test_rouge_l_exact(a, b, expected):
    assert rouge_l(a, b) == pytest.approx(expected, abs=1e-12)
    assert rouge_l(b, a) == pytest.approx(expected, abs=1e-12)


def test_max_rouge_l():
    assert max_rouge_l("a b c d", ["x y", "a c d e", "a b c z"]) == pytest.approx(0.75)
    assert max_rouge_l("a b", []) == 0.0


@pytest.mark.parametrize("text, reason", [
    ("Describe the water cycle briefly.", None),
    ("   ", "empty"),
    ("Say hi now", "too_short"),  # 3 words < 4
    (" ".join(["word"] * 151), "too_long"),
    ("Describe the image shown below in detail.", "bad_keyword"),
    ("Plot the sales numbers by month please.", "bad_keyword"),
    ("Describe the imagery in this poem please.", None),  # whole words only
    ("Write a program that sorts numbers quickly.", "program"),
    ("Écrivez une phrase sur la pluie.", "non_ascii_start"),
    ("- List four kinds of trees.", "punctuation_start"),
])
def test_filter_reasons(text, reason):
    assert InstructionFilter().reason(text) == reason


def test_parse_completion_and_chat_lists():
    completion = " Name a red fruit.\n10. Explain  why\nsnow is white:\n11."
    assert parse_instructions(completion, first_number=9) == [
        "Name a red fruit.", "Explain why snow is white", ""]
    chat = "Sure!\n9. Name a red fruit.\n10) Explain rain."
    assert parse_instructions(chat) == ["Name a red fruit.", "Explain rain."]


def test_sample_in_context_takes_six_seeds_and_two_generated():
    rng = random.Random(0)
    gen = ["g1 a b c", "g2 a b c", "g3 a b c"]
    picked = sample_in_context(SEEDS, gen, rng)
    assert len(picked) == 8 and sum(p in gen for p in picked) == 2 and picked[-1] in gen
    assert sum(p in SEEDS for p in sample_in_context(SEEDS, gen[:1], rng)) == 7
    assert len(sample_in_context(SEEDS[:3], [], rng)) == 3  # fewer seeds than k


def test_completion_prompt_shape():
    prompt = completion_prompt(["Do x:", "Do  y"])
    assert prompt == "Come up with a series of tasks:\n1. Do x\n2. Do y\n3."


def test_generate_base_model_filters_and_dedups():
    answers = iter([
        # call 1: one good, one near-duplicate of a seed, one bad keyword, a repeat in-batch
        " Explain how bees make honey for people.\n10. Seed task number one about apples!\n"
        "11. Draw a picture of a cat please.\n12. Explain how bees make honey for people.",
        # call 2: one more good one (the target is reached after it)
        " Give three tips for sleeping well at night.\n10. List five rivers in Europe today.",
    ])
    llm = FakeScriptedLLM(lambda _p, _params: next(answers))
    accepted: list[str] = []
    gen = SelfInstruct(llm, chat=False, seed=1)
    result = gen.generate("explicit tasks", SEEDS, target=2, on_instruction=accepted.append)
    assert result.instructions == accepted == [
        "Explain how bees make honey for people.", "Give three tips for sleeping well at night."]
    assert dict(result.skipped) == {"duplicate": 2, "bad_keyword": 1}
    assert result.calls == 2
    prompt, params = llm.calls[0]
    assert prompt.startswith("Come up with a series of tasks:\n1. ") and prompt.endswith("\n9.")
    assert params["stop"] == ["\n\n", "\n17."] and params["temperature"] == 0.7
    assert "Explain how bees" in llm.calls[1][0]  # generated ones join the in-context set


def test_generate_resumes_from_existing_and_respects_max_calls():
    llm = FakeScriptedLLM(["9. Say it"])  # always too short
    result = SelfInstruct(llm, chat=False).generate(
        "d", SEEDS, target=3, existing=["Old generated task one here.", "Old task two here."],
        max_calls=3)
    assert result.instructions == [] and result.calls == 3 and llm.usage.calls == 3
    assert SelfInstruct(llm, chat=False).generate(
        "d", SEEDS, target=2, existing=["a b c d", "e f g h"]).calls == 0  # already there


def test_chat_prompt_and_parse():
    llm = FakeScriptedLLM(["9. Explain why leaves change color in autumn."])
    result = SelfInstruct(llm, chat=True, num_new=4).generate("implicit questions", SEEDS, 1)
    assert result.instructions == ["Explain why leaves change color in autumn."]
    text = llm.calls[0][0]
    assert "Come up with new, diverse tasks: implicit questions." in text
    assert "Write tasks 9 to 12 in the same numbered format" in text


class FakeTruncatingLLM:
    """Answers every completion with ``text`` cut off by ``max_tokens``."""

    def __init__(self, text: str):
        self.text = text

    def complete(self, prompt: str, **params: Any) -> Completion:
        return Completion((Choice(self.text, "length"),), 1, 1)


def test_truncated_last_item_is_dropped():
    llm = FakeTruncatingLLM(" Name three big cities.\n10. Describe the hist")
    gen = SelfInstruct(llm, chat=False)  # type: ignore[arg-type]
    assert gen.propose("d", SEEDS[:8], call_seed=0) == ["Name three big cities.", ""]
