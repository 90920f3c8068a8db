"""Evaluation before stage 1 and after each stage (the table is :mod:`alignment.report`).

- **IFEval**: greedy responses to a fixed, seeded subset of the IFEval prompts, scored by
  lm-eval's checker (:mod:`alignment.ifeval`): prompt- and instruction-level accuracy,
  strict and loose, each with a Wilson interval; stage minus base by a paired bootstrap.
- **Judge win rate**: on the stage's held-out generated instructions, the stage model and the
  base answer the same prompts; the base model judges each pair A/B from log-probs in both
  orders (:class:`~alignment.judge.Judge`) under one principle's comparison question; the
  mean ``P(stage model better)`` is the win rate (0.5 = no difference). Unparsable judgments
  are skipped and counted.
- **DPO reward accuracy / margins** on the stage's held-out pairs come from training.

Pure orchestration: the models are any :class:`~serving.protocols.LLM`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tqdm import tqdm

from alignment.dialogue import clean_generation, generate_many
from alignment.ifeval.data import IFEvalItem
from alignment.ifeval.score import IFEvalScore, score
from alignment.judge import Judge
from serving.protocols import LLM


def respond(llm: LLM, instructions: Sequence[str], *, chat: bool, max_tokens: int,
            desc: str = "responses", chunk: int = 32) -> list[str]:
    """Greedy responses (a junk or empty one stays ``""``: it fails every check, never crashes),
    ``chunk`` prompts at a time under a progress bar."""
    completions = []
    for start in tqdm(range(0, len(instructions), chunk), desc=desc, unit="chunk"):
        completions += generate_many(llm, [[("Human", i)] for i in instructions[start:start + chunk]],
                                     "Assistant", chat=chat, temperature=0.0, max_tokens=max_tokens)
    return [clean_generation(c.text)[0] or "" for c in completions]


@dataclass
class IFEvalResult:
    """One model on the IFEval subset: the score, and per prompt its response and verdict."""

    score: IFEvalScore
    keys: list[int] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    verdicts: list[dict[str, Any]] = field(default_factory=list)


def ifeval(llm: LLM, items: Sequence[IFEvalItem], *, chat: bool, max_tokens: int) -> IFEvalResult:
    """Instruction following on the held-out IFEval prompts (greedy)."""
    responses = respond(llm, [item.prompt for item in items], chat=chat, max_tokens=max_tokens,
                        desc="IFEval")
    result, verdicts = score(items, responses)
    return IFEvalResult(result, [item.key for item in items], responses,
                        [v.to_dict() for v in verdicts])


@dataclass
class Comparison:
    """Stage model vs base on the same prompts, judged."""

    win_rate: float | None
    judged: int  #: comparisons in the win rate, ties included
    ties: int  #: identical answers (each counts 0.5)
    skipped: dict[str, int]
    rows: list[dict[str, Any]]


def compare(model: LLM, base: LLM, judge_llm: LLM, instructions: Sequence[str], question: str,
            *, chat: bool, max_tokens: int) -> Comparison:
    """``P(model's response better than base's)`` per instruction, and its mean."""
    ours = respond(model, instructions, chat=chat, max_tokens=max_tokens)
    theirs = respond(base, instructions, chat=chat, max_tokens=max_tokens)
    judge = Judge(judge_llm, swap=True)
    rows, skipped, probs, ties = [], {"unparsable_judge": 0, "empty": 0}, [], 0
    for instruction, a, b in zip(instructions, ours, theirs, strict=True):
        row: dict[str, Any] = {"instruction": instruction, "aligned": a, "base": b, "p_aligned": None}
        if not a or not b:
            skipped["empty"] += 1
        elif a.split() == b.split():
            ties += 1
            row["p_aligned"] = 0.5
            probs.append(0.5)  # the same answer: a tie, not a skip of the comparison
        elif (judgment := judge.judge(f"Human: {instruction}", question, a, b)) is None:
            skipped["unparsable_judge"] += 1
        else:
            row["p_aligned"] = judgment.p_a
            probs.append(judgment.p_a)
        rows.append(row)
    win = sum(probs) / len(probs) if probs else None
    return Comparison(win, len(probs), ties, skipped, rows)
