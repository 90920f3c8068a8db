"""A/B preference judgments from log-probabilities (Bai et al. 2022, section 4.1).

The judge prompt shows the conversation, the principle's comparison question and two
options, and ends with ``The answer is: (`` so that the next token is the option letter.
One ``/v1/completions`` call with ``max_tokens=1, logprobs=k`` returns the top-k next tokens;
the probabilities of ``A`` and ``B`` among them are normalized over the two. With
``chain_of_thought`` the model first writes its reasoning (``Let's think step by step:``),
and the letter follows ``Therefore, the answer is: (``; CAI found those probabilities
overconfident and clamped them to 40–60 %, so ``cot_clamp`` does the same. With ``swap``
every pair is judged in both orders and the two estimates averaged, which cancels the
position bias a small model has.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from serving.protocols import LLM, Completion

OPTIONS = ("A", "B")


def option_probabilities(top: Mapping[str, float]) -> tuple[float, float] | None:
    """``(P(A), P(B))`` normalized over the two, from one position's top log-probs.

    Tokens match after stripping whitespace and parentheses (``" A"``, ``"A)"`` count as
    ``A``), and variants add up. An option missing from the top-k is given the smallest
    top-k probability, an upper bound on its true probability, so the estimate errs toward
    less confidence. ``None`` when neither option is among the top tokens.
    """
    mass = dict.fromkeys(OPTIONS, 0.0)
    for token, logprob in top.items():
        key = token.strip().strip("()").strip()
        if key in mass:
            mass[key] += math.exp(logprob)
    if not any(mass.values()):
        return None
    floor = math.exp(min(top.values()))
    p_a, p_b = (m if m > 0 else floor for m in mass.values())
    return p_a / (p_a + p_b), p_b / (p_a + p_b)


def clamp(p: float, bounds: tuple[float, float] | None) -> float:
    """``p`` clipped to ``bounds = (low, high)``; unchanged when ``bounds`` is ``None``."""
    if bounds is None:
        return p
    low, high = bounds
    return min(max(p, low), high)


def judge_prompt(conversation: str, question: str, a: str, b: str) -> str:
    """The CAI multiple-choice prompt, without its ending (see :class:`Judge`)."""
    return (
        "Consider the following conversation between a human and an assistant:\n"
        f"{conversation}\n{question}\nOptions:\n(A) {a}\n(B) {b}\n"
    )


@dataclass(frozen=True)
class Judgment:
    """One A/B judgment.

    Attributes:
        p_a: probability that ``A`` is the better response (after averaging and clamping).
        per_order: ``P(A better)`` from each order judged (one, or two with ``swap``).
        reasoning: the chain-of-thought texts (empty without chain of thought).
    """

    p_a: float
    per_order: tuple[float, ...]
    reasoning: tuple[str, ...] = ()


class Judge:
    """Judges which of two responses better satisfies a principle's comparison question.

    Args:
        llm: the judging model; must return log-probs from ``complete(..., logprobs=k)``.
        top_logprobs: ``k`` (the endpoint's top tokens per position).
        chain_of_thought: reason first, then read the letter's probabilities.
        cot_clamp: bounds for ``p_a`` with chain of thought (CAI: 0.4–0.6); ``None``: none.
        swap: judge both orders and average (cancels position bias; twice the calls).
        cot_max_tokens: reasoning length limit.
        render: turns the raw prompt into what the endpoint gets (e.g. an instruct model's
            chat template applied to it as one user turn); default: the raw prompt.
    """

    def __init__(
        self, llm: LLM, *, top_logprobs: int = 5, chain_of_thought: bool = False,
        cot_clamp: tuple[float, float] | None = (0.4, 0.6), swap: bool = True,
        cot_max_tokens: int = 128, render: Callable[[str], str] | None = None,
    ):
        if cot_clamp is not None and not 0.0 <= cot_clamp[0] <= 0.5 <= cot_clamp[1] <= 1.0:
            raise ValueError(f"`cot_clamp` {cot_clamp} must satisfy 0 <= low <= 0.5 <= high <= 1.")
        self.llm, self.top_logprobs = llm, top_logprobs
        self.chain_of_thought, self.cot_clamp, self.swap = chain_of_thought, cot_clamp, swap
        self.cot_max_tokens = cot_max_tokens
        self.render = render or (lambda prompt: prompt)

    def _letter_probs(self, prompt: str) -> tuple[float, float] | None:
        completion: Completion = self.llm.complete(
            self.render(prompt), max_tokens=1, temperature=0.0, logprobs=self.top_logprobs)
        logprobs = completion.choices[0].logprobs
        if logprobs is None:
            raise ValueError(
                "the judge model returned no log-probs; use an endpoint whose "
                "`/v1/completions` supports `logprobs` (the `llm` app does).")
        return option_probabilities(logprobs[0].top) if logprobs else None

    def _one_order(
        self, conversation: str, question: str, a: str, b: str,
    ) -> tuple[float | None, str]:
        """``P(A better)`` in one order of the options (``None``: unparsable) and the reasoning."""
        prompt = judge_prompt(conversation, question, a, b)
        reasoning = ""
        if self.chain_of_thought:
            prompt += "Let's think step by step:"
            reasoning = self.llm.complete(
                self.render(prompt), max_tokens=self.cot_max_tokens, temperature=0.0).text
            prompt += f"{reasoning}\nTherefore, the answer is: ("
        else:
            prompt += "The answer is: ("
        probs = self._letter_probs(prompt)
        return (None if probs is None else probs[0]), reasoning

    def judge(self, conversation: str, question: str, a: str, b: str) -> Judgment | None:
        """``P(a is better)`` for the question, or ``None`` when the model's answer had no
        ``A``/``B`` among its top tokens (in either order, with ``swap``).

        Args:
            conversation: the human turn(s) both responses answer (``Human: ...``).
            question: the principle's comparison question.
            a: the first response.
            b: the second response.
        """
        first, why_first = self._one_order(conversation, question, a, b)
        if first is None:
            return None
        per_order, reasoning = [first], [why_first]
        if self.swap:
            second, why_second = self._one_order(conversation, question, b, a)
            if second is None:
                return None
            per_order.append(1.0 - second)  # "A" in the swapped order is ``b``
            reasoning.append(why_second)
        p_a = sum(per_order) / len(per_order)
        if self.chain_of_thought:
            p_a = clamp(p_a, self.cot_clamp)
        return Judgment(p_a, tuple(per_order), tuple(reasoning) if self.chain_of_thought else ())
