"""LLMScorer: prompts as user messages, greedy params, and an evaluation table that pays once."""

from __future__ import annotations

from typing import Any

from promptopt.opro import Opro
from promptopt.scoring import LLMScorer
from promptopt.tasks import Example, PromptFormat
from serving.fakes import FakeScriptedLLM


def answer_llm() -> FakeScriptedLLM:
    """Answers "What is i plus 0?" correctly only when told to think step by step."""

    def respond(prompt: str, params: dict[str, Any]) -> str:
        i = int(prompt.split("What is ")[1].split(" plus")[0])
        return f"The answer is {i}." if "step by step" in prompt else f"The answer is {i + 1}."

    return FakeScriptedLLM(respond)


def test_scores_through_chat_many(examples: list[Example]) -> None:
    llm = answer_llm()
    scorer = LLMScorer(llm, PromptFormat("Q_begin"), model="fake")
    outcomes = scorer.score("Think step by step.", examples[:3])
    assert [(o.example_id, o.correct, o.prediction) for o in outcomes] == [
        ("train-0", True, "0"),
        ("train-1", True, "1"),
        ("train-2", True, "2"),
    ]
    prompt, params = llm.calls[0]
    assert prompt == "Q: Think step by step.\nWhat is 0 plus 0?\n\nA:"
    assert params == {"temperature": 0.0, "max_tokens": 400}
    assert not any(o.correct for o in scorer.score("Guess.", examples[:3]))


def test_table_means_no_evaluation_is_paid_twice(examples: list[Example]) -> None:
    llm = answer_llm()
    table: dict = {}
    scorer = LLMScorer(llm, model="fake", table=table)
    scorer.score("Go step by step.", examples[:4])
    assert llm.usage.calls == 4
    again = LLMScorer(llm, model="fake", table=table).score("Go step by step.", examples[:6])
    assert llm.usage.calls == 6 and len(again) == 6 and len(table) == 6
    LLMScorer(llm, model="other", table=table).score("Go step by step.", examples[:1])
    assert llm.usage.calls == 7  # another model is another key


def test_opro_rerun_costs_no_scoring_calls(examples: list[Example]) -> None:
    """A rerun with the same seed and a kept table repeats no evaluation."""
    llm, table = answer_llm(), {}
    optimizer = FakeScriptedLLM(["[Think step by step.]", "[Just guess.]"])

    def run() -> None:
        scorer = LLMScorer(llm, model="fake", table=table)
        Opro(optimizer, scorer, examples[:8], candidates_per_step=2).optimize(["Solve."], steps=1)

    run()
    paid = llm.usage.calls
    assert paid == 3 * 8
    run()
    assert llm.usage.calls == paid
