"""IFEval's four accuracies, their intervals, and the paired bootstrap, on tiny inputs."""

from __future__ import annotations

import pytest

from alignment.ifeval.checker import Verdict
from alignment.ifeval.data import load_items
from alignment.ifeval.score import METRICS, IFEvalScore, paired_difference, score
from serving.stats import wilson_interval


def test_prompt_and_instruction_levels():
    s = IFEvalScore()
    s.add(Verdict((True, False), (True, True), ()))
    s.add(Verdict((True,), (True,), ("x: ValueError: boom",)))
    assert s.prompt_strict == [False, True] and s.prompt_loose == [True, True]
    assert s.inst_strict == [True, False, True] and s.inst_loose == [True, True, True]
    summary = s.summary()
    assert summary["inst_strict"]["value"] == pytest.approx(2 / 3)
    assert (summary["inst_strict"]["low"], summary["inst_strict"]["high"]) == pytest.approx(wilson_interval(2, 3))
    assert summary["prompt_loose"]["correct"] == 2 and s.checker_errors == 1
    assert IFEvalScore.from_dict(s.to_dict()) == s


def test_score_on_the_tiny_ifeval(ifeval_dir):
    items = load_items(ifeval_dir)  # keys 7, 3, 11, 5
    responses = ["a cat is soft and warm", "A dog, a good one.", "Red. Any other questions?", ""]
    result, verdicts = score(items, responses)
    assert result.prompt_strict == [True, False, True, False]
    assert result.inst_strict == [True, False, True, True, False]  # the dog: not lowercase, < 20 words
    assert [v.passed for v in verdicts] == [1, 1, 1, 0]
    with pytest.raises(ValueError, match="4 IFEval items but 1 responses"):
        score(items, ["x"])


def test_paired_difference_is_exact_on_the_mean():
    a = IFEvalScore([True, True, False, True], [True] * 4, [True, True, False, True], [True] * 4)
    b = IFEvalScore([False, True, False, False], [True] * 4, [False, True, False, False], [True] * 4)
    diff = paired_difference(a, b, n_resamples=2000, seed=0)
    assert set(diff) == set(METRICS)
    assert diff["prompt_strict"]["diff"] == pytest.approx(0.5)
    # per-prompt differences [1, 0, 0, 1]: a resample of all 0s or all 1s has chance 1/16 > 2.5%
    assert (diff["prompt_strict"]["low"], diff["prompt_strict"]["high"]) == (0.0, 1.0)
    assert diff["prompt_loose"] == {"diff": 0.0, "low": 0.0, "high": 0.0, "p_value": 1.0, "n": 4}
