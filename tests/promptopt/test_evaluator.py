"""The evaluation table, the evaluator's fan-out and resume without repeated evaluations."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from promptopt.evaltable import SqliteEvalTable
from promptopt.evaluator import CountingLLM, Evaluator
from promptopt.opro import Opro
from promptopt.protocols import Outcome
from promptopt.resume import ReplaySink, stable
from promptopt.scoring import LLMScorer
from serving.fakes import FakeScriptedLLM
from serving.runs import RunDir
from tests.promptopt.conftest import make_examples


def answer_with_index(prompt: str, params: dict) -> str:
    """A task model right exactly on even questions ("What is 4 plus 0?" -> 4)."""
    i = int(prompt.split("What is ")[1].split(" ")[0])
    return f"The answer is {i if i % 2 == 0 else i + 1}."


def proposer(prompt: str, params: dict) -> str:
    """An optimizer model whose proposals depend only on its seed (like a cached call)."""
    return f"<INS>Think carefully, variant {'abcdefgh'[params['seed'] % 8]}.</INS>"


def test_sqlite_table_round_trips_and_survives_pickling(tmp_path: Path) -> None:
    table = SqliteEvalTable(tmp_path / "evals.sqlite")
    key = ("m", '{"temperature": 0.0}', "Q_end|qa=1", "Solve it.", "train-3")
    table[key] = Outcome("train-3", True, "so 3", "3", True)
    again = pickle.loads(pickle.dumps(table))
    assert again[key] == Outcome("train-3", True, "so 3", "3", True)
    assert key in again and len(again) == 1 and list(again) == [key]
    del again[key]
    assert key not in table


def test_evaluator_calls_each_evaluation_once_across_scorers(tmp_path: Path) -> None:
    llm = FakeScriptedLLM(answer_with_index)
    examples = make_examples(6)
    table = SqliteEvalTable(tmp_path / "evals.sqlite")
    first = Evaluator(LLMScorer(llm, model="m", table=table, max_tokens=8))
    outcomes = first.score("Solve it.", examples[:4])
    assert [o.correct for o in outcomes] == [True, False, True, False]
    assert len(llm.calls) == 4
    # another optimizer (another process, same file) pays only for the two new examples
    second = Evaluator(LLMScorer(llm, model="m", table=SqliteEvalTable(table.path), max_tokens=8))
    assert [o.correct for o in second.score("Solve it.", examples)][4:] == [True, False]
    assert len(llm.calls) == 6
    # other sampling params are another key: evaluated again
    Evaluator(LLMScorer(llm, model="m", table=table, max_tokens=9)).score("Solve it.", examples[:1])
    assert len(llm.calls) == 7


def test_large_sets_fan_out_in_chunks_into_the_table() -> None:
    llm = FakeScriptedLLM(answer_with_index)
    chunks_seen: list[list[str]] = []

    def local_mapper(instruction, chunks):
        chunks_seen.extend([[e.id for e in c] for c in chunks])
        worker = LLMScorer(llm, model="m", max_tokens=8)  # a private table, like a Ray task
        return [worker.score(instruction, c) for c in chunks]

    scorer = LLMScorer(llm, model="m", max_tokens=8)
    ev = Evaluator(scorer, local_mapper, fan_out_above=4, chunk_size=3)
    examples = make_examples(8)
    outcomes = ev.score("Solve it.", examples)
    assert [len(c) for c in chunks_seen] == [3, 3, 2]
    assert sum(o.correct for o in outcomes) == 4 and len(scorer.table) == 8
    assert len(llm.calls) == 8  # the driver's own scorer made no call: all came from chunks
    ev.score("Solve it.", examples[:3])  # small and cached: no fan-out, no call
    assert len(chunks_seen) == 3 and len(llm.calls) == 8


def test_a_chunk_out_of_budget_keeps_the_others_then_raises() -> None:
    from serving.ledger import BudgetExceeded

    llm = FakeScriptedLLM(answer_with_index)

    def mapper_with_a_spent_chunk(instruction, chunks):
        worker = LLMScorer(llm, model="m", max_tokens=8)
        return [worker.score(instruction, c) if i != 1 else None for i, c in enumerate(chunks)]

    scorer = LLMScorer(llm, model="m", max_tokens=8)
    ev = Evaluator(scorer, mapper_with_a_spent_chunk, fan_out_above=4, chunk_size=3)
    with pytest.raises(BudgetExceeded, match="2 of 3 chunks stored"):
        ev.score("Solve it.", make_examples(8))
    assert len(scorer.table) == 5  # chunks 0 and 2 are kept: a rerun pays only for chunk 1


def test_remaining_calls_are_shared_out_without_overspending() -> None:
    from promptopt.ray_tasks import shares

    assert shares(None, 3) == [None, None, None]
    assert shares(7, 3) == [3, 2, 2] and sum(shares(7, 3)) == 7
    assert shares(1, 3) == [1, 0, 0]


def test_counting_llm_counts_cached_and_fresh_tokens() -> None:
    counted = CountingLLM(FakeScriptedLLM(["one two"]))
    counted.chat([{"role": "user", "content": "a b c"}])
    counted.chat_many([[{"role": "user", "content": "x"}]] * 2)
    assert (counted.usage.calls, counted.usage.prompt_tokens) == (3, 5)
    assert counted.usage.completion_tokens == 6


class Killed(RuntimeError):
    """Stands in for a killed process."""


def _opro_run(run: RunDir, table_path: Path, kill_after: int | None):
    task_llm, opt_llm = FakeScriptedLLM(answer_with_index), FakeScriptedLLM(proposer)
    scorer = LLMScorer(task_llm, model="m", table=SqliteEvalTable(table_path), max_tokens=8)
    sink = ReplaySink(run.events(), run.append, "opro")

    def on_event(event):
        if kill_after is not None and sink.written >= kill_after:
            raise Killed
        sink(event)

    opro = Opro(opt_llm, scorer, make_examples(10), candidates_per_step=2, seed=3,
                reject_digits=False, on_event=on_event)  # fmt: skip
    try:
        result = opro.optimize(steps=3)
    except Killed:
        result = None
    return result, task_llm, sink


def test_a_killed_run_resumes_without_repeating_an_evaluation(tmp_path: Path) -> None:
    reference = RunDir("promptopt", "ref", root=tmp_path)
    ref_result, ref_llm, _ = _opro_run(reference, tmp_path / "ref.sqlite", None)

    run = RunDir("promptopt", "killed", root=tmp_path)
    _, first_llm, _ = _opro_run(run, tmp_path / "evals.sqlite", kill_after=7)
    done_before = len(first_llm.calls)
    assert 0 < done_before < len(ref_llm.calls)

    result, resumed_llm, sink = _opro_run(run, tmp_path / "evals.sqlite", None)
    evaluated_before = {tuple(c[0].split("\n")) for c in first_llm.calls}
    assert not evaluated_before & {tuple(c[0].split("\n")) for c in resumed_llm.calls}
    assert len(first_llm.calls) + len(resumed_llm.calls) == len(ref_llm.calls)
    assert sink.replayed == 7 and not sink.diverged
    assert [stable(e) for e in run.events()] == [stable(e) for e in reference.events()]
    assert result.best == ref_result.best
