"""Preference pairs from revisions and from log-prob judgments; identical sides skipped."""

from __future__ import annotations

import math

import pytest

from alignment.critique import Revision
from alignment.fakes import FakeLogprobLLM
from alignment.judge import Judge, Judgment
from alignment.pairs import PairBuilder, PreferencePair


def test_pair_from_judgment_keeps_probability_as_confidence():
    builder = PairBuilder()
    pair = builder.from_judgment("Q", "a1", "b1", Judgment(0.75, (0.75,)), "honest")
    assert pair == PreferencePair("Q", "a1", "b1", 0.75, "judge", "honest")
    assert pair.label_smoothing == pytest.approx(0.25)
    flipped = builder.from_judgment("Q", "a1", "b1", Judgment(0.3, (0.3,)))
    assert (flipped.chosen, flipped.rejected) == ("b1", "a1")
    assert flipped.confidence == pytest.approx(0.7, abs=1e-12)
    assert not builder.skipped


def test_identical_sides_and_ties_are_skipped_and_counted():
    builder = PairBuilder()
    assert builder.from_judgment("Q", "same  text", " same text\n", Judgment(0.9, (0.9,))) is None
    assert builder.from_judgment("Q", "a", "b", Judgment(0.5, (0.5,))) is None
    assert builder.from_revision(Revision("Q", "hello", "honest", "fine", "hello ")) is None
    assert dict(builder.skipped) == {"identical": 2, "tie": 1}


def test_pair_from_revision():
    builder = PairBuilder(revision_confidence=0.9)
    pair = builder.from_revision(Revision("Q", "rude", "kind", "is rude", "polite"))
    assert pair.to_record() == {"prompt": "Q", "chosen": "polite", "rejected": "rude",
                                "confidence": 0.9, "source": "revision", "principle": "kind"}
    with pytest.raises(ValueError, match="`revision_confidence`"):
        PairBuilder(revision_confidence=0.5)


def test_pair_from_logprobs_end_to_end():
    """Order (orig, rev): P(A) = 0.3 / (0.3 + 0.1) = 0.75 for orig. Order (rev, orig):
    P(A) = 0.2 / (0.2 + 0.6) = 0.25 for rev, so 0.75 for orig. Mean: 0.75 → orig chosen."""
    ln = math.log

    def respond(prompt, params):
        if "(A) orig" in prompt:
            return {"A": ln(0.3), "B": ln(0.1)}
        return {"A": ln(0.2), "B": ln(0.6)}

    judgment = Judge(FakeLogprobLLM(respond)).judge("Human: Q", "Which?", "orig", "rev")
    pair = PairBuilder().from_judgment("Q", "orig", "rev", judgment)
    assert (pair.chosen, pair.rejected) == ("orig", "rev")
    assert pair.confidence == pytest.approx(0.75, abs=1e-12)
