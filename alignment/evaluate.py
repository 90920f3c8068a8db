"""Evaluation before stage 1 and after each stage, and the table across stages.

- **Rule accuracy**: greedy responses to the rule-checked held-out set
  (:mod:`alignment.rules`), strict (every rule of an item) and loose (single rules).
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

from alignment.dialogue import clean_generation, generate_many
from alignment.judge import Judge
from alignment.rules import RuleSet, score
from serving.protocols import LLM


def respond(llm: LLM, instructions: Sequence[str], *, chat: bool, max_tokens: int) -> list[str]:
    """Greedy responses (a junk or empty one stays ``""``: it fails the rules, never crashes)."""
    completions = generate_many(llm, [[("Human", i)] for i in instructions], "Assistant",
                                chat=chat, temperature=0.0, max_tokens=max_tokens)
    return [clean_generation(c.text)[0] or "" for c in completions]


@dataclass
class RuleResult:
    strict: float
    loose: float
    n: int
    responses: list[str] = field(default_factory=list)


def rule_accuracy(llm: LLM, rules: RuleSet, *, chat: bool, max_tokens: int) -> RuleResult:
    """Instruction-following accuracy on the rule-checked held-out set."""
    instructions = [item.instruction for item in rules.items]
    responses = respond(llm, instructions, chat=chat, max_tokens=max_tokens)
    result = score(rules.items, responses)
    return RuleResult(result.strict, result.loose, len(instructions), responses)


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


def table(rows: Sequence[dict[str, Any]]) -> str:
    """The markdown table across stages (``baseline`` first)."""
    head = ("| stage | rule acc (strict) | rule acc (loose) | win rate vs base | DPO reward acc "
            "| DPO margin | SFT loss | DPO loss | pairs | skipped |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def fmt(v: Any) -> str:
        return "—" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))

    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(k)) for k in (
            "stage", "rule_strict", "rule_loose", "win_rate", "reward_accuracy", "reward_margin",
            "sft_loss", "dpo_loss", "pairs", "skipped")) + " |")
    return "\n".join(lines) + "\n"


PLOTTED = (("rule_strict", "rule accuracy (strict)"), ("rule_loose", "rule accuracy (loose)"),
           ("win_rate", "win rate vs base"), ("reward_accuracy", "DPO reward accuracy"))


def plot(rows: Sequence[dict[str, Any]], path: str) -> None:
    """A grouped bar chart of the table's rates per stage (PNG)."""
    import matplotlib

    matplotlib.use("Agg")  # headless
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    width = 0.8 / len(PLOTTED)
    for k, (key, label) in enumerate(PLOTTED):
        values = [r.get(key) if r.get(key) is not None else 0.0 for r in rows]
        ax.bar([i + k * width for i in range(len(rows))], values, width, label=label)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(rows))], [r["stage"] for r in rows])
    ax.set_ylim(0, 1)
    ax.axhline(0.5, color="grey", lw=0.5, ls="--")
    ax.legend(fontsize=7, loc="upper left")
    ax.set_title("alignment: evaluation across stages")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
