"""A/B judging from top log-probs: exact probabilities, swapping, clamping, bad output."""

from __future__ import annotations

import math
from typing import Any

import pytest

from alignment.fakes import FakeLogprobLLM
from alignment.judge import Judge, clamp, option_probabilities

ln = math.log


@pytest.mark.parametrize("top, expected", [
    ({"A": ln(0.6), "B": ln(0.2), "C": ln(0.2)}, (0.75, 0.25)),
    ({" A": ln(0.3), "A)": ln(0.3), "(B": ln(0.2)}, (0.75, 0.25)),  # variants add up
    ({"A": ln(0.5), "The": ln(0.4), "C": ln(0.1)}, (0.5 / 0.6, 0.1 / 0.6)),  # B missing: floor
])
def test_option_probabilities_exact(top, expected):
    p_a, p_b = option_probabilities(top)
    assert (p_a, p_b) == pytest.approx(expected, abs=1e-12)


def test_option_probabilities_none_when_no_option():
    assert option_probabilities({"The": ln(0.9), "I": ln(0.1)}) is None


def test_clamp():
    assert clamp(0.9, (0.4, 0.6)) == 0.6 and clamp(0.1, (0.4, 0.6)) == 0.4
    assert clamp(0.55, (0.4, 0.6)) == 0.55 and clamp(0.9, None) == 0.9


def order_aware(first: dict[str, float], swapped: dict[str, float]):
    """Answers ``first`` when option (A) is 'alpha', ``swapped`` otherwise."""
    def respond(prompt: str, params: dict[str, Any]) -> Any:
        if not params.get("logprobs"):
            return " alpha is better."
        return first if "(A) alpha" in prompt else swapped
    return respond


def test_judge_without_swap_is_the_normalized_probability():
    llm = FakeLogprobLLM(order_aware({"A": ln(0.6), "B": ln(0.2)}, {}))
    judgment = Judge(llm, swap=False, top_logprobs=7).judge("Human: hi", "Which?", "alpha", "beta")
    assert judgment.p_a == pytest.approx(0.75, abs=1e-12) and judgment.reasoning == ()
    prompt, params = llm.calls[0]
    assert prompt.endswith("Which?\nOptions:\n(A) alpha\n(B) beta\nThe answer is: (")
    assert params == {"max_tokens": 1, "temperature": 0.0, "logprobs": 7}


def test_swap_averages_both_orders():
    # alpha first: P(A) = 0.75. swapped (beta first): P(A = beta) = 0.5 -> P(alpha) = 0.5.
    llm = FakeLogprobLLM(order_aware({"A": ln(0.6), "B": ln(0.2)}, {"A": ln(0.4), "B": ln(0.4)}))
    judgment = Judge(llm).judge("Human: hi", "Which?", "alpha", "beta")
    assert judgment.per_order == pytest.approx((0.75, 0.5), abs=1e-12)
    assert judgment.p_a == pytest.approx(0.625, abs=1e-12)
    assert len(llm.calls) == 2


@pytest.mark.parametrize("bounds, expected", [((0.4, 0.6), 0.6), ((0.3, 0.7), 0.7), (None, 0.9)])
def test_chain_of_thought_is_clamped(bounds, expected):
    # both orders confident for alpha: 0.9 and 1 - 0.1 = 0.9
    llm = FakeLogprobLLM(order_aware({"A": ln(0.9), "B": ln(0.1)}, {"A": ln(0.1), "B": ln(0.9)}))
    judge = Judge(llm, chain_of_thought=True, cot_clamp=bounds)
    judgment = judge.judge("Human: hi", "Which?", "alpha", "beta")
    assert judgment.p_a == pytest.approx(expected, abs=1e-12)
    assert judgment.reasoning == (" alpha is better.", " alpha is better.")
    letter_prompt = llm.calls[1][0]
    assert letter_prompt.endswith(
        "Let's think step by step: alpha is better.\nTherefore, the answer is: (")


def test_unparsable_and_missing_logprobs():
    assert Judge(FakeLogprobLLM(lambda p, k: {"I": 0.0})).judge("c", "q", "a", "b") is None
    # a parsable first order but an unparsable swapped one is skipped too
    llm = FakeLogprobLLM(order_aware({"A": ln(0.6), "B": ln(0.4)}, {"So": 0.0}))
    assert Judge(llm).judge("c", "q", "alpha", "beta") is None
    assert Judge(FakeLogprobLLM(lambda p, k: "text")).judge("c", "q", "a", "b") is None

    class FakeNoLogprobLLM(FakeLogprobLLM):
        def complete(self, prompt, **params):
            return super().complete(prompt, **{k: v for k, v in params.items() if k != "logprobs"})

    with pytest.raises(ValueError, match="returned no log-probs"):
        Judge(FakeNoLogprobLLM(lambda p, k: "text")).judge("c", "q", "a", "b")


def test_bad_clamp_is_rejected():
    with pytest.raises(ValueError, match="`cot_clamp`"):
        Judge(FakeLogprobLLM(lambda p, k: "x"), cot_clamp=(0.6, 0.9))
