"""events.jsonl records of the BO loop: promptopt-compatible lines, warm start, round 0."""

import json

import pytest

from ecoflow.bo import BOEvent
from ecoflow.history import bo_events, initial_texts, record, warm_start
from promptopt.report import progress_points


def test_record_is_a_promptopt_evaluated_line_and_replays():
    event = BOEvent(3, 1, "Check twice.", 0.25, "guided", (0.1, 0.2), 0.83)
    line = json.loads(json.dumps(record(event, n=4, correct=[1, 0, 0, 0], llm_calls=7)))
    assert line["event"] == "evaluated" and line["instruction"] == "Check twice."
    assert BOEvent.from_dict(line) == event
    assert bo_events([{"event": "epoch"}, line, {**line, "method": "opro"}]) == [line]
    assert progress_points([line]) == [(7, 0.25, "Check twice.")]  # promptopt's plot reads it


def test_warm_start_keeps_first_score_per_text_and_skips_other_sizes(caplog):
    records = [
        {"method": "opro", "event": "evaluated", "instruction": "A", "score": 0.5, "n": 16},
        {"method": "opro", "event": "step", "step": 1},
        {"method": "opro", "event": "evaluated", "instruction": "A", "score": 0.1, "n": 16},
        {"method": "protegi", "event": "evaluated", "instruction": "B", "score": 0.9, "n": 8},
        {"method": "opro", "event": "evaluated", "instruction": "C", "score": 0.0, "n": 16},
        {"method": "opro", "event": "evaluated", "instruction": "  ", "score": 1.0, "n": 16},
    ]
    warm = warm_start(records, expected_n=16)
    assert [(w["text"], w["score"], w["source"], w["index"]) for w in warm] == [
        ("A", 0.5, "warm_start", 0), ("C", 0.0, "warm_start", 1)]
    assert "skipped 1 records" in caplog.text
    with pytest.raises(ValueError, match="no usable"):
        warm_start(records[1:2])


def test_initial_texts_baseline_first_seeded_and_unique():
    bank = [f"t{i}" for i in range(10)]
    a = initial_texts("base", ["x", "base"], bank, 3, seed=1)
    assert a[:2] == ["base", "x"] and len(a) == 5 and set(a[2:]) <= set(bank)
    assert a == initial_texts("base", ["x"], bank, 3, seed=1)
    assert len(initial_texts("base", [], bank, 99, seed=0)) == 11


def test_a_fresh_run_imports_the_warm_start_once(tmp_path):
    from ecoflow.config import load
    from ecoflow.optimize import past_events
    from serving.fakes import FakeHashEncoder
    from serving.runs import RunDir, append_jsonl

    source = tmp_path / "opro-events.jsonl"
    for text, score in (("Think first.", 0.25), ("Be careful.", 0.5)):
        append_jsonl(source, {"method": "opro", "event": "evaluated", "instruction": text,
                              "score": score, "n": 16})
    config = load(preset="demo", overrides=[f"optimize.warm_start={source}"])
    run, encoder = RunDir("ecoflow", "warm", root=tmp_path), FakeHashEncoder(dim=8)
    first = past_events(run, config, encoder)
    assert [(e["text"], e["source"]) for e in first] == [("Think first.", "warm_start"),
                                                        ("Be careful.", "warm_start")]
    assert first[1]["embedding"] == encoder.encode(["Be careful."])[0]
    source.write_text("")  # a resumed run reads its own events, not the source again
    assert past_events(run, config, encoder) == first
