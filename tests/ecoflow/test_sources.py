"""Task-dependent corpus defaults: GSM8K's sources only on gsm8k, references only when asked."""

from __future__ import annotations

import pytest
import torch

from ecoflow.bank import bank
from ecoflow.config import EmbedConfig, OptimizeConfig, load
from ecoflow.corpus import Corpus
from ecoflow.history import round_zero
from ecoflow.sources import DEFAULT_INDUCED, CorpusPlan, gather, retrieval_sources, rows_from
from promptopt.config import TaskConfig
from promptopt.tasks import Example, Task, Template
from promptopt.tasks.judges import LabelJudge
from serving.fakes import FakeScriptedLLM

DEMOS = [Example(f"s/induce-{i}", f"review {i}", "positive", "positive") for i in range(6)]
TASK = Task(name="sentiment", description="sentiment classifier", pool=DEMOS,
            prompt_format=Template("{instruction}\n\nInput: {input}\nOutput:"),
            judge=LabelJudge(("positive", "negative")), baseline="Classify the review.",
            references=("Classify the review.", "Is the review positive or negative?"))


def plan(task: str = "sentiment", **embed) -> CorpusPlan:
    return CorpusPlan.from_config(EmbedConfig(**embed), TaskConfig(name=task))


def test_gsm8k_sources_are_the_default_only_on_gsm8k(monkeypatch):
    monkeypatch.setenv("GSM8K_DIR", "/data/gsm8k")
    on_gsm8k, other = plan("gsm8k"), plan("sentiment")
    assert (on_gsm8k.bank, on_gsm8k.gsm8k_dir, on_gsm8k.induced) == ("gsm8k", "/data/gsm8k", 0)
    assert (other.bank, other.gsm8k_dir, other.induced) == ("generic", None, DEFAULT_INDUCED)
    assert not on_gsm8k.needs_task and other.needs_llm
    # every default can be overridden, and the references are opt-in on every task
    custom = plan("sentiment", bank="gsm8k", gsm8k_dir="/g", induced=0, include_references=True)
    assert (custom.bank, custom.gsm8k_dir, custom.induced, custom.references) == (
        "gsm8k", "/g", 0, True)
    assert plan("gsm8k", include_bank=False).bank is None and not plan("gsm8k").references


def test_generic_bank_names_no_task_and_no_answer():
    generic = bank(kind="generic")
    assert "Answer with a single word." in generic and len(set(generic)) == len(generic) >= 40
    words = " ".join(generic).lower()
    for leak in ("positive", "negative", "antonym", "animal", "plural", "number", "math"):
        assert leak not in words, leak
    assert not set(generic) & set(bank())  # the GSM8K bank stays separate
    with pytest.raises(ValueError, match="unknown bank"):
        bank(kind="nope")


def test_gather_induces_from_train_and_keeps_references_out_by_default():
    llm = FakeScriptedLLM(["Say how the review feels.", "", "Classify the review."])
    embed = EmbedConfig(induced=3, induce_per_call=3, seed=4)
    pairs, meta, induction = gather(plan(induced=3), embed, llm=llm, task=TASK, demos=DEMOS)
    sources = dict(pairs)
    # an induced text equal to a reference is the model's own find: kept, labelled `induced`
    assert [t for t, s in pairs if s == "induced"] == ["Say how the review feels.",
                                                       "Classify the review."]
    assert "references" not in sources.values()
    assert "Is the review positive or negative?" not in sources
    assert [t for t, s in pairs if s == "bank"] == bank(kind="generic")
    assert meta["induced"] == {"requested": 3, "texts": 2, "calls": 2, "parse_failures": 2,
                               "duplicates": 2, "too_long": 0}
    assert meta["references"] == 0 and meta["bank"] == "generic" and meta["task"] == "sentiment"
    assert len(induction.requests) == 2 and all(p["seed"] != 4 for _, p in llm.calls)


def test_references_join_only_when_the_config_says_so():
    embed = EmbedConfig(induced=0, include_references=True)
    pairs, meta, _ = gather(plan(induced=0, include_references=True), embed, task=TASK)
    assert [t for t, s in pairs if s == "references"] == list(TASK.references)
    assert meta["references"] == 2 and meta["induced"]["calls"] == 0
    assert retrieval_sources(None, include_references=True) == ["bank", "induced", "references"]
    assert retrieval_sources(None, include_references=False) == ["bank", "induced"]
    assert retrieval_sources(["bank"], include_references=True) == ["bank"]  # as configured
    with pytest.raises(ValueError, match="needs the served LLM"):
        gather(plan(induced=2), EmbedConfig(induced=2), demos=DEMOS)


def test_round_zero_draws_from_the_retrieval_sources_only():
    texts = ["b1", "b2", "i1", "r1", "g1"]
    corpus = Corpus(texts, ["bank", "bank", "induced", "references", "gsm8k"], torch.eye(5))
    config = load(overrides=["task.name=sentiment", "optimize.bank_initial=10",
                             "optimize.initial=[Mine.]"])
    assert config.optimize.bank_sources is None and OptimizeConfig().bank_sources is None
    first = round_zero(config, corpus, ["Base.", "Ref."])
    assert first[:3] == ["Base.", "Ref.", "Mine."] and sorted(first[3:]) == ["b1", "b2", "i1"]
    assert [corpus.texts[i] for i in rows_from(corpus, ["induced", "references"])] == ["i1", "r1"]
    with pytest.raises(ValueError, match="bank_sources"):
        rows_from(corpus, ["nothing"])
