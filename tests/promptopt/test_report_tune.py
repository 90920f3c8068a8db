"""The held-out report, the progress curve, the figures and the Tune search space (no Ray
started)."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptopt.config import load
from promptopt.fakes import FakeKeywordScorer
from promptopt.plots import write_progress
from promptopt.report import heldout_report, progress_points
from tests.promptopt.conftest import make_examples


def test_heldout_report_is_paired_on_the_same_examples() -> None:
    scorer = FakeKeywordScorer(keywords=("step",), base=0.1, per_word=0.0, per_keyword=0.5)
    examples = make_examples(200, "test")
    report = heldout_report(scorer, examples, {"baseline": "Solve.", "best": "Go step by step."},
                            n_resamples=2000)  # fmt: skip
    base, best = report["results"]["baseline"], report["results"]["best"]
    assert report["n"] == 200 and len(best["per_example"]) == 200
    # the fake is right on a superset of examples for the better instruction
    assert all(b >= a for a, b in zip(base["per_example"], best["per_example"], strict=True))
    assert base["ci95"][0] < base["accuracy"] < base["ci95"][1]
    diff = report["differences"]["best-baseline"]
    assert diff["mean_diff"] == pytest.approx(best["accuracy"] - base["accuracy"])
    assert 0 < diff["low"] <= diff["mean_diff"] <= diff["high"] and diff["p_value"] == 0.0
    with pytest.raises(ValueError, match="baseline"):
        heldout_report(scorer, examples, {"best": "x"})


def test_progress_is_best_so_far_against_calls() -> None:
    events = [
        {"event": "evaluated", "score": 0.2, "instruction": "a", "llm_calls": 4},
        {"event": "meta_prompt", "prompt": "...", "llm_calls": 4},
        {"event": "evaluated", "score": 0.1, "instruction": "b", "llm_calls": 9},
        {"event": "beam", "beam": [{"instruction": "c", "score": 0.5}], "llm_calls": 15},
    ]
    assert progress_points(events) == [(4, 0.2, "a"), (9, 0.2, "a"), (15, 0.5, "c")]


def test_figures_are_written(tmp_path: Path) -> None:
    written = write_progress([(1, 0.1, "a"), (5, 0.3, "b")], tmp_path)
    assert all(p.stat().st_size > 1000 for p in written)


def test_tune_space_is_conditional_on_the_method() -> None:
    from promptopt.ray_tune import search_problem, trial_config

    config = load("tune", preset="demo")
    problem = search_problem(config.tune)
    assert problem.metric_names == ["accuracy", "llm_tokens"] and problem.modes == ["max", "min"]
    params = {"method": "protegi", "beam_width": 2, "c": 0.5, "n_gradients": 1}
    assert problem.validate(params) == params
    method, trial = trial_config(config, params)
    assert method == "protegi" and trial.protegi.beam_width == 2 and trial.protegi.steps == 1
    assert config.protegi.beam_width == 4  # the base config is untouched
    single = search_problem(load("tune", overrides=["tune.methods=[opro]"]).tune)
    assert "method" not in [p.name for p in single.params]
