"""The OPRO loop driven by a scripted optimizer and a fake keyword scorer."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from promptopt.fakes import FakeBudgetedLLM, FakeKeywordScorer
from promptopt.metaprompt import INTRO
from promptopt.opro import Opro
from promptopt.protocols import Event, Scorer
from promptopt.tasks import Example
from serving.fakes import FakeScriptedLLM

WORDS = ["carefully", "step", "by", "then", "check", "again", "and", "verify", "slowly"]


def _best_in(meta_prompt: str) -> str:
    """The last (best, since ascending) instruction shown in a meta-prompt."""
    return meta_prompt.split("\ntext:\n")[-1].split("\nscore:\n")[0]


def growing_optimizer() -> FakeScriptedLLM:
    """Proposes the best instruction so far plus one more word, in square brackets."""
    counter = iter(range(10_000))

    def respond(prompt: str, params: dict[str, Any]) -> str:
        return f"[{_best_in(prompt)} {WORDS[next(counter) % len(WORDS)]}]"

    return FakeScriptedLLM(respond)


def _opro(llm: Any, scorer: Scorer, examples: list[Example], **kw: Any) -> Opro:
    return Opro(llm, scorer, examples, **kw)


def test_improves_on_keyword_scorer(examples: list[Example]) -> None:
    scorer = FakeKeywordScorer(keywords=("step",))
    result = _opro(growing_optimizer(), scorer, examples, candidates_per_step=2).optimize(
        ["Solve."], steps=6
    )
    initial = result.history[0]
    assert (initial.instruction, initial.step, initial.source) == ("Solve.", 0, "initial")
    assert result.best is not None and result.best.score > initial.score
    assert "step" in result.best.instruction
    assert result.steps_completed == 6 and result.stopped is None
    assert [s.score for s in result.final] == sorted((s.score for s in result.final), reverse=True)


def test_optimizer_calls_follow_the_paper(examples: list[Example]) -> None:
    llm = growing_optimizer()
    _opro(llm, FakeKeywordScorer(), examples, candidates_per_step=8, seed=5).optimize(steps=2)
    (p1, params1), (p2, params2) = llm.calls
    assert p1.startswith(INTRO) and "\ntext:\nLet's solve the problem.\nscore:\n" in p1
    assert params1["n"] == 8 and params1["temperature"] == 1.0
    assert params1["seed"] != params2["seed"]  # distinct samples, never one cached answer


def test_meta_prompt_orders_history_and_uses_three_exemplars(examples: list[Example]) -> None:
    opro = _opro(growing_optimizer(), FakeKeywordScorer(), examples, seed=1)
    result = opro.optimize(["Go.", "Solve it now.", "Think."], steps=0)
    prompt = opro.meta_prompt(1, result.history)
    shown = [block.split("\nscore:\n")[0] for block in prompt.split("\ntext:\n")[1:]]
    by_score = sorted(result.history, key=lambda s: s.score)
    assert shown == [s.instruction for s in by_score]
    exemplars = opro.exemplars(1)
    assert len(exemplars) == 3 and exemplars == opro.exemplars(1)  # seeded
    assert [e.id for e in exemplars] == sorted((e.id for e in exemplars), key=lambda i: int(i[6:]))
    for e in exemplars:
        assert f"\ninput:\nQ: {e.question}\n<INS>\nA:\noutput:\n{e.gold}\n" in prompt


def test_parse_failures_are_skipped_and_logged(
    examples: list[Example], caplog: pytest.LogCaptureFixture
) -> None:
    answers = ["I refuse to use brackets.", "[Think step by step.]", "<INS>   </INS>"]
    events: list[Event] = []
    opro = _opro(
        FakeScriptedLLM(answers),
        FakeKeywordScorer(),
        examples,
        candidates_per_step=3,
        on_event=events.append,
    )
    with caplog.at_level(logging.WARNING, logger="promptopt"):
        result = opro.optimize(["Solve."], steps=1)
    assert [s.instruction for s in result.history] == ["Solve.", "Think step by step."]
    failures = [e for e in events if e["event"] == "skipped" and e["reason"] == "parse_failure"]
    assert [e["text"] for e in failures] == ["I refuse to use brackets.", "<INS>   </INS>"]
    assert "parse_failure" in caplog.text and "I refuse to use brackets." in caplog.text


def test_duplicates_and_filtered_candidates_are_not_scored(examples: list[Example]) -> None:
    answers = [
        "[solve.]",  # polished to "Solve.", the initial instruction
        "[Think harder.]",
        "[Think harder.]",
        "[Use 2 steps.]",
        "[" + "x" * 501 + "]",
        "[Fill <INS> in.]",
    ]
    events: list[Event] = []
    scorer = FakeKeywordScorer()
    opro = _opro(
        FakeScriptedLLM(answers), scorer, examples, candidates_per_step=6, on_event=events.append
    )
    result = opro.optimize(["Solve."], steps=1)
    assert [c[0] for c in scorer.calls] == ["Solve.", "Think harder."]
    reasons = [e["reason"] for e in events if e["event"] == "skipped"]
    assert reasons == ["duplicate", "duplicate", "contains_digits", "too_long", "contains_INS"]
    assert len(result.history) == 2


def test_every_candidate_and_score_is_an_event(examples: list[Example]) -> None:
    events: list[Event] = []
    opro = _opro(
        growing_optimizer(),
        FakeKeywordScorer(),
        examples,
        candidates_per_step=1,
        on_event=events.append,
    )
    opro.optimize(["Solve."], steps=2)
    kinds = [e["event"] for e in events]
    assert kinds == ["evaluated"] + ["meta_prompt", "proposal", "evaluated", "step"] * 2
    evaluated = [e for e in events if e["event"] == "evaluated"]
    assert evaluated[1]["instruction"] == "Solve. carefully"
    assert len(evaluated[1]["correct"]) == len(examples)
    assert all(e["method"] == "opro" for e in events)


def test_budget_stops_cleanly(examples: list[Example]) -> None:
    llm = FakeBudgetedLLM(growing_optimizer(), max_calls=3)
    events: list[Event] = []
    opro = _opro(
        llm,
        FakeKeywordScorer(),
        examples,
        candidates_per_step=1,
        on_event=events.append,
        meter=llm,
    )
    result = opro.optimize(["Solve."], steps=10)
    assert result.steps_completed == 3
    assert result.stopped is not None and result.stopped.startswith("BudgetExceeded")
    assert result.best is not None and len(result.history) == 4
    assert events[-1]["event"] == "stopped" and events[-1]["llm_calls"] == 3


def test_same_seed_same_run(examples: list[Example]) -> None:
    def run(seed: int) -> list[str]:
        opro = _opro(growing_optimizer(), FakeKeywordScorer(), examples, seed=seed)
        return [opro.meta_prompt(s, []) for s in (1, 2)]

    assert run(0) == run(0)
    assert run(0) != run(1)


def test_bad_arguments_are_rejected(examples: list[Example]) -> None:
    with pytest.raises(ValueError, match="`examples` is empty"):
        _opro(growing_optimizer(), FakeKeywordScorer(), [])
    with pytest.raises(ValueError, match="`num_exemplars`"):
        _opro(growing_optimizer(), FakeKeywordScorer(), examples[:2])
    with pytest.raises(ValueError, match="`num_buckets`"):
        _opro(growing_optimizer(), FakeKeywordScorer(), examples, num_buckets=0)


def test_empty_start_is_allowed(examples: list[Example]) -> None:
    result = _opro(
        FakeScriptedLLM(["[Go.]"]), FakeKeywordScorer(), examples, candidates_per_step=1
    ).optimize([], steps=1)
    assert [s.instruction for s in result.history] == ["Go."]
