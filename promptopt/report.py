"""The final report: held-out accuracy with 95% intervals, a paired bootstrap, progress.

Pure functions over a :class:`~promptopt.protocols.Scorer` and recorded events; the run
writes what they return to ``summary.json``. No ``ray`` here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict
from typing import Any

from promptopt.protocols import Event, Scorer
from promptopt.tasks import Example
from serving.stats import accuracy, paired_bootstrap


def heldout_report(
    scorer: Scorer,
    examples: Sequence[Example],
    instructions: dict[str, str],
    baseline: str = "baseline",
    n_resamples: int = 10_000,
    seed: int = 0,
    majority: float | None = None,
) -> dict[str, Any]:
    """Scores named instructions on the same held-out examples and compares each to one.

    Args:
        scorer: the evaluator (its table makes a repeated report free).
        examples: the held-out sample.
        instructions: ``{name: instruction}``, e.g. ``{"baseline": ..., "best": ...}``.
        baseline: the name every other instruction is compared with (paired bootstrap).
        n_resamples: bootstrap resamples.
        seed: bootstrap seed.
        majority: the majority-label accuracy on ``examples`` (label tasks), reported beside.

    Returns:
        ``{"n", "example_ids", "majority_label_accuracy", "results": {name: {instruction,
        accuracy, ci95, correct, strict_accuracy, strict_ci95, unparsed, per_example}},
        "differences": {name: {mean_diff, low, high, p_value}}}``. ``accuracy`` is the task
        extractor's score, ``strict_accuracy`` APE's exact match; ``unparsed`` counts outputs
        where the extractor found nothing.
    """
    if baseline not in instructions:
        raise ValueError(f"`baseline` {baseline!r} is not one of {sorted(instructions)}.")
    vectors: dict[str, list[int]] = {}
    results: dict[str, Any] = {}
    for name, instruction in instructions.items():
        outcomes = scorer.score(instruction, examples)
        vectors[name] = [int(o.correct) for o in outcomes]
        acc = accuracy(vectors[name])
        strict = accuracy([int(o.strict) for o in outcomes])
        results[name] = {
            "instruction": instruction,
            "accuracy": acc.value,
            "ci95": [acc.low, acc.high],
            "correct": acc.correct,
            "strict_accuracy": strict.value,
            "strict_ci95": [strict.low, strict.high],
            "unparsed": sum(o.prediction is None for o in outcomes),
            "per_example": vectors[name],
        }
    differences = {}
    for name in instructions:
        if name == baseline:
            continue
        boot = paired_bootstrap(
            vectors[name], vectors[baseline], n_resamples=n_resamples, seed=seed
        )
        differences[f"{name}-{baseline}"] = asdict(boot)
    return {
        "n": len(examples),
        "example_ids": [e.id for e in examples],
        "majority_label_accuracy": majority,
        "results": results,
        "differences": differences,
    }


def progress_points(events: Iterable[Event]) -> list[tuple[int, float, str]]:
    """Best-so-far training score against LLM calls, one point per improvement or step.

    Uses ``evaluated`` events (OPRO's scores, ProTeGi's minibatch scores) and ProTeGi's
    ``beam`` events (the bandit estimate of the beam's best).

    Returns:
        ``[(llm_calls, best_score_so_far, instruction), ...]`` in event order.
    """
    points: list[tuple[int, float, str]] = []
    best, best_instruction = float("-inf"), ""
    for e in events:
        if e.get("event") == "evaluated":
            score, instruction = e["score"], e["instruction"]
        elif e.get("event") == "beam" and e.get("beam"):
            score, instruction = e["beam"][0]["score"], e["beam"][0]["instruction"]
        else:
            continue
        if score > best:
            best, best_instruction = score, instruction
        points.append((int(e.get("llm_calls", 0)), best, best_instruction))
    return points
