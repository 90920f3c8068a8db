"""ecoflow.bench.search with fakes: the benchmark's event shape, the budget, the cache.

Everything is a fake (scripted LLM behind a call budget, hash encoder, keyword scorer) and the
flow is a 1-block, 16-wide network trained in-process for a few dozen steps; the test takes
about 3 s on the 2-core dev machine, most of it in the GP fits.
"""

from __future__ import annotations

import itertools

import pytest

from ecoflow.bench import bench_config, search
from ecoflow.config import load
from promptopt.config import PromptOptConfig, TaskConfig
from promptopt.fakes import FakeBudgetedLLM, FakeKeywordScorer
from promptopt.tasks import Example, Task, Template
from promptopt.tasks.judges import LabelJudge
from serving.fakes import FakeHashEncoder, FakeScriptedLLM

EXAMPLES = [Example(f"s/induce-{i}", f"review {i}", "positive", "positive") for i in range(12)]
TASK = Task(name="sentiment", description="sentiment classifier", pool=EXAMPLES,
            prompt_format=Template("{instruction}\n\nInput: {input}\nOutput:"),
            judge=LabelJudge(("positive", "negative")), baseline="Classify the review.",
            references=("Is the review positive or negative?",))
WORDS = ["answer", "review", "carefully", "label", "tone", "reply", "briefly", "feeling"]


def scripted() -> FakeScriptedLLM:
    """Induction replies and decoded candidates, all distinct, from a shared counter."""
    counter = itertools.count()

    def respond(prompt: str, params: dict) -> str:
        i = next(counter)
        words = " ".join(WORDS[(i + k) % len(WORDS)] for k in range(1 + i % 3))
        kind = "Induced" if "The instruction was" in prompt else "Decoded"
        return f"{kind} {words} {i}."

    return FakeScriptedLLM(respond)


def config():
    return load(overrides=[
        "task.name=sentiment", "embed.induced=8", "embed.induce_per_call=4", "train.width=16",
        "train.depth=1", "train.epochs=10", "train.batch_size=16", "optimize.batch_size=2",
        "optimize.steps=8", "optimize.bank_initial=2", "optimize.num_candidates=2"])


def run(max_calls: int, cache_root=None) -> tuple[list[dict], FakeBudgetedLLM]:
    llm = FakeBudgetedLLM(scripted(), max_calls)
    events = search(config(), TASK, llm, FakeHashEncoder(dim=16), "fake-hash-16",
                    FakeKeywordScorer(keywords=("answer",)), EXAMPLES[:5], EXAMPLES[5:], 50, llm,
                    [TASK.baseline], cache_root)
    return events, llm


def test_events_have_the_benchmark_shape_and_every_llm_call_is_charged(tmp_path):
    events, llm = run(max_calls=2 + 4, cache_root=tmp_path)  # induction, then 2 rounds of 2
    kinds = [e["event"] for e in events]
    assert kinds[:3] == ["induce", "induce", "corpus"] and kinds[-1] == "stopped"
    corpus = events[2]
    assert corpus["llm_calls"] == 2 and corpus["meta"]["induced"]["calls"] == 2
    assert corpus["sources"]["induced"] == 8 and "references" not in corpus["sources"]
    assert corpus["flow"]["reused"] is False and corpus["flow"]["steps"] >= 10

    evaluated = [e for e in events if e["event"] == "evaluated"]
    assert evaluated[0]["instruction"] == TASK.baseline and evaluated[0]["round"] == 0
    assert [e["round"] for e in evaluated] == [0, 0, 0, 1, 1, 2, 2]
    for e in evaluated:
        assert e["method"] == "ecoflow" and 0.0 <= e["score"] <= 1.0
        assert e["n"] == 5 and len(e["correct"]) == 5 and "embedding" not in e
    calls = [e["llm_calls"] for e in evaluated]
    assert calls == sorted(calls) and calls[0] == 2 and calls[-1] == 6  # decodes were charged
    assert events[-1]["reason"].startswith("BudgetExceeded")
    assert llm.used().calls == events[-1]["llm_calls"] == 6

    # the same run on a smaller budget: corpus and flow from the cache, the same first events
    again, _ = run(max_calls=4, cache_root=tmp_path)
    assert again[2]["flow"]["reused"] is True
    assert [(e["instruction"], e["score"]) for e in again if e["event"] == "evaluated"] == [
        (e["instruction"], e["score"]) for e in evaluated[:5]]


def test_a_budget_spent_during_induction_stops_cleanly():
    events, _ = run(max_calls=1)
    assert [e["event"] for e in events] == ["stopped"] and events[0]["llm_calls"] == 1
    with pytest.raises(ValueError, match="budget"):
        search(config(), TASK, scripted(), FakeHashEncoder(), "f", FakeKeywordScorer(),
               EXAMPLES, EXAMPLES, 0, FakeBudgetedLLM(scripted(), 1), [TASK.baseline])


def test_bench_config_takes_the_benchmarks_task_and_seeds_everything():
    promptopt = PromptOptConfig(task=TaskConfig(name="antonyms", train_size=50))
    eco = bench_config(promptopt, seed=3)
    assert eco.task == promptopt.task and eco.name == "gains"
    assert (eco.embed.seed, eco.train.seed, eco.optimize.seed) == (3, 3, 3)
    assert eco.embed.include_references is False and eco.optimize.bank_sources is None
