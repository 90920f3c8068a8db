"""ROUGE-L between two texts, as Self-Instruct uses it to drop near-duplicate instructions.

Wraps the ``rouge_score`` package (Google's reference implementation, the one Self-Instruct
calls; it is installed here as a dependency of ``lm-eval``): lower-cased, split on anything
that is not ``[a-z0-9]``, no stemming; the score is the LCS F-measure
``2 * P * R / (P + R)`` with ``P = LCS / len(b)`` and ``R = LCS / len(a)``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _scorer() -> Any:
    # Imported lazily: rouge_score pulls in nltk (about 2 s), which most callers never need.
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def rouge_l(a: str, b: str) -> float:
    """ROUGE-L F-measure of ``b`` against ``a`` (symmetric); 0.0 when either has no tokens."""
    return float(_scorer().score(a, b)["rougeL"].fmeasure)


def max_rouge_l(candidate: str, pool: list[str]) -> float:
    """The highest ROUGE-L of ``candidate`` against any text of ``pool`` (0.0 for none)."""
    return max((rouge_l(text, candidate) for text in pool), default=0.0)
