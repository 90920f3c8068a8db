"""IFEval's four accuracies with Wilson intervals, and paired bootstraps of differences.

lm-eval reports ``prompt_level_strict_acc`` / ``prompt_level_loose_acc`` (a prompt counts
when *every* constraint passes) and ``inst_level_strict_acc`` / ``inst_level_loose_acc``
(each constraint on its own). Here they are ``prompt_strict``, ``prompt_loose``,
``inst_strict`` and ``inst_loose``; each is kept as its 0/1 vector so two systems scored on
the same prompts can be compared pair by pair (:func:`paired_difference`). The
instruction-level bootstrap resamples constraints as if independent (constraints of one
prompt are correlated, so its interval is somewhat too narrow; the prompt-level one is not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from alignment.ifeval.checker import Verdict, check
from alignment.ifeval.data import IFEvalItem
from serving.stats import accuracy, paired_bootstrap

METRICS: tuple[str, ...] = ("prompt_strict", "prompt_loose", "inst_strict", "inst_loose")


@dataclass
class IFEvalScore:
    """The 0/1 vectors behind IFEval's accuracies (prompt-level: one per prompt;
    instruction-level: one per constraint, prompts in order)."""

    prompt_strict: list[bool] = field(default_factory=list)
    prompt_loose: list[bool] = field(default_factory=list)
    inst_strict: list[bool] = field(default_factory=list)
    inst_loose: list[bool] = field(default_factory=list)
    checker_errors: int = 0

    def add(self, verdict: Verdict) -> None:
        self.prompt_strict.append(all(verdict.strict))
        self.prompt_loose.append(all(verdict.loose))
        self.inst_strict.extend(verdict.strict)
        self.inst_loose.extend(verdict.loose)
        self.checker_errors += len(verdict.errors)

    def vector(self, metric: str) -> list[bool]:
        if metric not in METRICS:
            raise KeyError(f"no IFEval metric `{metric}`; use one of {list(METRICS)}.")
        return getattr(self, metric)

    def summary(self) -> dict[str, dict[str, float | int]]:
        """``{metric: {value, low, high, correct, n}}`` (95% Wilson intervals)."""
        out: dict[str, dict[str, float | int]] = {}
        for metric in METRICS:
            acc = accuracy(self.vector(metric))
            out[metric] = {"value": acc.value, "low": acc.low, "high": acc.high,
                           "correct": acc.correct, "n": acc.n}
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IFEvalScore:
        return cls(**{k: data[k] for k in (*METRICS, "checker_errors")})


def score(items: Sequence[IFEvalItem], responses: Sequence[str]) -> tuple[IFEvalScore, list[Verdict]]:
    """Check ``responses[i]`` against ``items[i]``; the score and each prompt's verdict."""
    if len(items) != len(responses):
        raise ValueError(f"{len(items)} IFEval items but {len(responses)} responses.")
    result, verdicts = IFEvalScore(), []
    for item, response in zip(items, responses, strict=True):
        verdict = check(item.prompt, response, item.constraints)
        result.add(verdict)
        verdicts.append(verdict)
    return result, verdicts


def paired_difference(a: IFEvalScore, b: IFEvalScore, n_resamples: int = 10_000,
                      seed: int = 0) -> dict[str, dict[str, float | int]]:
    """``a - b`` per metric with a 95% paired-bootstrap interval.

    ``a`` and ``b`` must be scores of the same prompts in the same order (e.g. a stage
    model and the base model on the same subset).

    Returns:
        ``{metric: {diff, low, high, p_value, n}}``; ``p_value`` is the share of resamples
        where ``a`` does not beat ``b``.
    """
    out: dict[str, dict[str, float | int]] = {}
    for metric in METRICS:
        x, y = a.vector(metric), b.vector(metric)
        boot = paired_bootstrap(x, y, n_resamples=n_resamples, seed=seed)
        out[metric] = {"diff": boot.mean_diff, "low": boot.low, "high": boot.high,
                       "p_value": boot.p_value, "n": len(x)}
    return out
