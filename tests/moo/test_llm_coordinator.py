"""The LLM coordinator searcher with a scripted fake LLM: valid answers are used, anything
else falls back to Ax and is logged in full; save/restore without Tune."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from moo.searchers.ax_moo import AxMOO
from moo.searchers.llm_prompt import InvalidProposal, build_messages, parse_proposal
from moo.searchers.ray_llm import LLMCoordinatorSearcher
from serving.fakes import FakeScriptedLLM
from tests.moo.test_searchers import PROBLEM, WARM, toy

GOOD = '```json\n{"x": 0.9, "kind": "b", "y": 0.1}\n```'


def run(searcher: LLMCoordinatorSearcher, trial_id: str) -> dict:
    config = searcher.suggest(trial_id)
    searcher.on_trial_complete(trial_id, toy(config))
    return config


def test_valid_answer_is_used_and_ax_learns_from_it(tmp_path: Path) -> None:
    llm = FakeScriptedLLM([GOOD, '{"x": 0.2, "kind": "a"}'])
    log = tmp_path / "decisions.jsonl"
    searcher = LLMCoordinatorSearcher(PROBLEM, llm, points_to_evaluate=[WARM], seed=0, log_path=log)
    assert run(searcher, "t0") == WARM and llm.calls == []  # warm start: no LLM call
    assert run(searcher, "t1") == {"x": 0.9, "kind": "b", "y": 0.1}
    assert run(searcher, "t2") == {"x": 0.2, "kind": "a"}
    assert [d["source"] for d in searcher.decisions] == ["warm_start", "llm", "llm"]
    # Ax saw all three trials (attached), so its model trains on the LLM's choices too.
    assert searcher.fallback.client.summarize()["trial_status"].tolist() == ["COMPLETED"] * 3
    # The second prompt showed the history with the front marked.
    prompt = llm.calls[1][0]
    assert '1. config={"x": 0.5, "kind": "a"}' in prompt and "[Pareto front]" in prompt
    assert 'y: number in [0.0, 1.0]; only set it when kind is one of ["b"]' in prompt
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert logged[1]["answer"] == GOOD
    assert "\n".join(m["content"] for m in logged[1]["messages"]) == llm.calls[0][0]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("I think you should try more sparsity!", "holds no JSON object"),
        ('{"x": 1.7, "kind": "a"}', "outside [0.0, 1.0]"),
        ('{"x": 0.3, "kind": "c"}', "not one of"),
        ('{"x": 0.3, "kind": "a", "y": 0.5}', "set but inactive"),
        ('{"x": 0.3, "kind": "b"}', "missing the active parameter `y`"),
        ('{"x": 0.3, "kind": "a", "bits": 4}', "unknown parameters"),
        ('{"x": 0.5, "kind": "a"}', "already tried"),
    ],
)
def test_bad_answer_falls_back_to_ax_and_is_logged(
    answer: str, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    llm = FakeScriptedLLM([answer])
    searcher = LLMCoordinatorSearcher(PROBLEM, llm, points_to_evaluate=[WARM], seed=0)
    run(searcher, "t0")
    with caplog.at_level(logging.WARNING, logger="moo.searchers.llm_coordinator"):
        config = run(searcher, "t1")
    PROBLEM.validate(config)
    decision = searcher.decisions[-1]
    assert decision["source"] == "ax_fallback" and reason in decision["reason"]
    messages = build_messages(PROBLEM, searcher.history[:1])  # what was asked for t1
    assert all(m["content"] in caplog.text for m in messages) and answer in caplog.text


def test_llm_failure_falls_back_and_ax_waiting_does_not_respam_the_llm() -> None:
    asked = []

    def broken(prompt: str, params: dict) -> str:
        asked.append(prompt)
        raise ConnectionError("llm app is down")

    llm = FakeScriptedLLM(broken)
    searcher = LLMCoordinatorSearcher(PROBLEM, llm, seed=0)
    searcher.core.fallback = AxMOO(PROBLEM, seed=0, initialization_budget=1)
    assert searcher.suggest("t0") is not None
    assert "ConnectionError" in searcher.decisions[-1]["reason"]
    assert searcher.suggest("t1") is None and len(asked) == 2  # Ax needs t0's data first
    assert searcher.suggest("t2") is None and len(asked) == 2  # same history: not asked again


def test_save_restore_round_trip(tmp_path: Path) -> None:
    script = [GOOD, "junk", '{"x": 0.7, "kind": "a"}']
    searcher = LLMCoordinatorSearcher(PROBLEM, FakeScriptedLLM(script), seed=0)
    for tid in ("t0", "t1"):
        run(searcher, tid)
    pending = searcher.suggest("t2")
    assert pending == {"x": 0.7, "kind": "a"}
    path = str(tmp_path / "coordinator.json")
    searcher.save(path)

    later = ['{"x": 0.7, "kind": "a"}', '{"x": 0.3, "kind": "a"}']
    restored = LLMCoordinatorSearcher(PROBLEM, FakeScriptedLLM(later), seed=0)
    restored.restore(path)
    assert restored.history == searcher.history and restored.decisions == searcher.decisions
    restored.on_trial_complete("t2", toy(pending))  # a trial running at save time finishes
    assert run(restored, "t3")["x"] != 0.7  # restored history knows t2: a repeat is refused
    assert restored.decisions[-1]["reason"].endswith("was already tried")
    assert run(restored, "t4") == {"x": 0.3, "kind": "a"}
    statuses = restored.fallback.client.summarize()["trial_status"].tolist()
    assert statuses == ["COMPLETED"] * 5


def test_parse_proposal_forgives_representation_not_range() -> None:
    from moo.searchers import Param, SearchProblem

    problem = SearchProblem(
        (Param("bits", choices=(4, 8)), Param("group", 32, 128, integer=True)), PROBLEM.objectives
    )
    assert parse_proposal('Sure: {"bits": "8", "group": 64.0} done', problem) == {
        "bits": 8,
        "group": 64,
    }
    with pytest.raises(InvalidProposal, match="outside"):
        parse_proposal('{"bits": 8, "group": 64.5}', problem)
    assert "(none yet" in build_messages(problem, [])[1]["content"]


def test_registry_builds_a_coordinator_that_pickles_for_tune() -> None:
    """Registered as `llm`; Tune pickles its searcher (tuner.pkl) and the real client holds
    locks, so the client is built lazily."""
    from ray import cloudpickle

    from moo.searchers.registry import make_searcher
    from serving.client import LLMClient

    searcher = make_searcher("llm", PROBLEM, seed=0, initialization_budget=2)
    assert isinstance(searcher, LLMCoordinatorSearcher)
    clone = cloudpickle.loads(cloudpickle.dumps(searcher))
    assert clone._llm is None and clone._llm_factory is LLMClient
    with pytest.raises(ValueError, match="exactly one of `llm` and `llm_factory`"):
        LLMCoordinatorSearcher(PROBLEM)
