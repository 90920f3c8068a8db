import multiprocessing as mp

import pytest

from serving.cache import SqliteCache, cache_key, is_reproducible
from serving.ledger import BudgetExceeded, BudgetLedger


def _writer(path: str, start: int) -> None:
    cache = SqliteCache(path)
    for i in range(start, start + 50):
        cache.put(f"k{i}", {"i": i})


def test_cache_shared_across_processes(tmp_path):
    path = str(tmp_path / "r.sqlite")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, s)) for s in (0, 50)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = SqliteCache(path)
    assert len(cache) == 100
    assert cache.get("k73") == {"i": 73}
    assert cache.get("missing") is None


def test_cache_key_covers_every_parameter():
    base = {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.0, "max_tokens": 8}
    key = cache_key("chat", "m", base)
    assert key == cache_key("chat", "m", dict(reversed(list(base.items()))))  # order-free
    assert key != cache_key("chat", "m2", base)
    assert key != cache_key("completion", "m", base)
    assert key != cache_key("chat", "m", {**base, "max_tokens": 9})
    assert key != cache_key("chat", "m", {**base, "seed": 1})
    assert key != cache_key("chat", "m", {**base, "messages": [{"role": "user", "content": "hi "}]})


@pytest.mark.parametrize("params, expected", [
    ({"temperature": 0}, True), ({"temperature": 0.7, "seed": 3}, True),
    ({"temperature": 0.7}, False), ({}, False),
])
def test_only_reproducible_calls_are_cached(params, expected):
    assert is_reproducible(params) is expected


def test_ledger_caps_and_state():
    ledger = BudgetLedger(max_calls=2, max_tokens=None)
    ledger.check()
    ledger.record(10, 5, cached=False)
    ledger.record(0, 0, cached=True)
    ledger.record(7, 3, cached=False)
    assert ledger.state() == {"calls": 2, "prompt_tokens": 17, "completion_tokens": 8,
                              "cache_hits": 1}
    with pytest.raises(BudgetExceeded, match="max_calls=2"):
        ledger.check()
    tokens = BudgetLedger(max_tokens=25)
    tokens.load_state(ledger.state())
    assert tokens.usage.total_tokens == 25
    with pytest.raises(BudgetExceeded, match="max_tokens=25"):
        tokens.check()


def test_a_charging_ledger_counts_cache_hits_as_calls():
    free, charged = BudgetLedger(max_calls=2), BudgetLedger(max_calls=2, charge_cached=True)
    for ledger in (free, charged):
        ledger.record(10, 5, cached=False)
        ledger.record(10, 5, cached=True)
    assert (free.usage.calls, free.usage.cache_hits, free.usage.total_tokens) == (1, 1, 15)
    assert (charged.usage.calls, charged.usage.cache_hits, charged.usage.total_tokens) == (2, 1, 30)
    free.check()
    with pytest.raises(BudgetExceeded):
        charged.check()


def test_the_client_checks_a_charging_budget_before_answering_from_the_cache(tmp_path):
    from serving.client import LLMClient
    from serving.settings import ClientConfig

    cache = str(tmp_path / "c.sqlite")
    key = cache_key("chat", "m", {"messages": [{"role": "user", "content": "hi"}], "temperature": 0.0})
    SqliteCache(cache).put(key, {"choices": [{"index": 0, "message": {"content": "hello"},
                                              "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 3, "completion_tokens": 1}})
    client = LLMClient(ClientConfig(cache_path=cache), base_url="http://127.0.0.1:9/v1", model="m",
                       ledger=BudgetLedger(max_calls=1, charge_cached=True))
    assert client.chat([{"role": "user", "content": "hi"}], temperature=0.0).text == "hello"
    assert client.ledger.usage.calls == 1
    with pytest.raises(BudgetExceeded):
        client.chat([{"role": "user", "content": "hi"}], temperature=0.0)
