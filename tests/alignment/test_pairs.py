"""Preference pairs from revisions, log-prob judgments and rule verdicts; the pair budget."""

from __future__ import annotations

import math

import pytest

from alignment.critique import Revision
from alignment.fakes import FakeLogprobLLM
from alignment.judge import Judge, Judgment
from alignment.pairs import PairBuilder, PreferencePair, budget_pairs


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


def test_rule_pairs_margins_ties_and_confidence():
    builder = PairBuilder()
    samples = [("passes both", 2), ("passes one", 1), ("also one", 1), ("passes none", 0)]
    pairs = builder.from_rules("p", samples, n_constraints=2, max_pairs=10)
    got = [(p.chosen, p.rejected, p.confidence) for p in pairs]
    assert got == [("passes both", "passes none", 1.0),  # margin 2/2 -> (1 + 1) / 2
                   ("passes both", "passes one", 0.75),  # margin 1/2 -> (1 + .5) / 2
                   ("passes both", "also one", 0.75),
                   ("passes one", "passes none", 0.75),
                   ("also one", "passes none", 0.75)]
    assert all(p.source == "rules" and p.label_smoothing == 1 - p.confidence for p in pairs)
    assert builder.skipped["rules_tie"] == 1  # "passes one" vs "also one": dropped
    top = PairBuilder().from_rules("p", samples, n_constraints=2, max_pairs=2)
    assert [(p.chosen, p.rejected) for p in top] == [("passes both", "passes none"),
                                                     ("passes both", "passes one")]


def test_rule_pairs_all_tied_or_identical_make_none():
    builder = PairBuilder()
    assert builder.from_rules("p", [("a", 1), ("b", 1), ("c", 1)], 2, 3) == []
    assert builder.skipped == {"rules_tie": 3}
    assert builder.from_rules("p", [("same  text", 2), ("same text", 1)], 2, 3) == []
    assert builder.skipped["rules_identical"] == 1


def test_budget_pairs_takes_turns_and_nests():
    pairs = ([{"prompt": f"j{i}", "chosen": "a", "rejected": "b", "source": "judge"} for i in range(2)]
             + [{"prompt": f"r{i}", "chosen": "a", "rejected": "b", "source": "rules"} for i in range(6)])
    assert budget_pairs(pairs, 0) == pairs and budget_pairs(pairs, 100) == pairs
    four = budget_pairs(pairs, 4)
    assert sorted(p["source"] for p in four) == ["judge", "judge", "rules", "rules"]
    six = budget_pairs(pairs, 6)
    assert [p["source"] for p in six].count("judge") == 2  # judge runs out; rules fill the rest
    assert all(p in six for p in four)  # a smaller budget keeps a subset
    assert budget_pairs(list(reversed(pairs)), 4) == four  # independent of generation order
