"""APE, random search and few-shot search with a scripted generator and the fake keyword
scorer."""

from __future__ import annotations

from typing import Any

import pytest

from promptopt.fakes import FakeBudgetedLLM, FakeKeywordScorer
from promptopt.protocols import BudgetExceeded
from promptopt.sampling import (
    APE_TEMPLATE,
    FewShotSearch,
    SampleSelect,
    ape_prompt,
    format_demos,
    parse_candidate,
    random_prompt,
    with_demos,
)
from promptopt.tasks import Example
from promptopt.tasks.formats import split_demos
from serving.fakes import FakeScriptedLLM


def demos(n: int = 12) -> list[Example]:
    return [Example(f"t/{i}", f"word{i}", f"W{i}", f"W{i}") for i in range(n)]


@pytest.mark.parametrize(("text", "parsed"), [
    ("to write the word in capital letters.", "to write the word in capital letters."),
    ("The instruction was: \"Write the word in capitals.\"\nMore text", "Write the word in capitals."),
    ("Instruction: Capitalize it", "Capitalize it"),
    ("\n\n  ", None),
    ("**Capitalize the input.**", "Capitalize the input."),
])  # fmt: skip
def test_parse_candidate(text: str, parsed: str | None) -> None:
    assert parse_candidate(text) == parsed


def test_ape_prompt_shows_fresh_seeded_demonstrations_each_step() -> None:
    prompt = ape_prompt(demos(), num_demos=5, seed=3)
    first, again, second = prompt(1), prompt(1), prompt(2)
    assert first == again and first != second
    assert first.startswith(APE_TEMPLATE.split("{n}")[0] + "5 inputs")
    assert first.endswith("The instruction was") and first.count("Input: word") == 5
    assert format_demos(demos(1)) == "Input: word0\nOutput: W0"
    with pytest.raises(ValueError, match="APE needs demonstrations"):
        ape_prompt([], 5)


def test_random_prompt_shows_only_the_start() -> None:
    text = random_prompt("Classify it.")(3)
    assert "Classify it." in text and text == random_prompt("Classify it.")(9)


def scripted() -> FakeScriptedLLM:
    """Each sample names more keywords the more samples came before (a generator that
    sometimes writes better instructions), plus blanks and repeats to be skipped."""
    count = iter(range(10_000))

    def respond(prompt: str, params: dict[str, Any]) -> str:
        i = next(count)
        if i % 5 == 4:
            return "   "  # a parse failure
        return "Instruction: " + " ".join(["step"] * (1 + i // 3)) + " carefully"

    return FakeScriptedLLM(respond)


def test_sample_select_keeps_the_best_and_logs_every_candidate() -> None:
    events: list[dict] = []
    scorer = FakeKeywordScorer(keywords=("step", "carefully"))
    opt = SampleSelect("ape", scripted(), scorer, demos(), ape_prompt(demos(), 5),
                       candidates_per_step=4, on_event=events.append)
    result = opt.optimize(["Do it."], steps=3)
    assert result.steps_completed == 3 and result.best is not None
    assert result.best.score == max(s.score for s in result.history)
    kinds = {e["event"] for e in events}
    assert {"meta_prompt", "proposal", "evaluated", "skipped", "step"} <= kinds
    reasons = {e["reason"] for e in events if e["event"] == "skipped"}
    assert reasons == {"parse_failure", "duplicate"}
    evaluated = [e["instruction"] for e in events if e["event"] == "evaluated"]
    assert len(evaluated) == len(set(evaluated))  # no instruction is scored twice
    assert scorer.calls[0][0] == "Do it."


def test_budget_stops_cleanly_with_the_best_so_far() -> None:
    llm = FakeBudgetedLLM(scripted(), max_calls=2)
    opt = SampleSelect("random", llm, FakeKeywordScorer(), demos(), random_prompt("Do it."),
                       candidates_per_step=2, meter=llm)
    result = opt.optimize(["Do it."], steps=10)
    assert result.steps_completed == 2 and result.stopped and "budget" in result.stopped
    assert result.best is not None


def test_empty_examples_is_an_error() -> None:
    with pytest.raises(ValueError, match="`examples` is empty"):
        SampleSelect("ape", scripted(), FakeKeywordScorer(), [], random_prompt("x"))


def test_fewshot_search_appends_seeded_demonstrations_outside_the_scored_set() -> None:
    pool, scored = demos(12), demos(3)  # word0..word2 are scored: never shown as demonstrations
    events: list[dict] = []
    scorer = FakeKeywordScorer(keywords=("word7",), base=0.0, per_word=0.0, per_keyword=1.0)
    opt = FewShotSearch(scorer, scored, pool, "Capitalize.", num_demos=3, seed=1,
                        on_event=events.append)
    result = opt.optimize(["Capitalize."], steps=6)
    assert scorer.calls[0][0] == "Capitalize."  # step 0: the start alone
    candidates = [c for c, _ in scorer.calls[1:]]
    assert len(candidates) == 6
    for c in candidates:
        head, pairs = split_demos(c)
        assert head == "Capitalize." and len(pairs) == 3
        assert all(y == "W" + x.removeprefix("word") for x, y in pairs)
        assert not {x for x, _ in pairs} & {"word0", "word1", "word2"}
    assert result.best is not None and "word7" in result.best.instruction
    again = FewShotSearch(FakeKeywordScorer(), scored, pool, "Capitalize.", num_demos=3, seed=1)
    again.optimize(["Capitalize."], steps=6)
    assert [c for c, _ in again.scorer.calls[1:]] == candidates  # seeded draws
    assert {e["method"] for e in events} == {"fewshot"}
    assert split_demos(with_demos("", demos(1))) == ("", [("word0", "W0")])


def test_fewshot_search_stops_on_budget_and_rejects_a_small_pool() -> None:
    class Budgeted(FakeKeywordScorer):
        def score(self, instruction, examples):
            if len(self.calls) >= 3:
                raise BudgetExceeded("budget: 3 evaluations")
            return super().score(instruction, examples)

    result = FewShotSearch(Budgeted(), demos(2), demos(12), "Do.", num_demos=2).optimize(
        ["Do."], steps=10)
    assert result.stopped and "budget" in result.stopped and len(result.history) == 3
    with pytest.raises(ValueError, match="pool 2 .of 4., num_demos 3"):
        FewShotSearch(FakeKeywordScorer(), demos(2), demos(4), "Do.", num_demos=3)
