"""The LLM coordinator asking the real served ``llm`` app (embedded SmolLM2-135M).

Whatever the small model answers, each suggestion must be a valid config of the space, and
every decision must be logged with its full prompt and the model's answer.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest

from moo.searchers.registry import make_searcher
from serving.client import LLMClient
from serving.settings import ClientConfig
from tests.moo.test_searchers import PROBLEM, toy

pytestmark = pytest.mark.slow


def test_coordinator_through_the_served_llm(serving_stack, tmp_path: Path) -> None:
    factory = functools.partial(LLMClient, ClientConfig(cache_path=str(tmp_path / "c.sqlite")))
    log = tmp_path / "decisions.jsonl"
    searcher = make_searcher(
        "llm", PROBLEM, seed=0, llm_factory=factory, log_path=log, max_tokens=48, temperature=0.0
    )
    for tid in ("t0", "t1", "t2"):
        config = searcher.suggest(tid)
        PROBLEM.validate(config)
        searcher.on_trial_complete(tid, toy(config))
    logged = [json.loads(line) for line in log.read_text().splitlines()]
    assert [d["source"] in ("llm", "ax_fallback") for d in logged] == [True] * 3
    assert all(d["answer"].strip() and d["messages"][1]["content"] for d in logged)
    assert searcher.llm.ledger.usage.calls == 3
