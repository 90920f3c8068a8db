"""ProTeGi's gradients, expansion, selection and budget stop with scripted LLMs."""

from __future__ import annotations

from typing import Any

import pytest

from promptopt.fakes import FakeBudgetedLLM, FakeKeywordScorer
from promptopt.gradients import TextualGradients, error_string, parse_tagged
from promptopt.protegi import ProTeGi
from promptopt.protocols import Event, Outcome
from promptopt.tasks import Example
from serving.fakes import FakeScriptedLLM

GRADIENT_HEAD = "I'm trying to write a zero-shot math word problem solver prompt."


def _current(prompt: str) -> str:
    return prompt.split('My current prompt is:\n"')[1].split('"\n\nBut')[0]


def gradient_llm() -> FakeScriptedLLM:
    def respond(prompt: str, params: dict[str, Any]) -> str:
        assert prompt.startswith(GRADIENT_HEAD), prompt
        return "1. <START>The prompt is too short.<END>\n2. <START>It never says how.<END>"

    return FakeScriptedLLM(respond)


def edit_llm() -> FakeScriptedLLM:
    """Edits append "Work step by step."; paraphrases append "Be careful."."""

    def respond(prompt: str, params: dict[str, Any]) -> str:
        if "new prompts are:" in prompt:
            return f"<START>{_current(prompt)} Work step by step.<END>"
        assert prompt.startswith("Generate a variation"), prompt
        return prompt.split("Input: ")[1].split("\n\nOutput:")[0] + " Be careful."

    return FakeScriptedLLM(respond)


def _protegi(editor: TextualGradients, examples: list[Example], **kw: Any) -> ProTeGi:
    options: dict[str, Any] = dict(
        beam_width=2,
        minibatch_size=16,
        n_gradients=2,
        gradients_per_error=2,
        mc_samples_per_step=2,
        eval_rounds=4,
        prompts_per_round=2,
        samples_per_eval=10,
    )
    options.update(kw)
    return ProTeGi(editor, FakeKeywordScorer(keywords=("step",)), examples, **options)


def test_parse_tagged() -> None:
    text = "a <START> one <END> b <START>two<END> <START>unclosed"
    assert parse_tagged(text) == ["one", "two"]
    assert parse_tagged("nothing") == []


def test_error_string_exact() -> None:
    ex = Example("train-3", " How many? ", "#### 7", "7")
    errors = [(ex, Outcome("train-3", False, "it is 8", "8")), (ex, Outcome("train-3", False))]
    assert error_string(errors) == (
        '## Example 1\nText: "How many?"\nLabel: 7\nPrediction: 8\n\n'
        '## Example 2\nText: "How many?"\nLabel: 7\nPrediction: none'
    )


def test_gradient_and_edit_prompts() -> None:
    editor = TextualGradients(gradient_llm(), edit_llm())
    g = editor.gradient_prompt("Solve.", "## Example 1", 3)
    assert g.startswith(GRADIENT_HEAD + '\n\nMy current prompt is:\n"Solve."\n')
    assert g.endswith(
        "give 3 reasons why the prompt could have gotten these examples wrong.\n"
        "Wrap each reason with <START> and <END>"
    )
    e = editor.edit_prompt("Solve.", "## Example 1", "it is vague", 1)
    assert "the problem with this prompt is that it is vague\n" in e
    assert e.endswith("Each prompt is wrapped with <START> and <END>.\n\nThe 1 new prompts are:")


def test_expand_uses_separate_models(examples: list[Example]) -> None:
    grad, edit = gradient_llm(), edit_llm()
    protegi = _protegi(TextualGradients(grad, edit), examples)
    candidates = protegi.expand(["Solve."], 1, [])
    assert candidates == [
        "Solve. Work step by step.",
        "Solve. Work step by step. Be careful.",
        "Solve. Be careful.",
        "Solve.",
    ]
    assert len(grad.calls) == 2  # n_gradients
    assert all(p.startswith(GRADIENT_HEAD) for p, _ in grad.calls)
    assert all(params["temperature"] == 0.7 for _, params in grad.calls + edit.calls)
    # 2 gradients x 2 reasons = 4 edits, then 1 paraphrase call per distinct prompt (2)
    assert len(edit.calls) == 4 + 2
    assert [params["n"] for _, params in edit.calls[-2:]] == [2, 2]


def test_max_expansion_factor_caps_new_candidates(examples: list[Example]) -> None:
    protegi = _protegi(
        TextualGradients(gradient_llm(), edit_llm()), examples, max_expansion_factor=1
    )
    candidates = protegi.expand(["Solve."], 1, [])
    assert len(candidates) == 2 and candidates[-1] == "Solve."


def test_no_errors_no_gradients(examples: list[Example]) -> None:
    grad = gradient_llm()
    protegi = ProTeGi(TextualGradients(grad, edit_llm()), FakeKeywordScorer(base=1.0), examples)
    assert protegi.expand(["Solve."], 1, []) == ["Solve. Be careful.", "Solve."]
    assert grad.calls == []


@pytest.mark.parametrize("selector", ["ucb", "sr", "bf"])
def test_improves_on_keyword_scorer(examples: list[Example], selector: str) -> None:
    events: list[Event] = []
    protegi = _protegi(
        TextualGradients(gradient_llm(), edit_llm()),
        examples,
        selector=selector,
        on_event=events.append,
    )
    result = protegi.optimize("Solve.", steps=2)
    initial = result.history[0]
    assert (initial.instruction, initial.source) == ("Solve.", "minibatch")
    assert result.best is not None and result.best.score > initial.score
    assert "step" in result.best.instruction
    assert result.steps_completed == 2 and result.stopped is None
    assert len(result.final) == 2
    kinds = {e["event"] for e in events}
    assert {"evaluated", "gradient", "edit", "paraphrase", "candidates", "pulled", "beam"} <= kinds


def test_budget_stops_cleanly(examples: list[Example]) -> None:
    grad = FakeBudgetedLLM(gradient_llm(), max_calls=3)  # step 1 uses 2, step 2 runs out
    events: list[Event] = []
    protegi = _protegi(
        TextualGradients(grad, edit_llm()), examples, on_event=events.append, meter=grad
    )
    result = protegi.optimize("Solve.", steps=5)
    assert result.steps_completed == 1
    assert result.stopped is not None and result.stopped.startswith("BudgetExceeded")
    assert result.best is not None and result.best.instruction == result.final[0].instruction
    assert events[-1]["event"] == "stopped" and events[-1]["llm_calls"] == 3


def test_budget_in_first_step_keeps_minibatch_score(examples: list[Example]) -> None:
    grad = FakeBudgetedLLM(gradient_llm(), max_calls=0)
    result = _protegi(TextualGradients(grad, edit_llm()), examples).optimize("Solve.", steps=3)
    assert result.steps_completed == 0 and result.stopped is not None
    assert result.best is not None and result.best.instruction == "Solve."


def test_bad_selector_rejected(examples: list[Example]) -> None:
    with pytest.raises(ValueError, match="`selector` must be one of"):
        _protegi(TextualGradients(gradient_llm(), edit_llm()), examples, selector="thompson")
