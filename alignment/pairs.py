"""Preference pairs for DPO, from revisions and from A/B judgments.

A pair keeps the probability that ``chosen`` is better as ``confidence`` (in [0.5, 1]);
``1 - confidence`` is the label-smoothing ε that the robust / conservative DPO losses take
per pair (:mod:`alignment.dpo_math`). A pair whose two sides are the same text (up to
whitespace) teaches nothing and is skipped (``identical``), as is a judgment with no
preference at all (``tie``, p = 0.5, which would make the robust loss divide by zero).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from alignment.critique import Revision
from alignment.judge import Judgment


@dataclass(frozen=True)
class PreferencePair:
    """One DPO example.

    Attributes:
        prompt: the instruction both responses answer.
        chosen: the preferred response.
        rejected: the other response.
        confidence: probability that ``chosen`` really is better (0.5 < confidence <= 1).
        source: ``revision`` or ``judge``.
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
        skipped: counts by reason (``identical``, ``tie``).
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
