"""Preference pairs for DPO: from revisions, from A/B judgments, and from verifiable rules.

A pair keeps the probability that ``chosen`` is better as ``confidence`` (in [0.5, 1]);
``1 - confidence`` is the label-smoothing ε that the robust / conservative DPO losses take
per pair (:mod:`alignment.dpo_math`). A pair whose two sides are the same text (up to
whitespace) teaches nothing and is skipped (``identical``), as is a judgment with no
preference at all (``tie``, p = 0.5, which would make the robust loss divide by zero).

Rule pairs (:meth:`PairBuilder.from_rules`) rank several samples of one instruction by how
many of its ``n`` constraints each passes: a sample passing ``i`` and one passing ``j < i``
make a pair with margin ``m = (i - j) / n`` and confidence ``(1 + m) / 2`` (all vs none: 1.0;
one of two: 0.75). Samples passing the same number are ties and make no pair.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from alignment.critique import Revision
from alignment.judge import Judgment
from alignment.store import content_key


@dataclass(frozen=True)
class PreferencePair:
    """One DPO example.

    Attributes:
        prompt: the instruction both responses answer.
        chosen: the preferred response.
        rejected: the other response.
        confidence: probability that ``chosen`` really is better (0.5 < confidence <= 1).
        source: ``revision``, ``judge`` or ``rules``.
        principle: the principle it was made under (``""`` when none).
    """

    prompt: str
    chosen: str
    rejected: str
    confidence: float
    source: str
    principle: str = ""

    @property
    def label_smoothing(self) -> float:
        """ε for robust / conservative DPO: the probability the label is flipped."""
        return 1.0 - self.confidence

    def to_record(self) -> dict[str, Any]:
        """Plain data for JSONL (TRL's ``prompt``/``chosen``/``rejected`` columns plus ours)."""
        return asdict(self)


def _same(a: str, b: str) -> bool:
    return a.split() == b.split()


@dataclass
class PairBuilder:
    """Builds pairs and counts what it skips.

    Attributes:
        revision_confidence: confidence given to "revision beats original" pairs (CAI
            treats revisions as better outright; lower it for a weak reviser).
        skipped: counts by reason (``identical``, ``tie``; for rule pairs ``rules_tie``,
            ``rules_identical`` per dropped candidate pair).
    """

    revision_confidence: float = 1.0
    skipped: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if not 0.5 < self.revision_confidence <= 1.0:
            raise ValueError("`revision_confidence` must be in (0.5, 1].")

    def from_revision(self, revision: Revision) -> PreferencePair | None:
        """Revision (chosen) vs the original response (rejected)."""
        if _same(revision.revision, revision.response):
            self.skipped["identical"] += 1
            return None
        return PreferencePair(revision.instruction, revision.revision, revision.response,
                              self.revision_confidence, "revision", revision.principle)

    def from_judgment(
        self, prompt: str, a: str, b: str, judgment: Judgment, principle: str = "",
    ) -> PreferencePair | None:
        """The judged-better side (chosen) vs the other, with the judge's probability."""
        if _same(a, b):
            self.skipped["identical"] += 1
            return None
        if judgment.p_a == 0.5:
            self.skipped["tie"] += 1
            return None
        if judgment.p_a > 0.5:
            return PreferencePair(prompt, a, b, judgment.p_a, "judge", principle)
        return PreferencePair(prompt, b, a, 1.0 - judgment.p_a, "judge", principle)

    def from_rules(
        self, prompt: str, samples: Sequence[tuple[str, int]], n_constraints: int,
        max_pairs: int, principle: str = "",
    ) -> list[PreferencePair]:
        """Pairs (passes more constraints, passes fewer) among one instruction's samples.

        Args:
            prompt: the instruction every sample answers.
            samples: ``(text, constraints passed)`` per sample.
            n_constraints: the instruction's number of constraints (the margin's unit).
            max_pairs: keep the pairs of largest margin, at most this many (ties in margin
                broken by sample order).
            principle: recorded on each pair (e.g. the constraint kinds).
        """
        if n_constraints < 1 or max_pairs < 1:
            raise ValueError("`n_constraints` and `max_pairs` must be at least 1.")
        candidates = []
        for i, (text_i, passed_i) in enumerate(samples):
            for j, (text_j, passed_j) in enumerate(samples):
                if i >= j:
                    continue
                if passed_i == passed_j:
                    self.skipped["rules_tie"] += 1
                elif _same(text_i, text_j):
                    self.skipped["rules_identical"] += 1
                else:
                    hi, lo = (i, j) if passed_i > passed_j else (j, i)
                    margin = abs(passed_i - passed_j) / n_constraints
                    candidates.append((-margin, hi, lo, margin))
        pairs = []
        for _, hi, lo, margin in sorted(candidates)[:max_pairs]:
            pairs.append(PreferencePair(prompt, samples[hi][0], samples[lo][0],
                                        (1.0 + margin) / 2.0, "rules", principle))
        return pairs


def budget_pairs(pairs: Sequence[dict[str, Any]], budget: int) -> list[dict[str, Any]]:
    """At most ``budget`` pair records (all when ``budget <= 0``), the sources taking turns.

    Within a source, pairs are ordered by a hash of their content, so the choice does not
    depend on generation order and a smaller budget keeps a subset of a larger one's.
    """
    if budget <= 0 or len(pairs) <= budget:
        return list(pairs)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in pairs:
        by_source[p["source"]].append(p)
    queues = [sorted(group, key=lambda p: content_key(p["prompt"], p["chosen"], p["rejected"]))
              for _, group in sorted(by_source.items())]
    out: list[dict[str, Any]] = []
    depth = 0
    while len(out) < budget:
        for queue in queues:
            if depth < len(queue) and len(out) < budget:
                out.append(queue[depth])
        depth += 1
    return out
