"""benchmarks/serving_load.py: its summaries and JSON shape, and its request loop against a
fake overloaded app (in-process ASGI, no Serve)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from benchmarks import serving_load as load
from benchmarks.serving_load import KINDS, Outcome, percentile, report, summarize


class FakeOverloadedApp:
    """A fake ``llm`` app: ``capacity`` chats at a time get a 200 after ``delay_s``; the rest a
    503 with ``Retry-After: 2`` at once. ``silent=True``: it never answers."""

    def __init__(self, capacity: int, delay_s: float = 0.05, silent: bool = False):
        self.capacity, self.delay_s, self.silent = capacity, delay_s, silent
        self.busy = 0
        self.bodies: list[dict] = []

    async def __call__(self, scope, receive, send):
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(json.loads(body))
        if self.silent:
            await asyncio.sleep(3600)
        if self.busy >= self.capacity:
            await self._send(send, 503, b"Request dropped due to backpressure", [(b"retry-after", b"2")])
            return
        self.busy += 1
        try:
            await asyncio.sleep(self.delay_s)
        finally:
            self.busy -= 1
        await self._send(send, 200, b'{"choices": []}', [(b"content-type", b"application/json")])

    @staticmethod
    async def _send(send, status, body, headers):
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def test_percentile_interpolates_like_numpy():
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 95) == pytest.approx(3.85)
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_statuses_fall_into_the_counted_kinds():
    assert [load.classify(s) for s in (200, 503, 429, 500, 408, 400)] == ["200", "503", "429", "other", "other", "other"]


def test_a_level_summary_counts_every_kind_and_splits_latencies():
    outcomes = [Outcome("200", 1.0, 200), Outcome("200", 3.0, 200), Outcome("503", 0.1, 503, "2"),
                Outcome("429", 0.3, 429), Outcome("other", 0.5, 500), Outcome("error", 0.2),
                Outcome("timeout", 10.0)]
    s = summarize(outcomes, wall_s=10.0, idle_chat_s=0.8)
    assert s["concurrency"] == 7 and list(s["counts"]) == list(KINDS)
    assert s["counts"] == {"200": 2, "503": 1, "429": 1, "other": 1, "error": 1, "timeout": 1}
    assert s["ok_latency_s"] == {"p50": 2.0, "p95": 2.9, "max": 3.0}
    assert s["refused_latency_s"] == {"p50": 0.2, "p95": 0.29, "max": 0.3}
    assert s["latency_s"]["max"] == 3.0  # only chats with an HTTP answer: not the timeout
    assert s["refusals_without_retry_after"] == 1  # the 429
    assert s["ok_per_s"] == 0.2 and s["silent"] == 1 and s["idle_chat_s"] == 0.8


def test_the_report_is_one_json_object_that_says_whether_anyone_waited_in_silence():
    answered = summarize([Outcome("200", 1.0, 200), Outcome("503", 0.1, 503, "2")], wall_s=1.0)
    silent = summarize([Outcome("timeout", 5.0)], wall_s=5.0)
    ok = report([answered], timeout_s=5.0, max_tokens=16, model="m", base_url="http://x", server={"max_queued_requests": 64})
    assert json.loads(json.dumps(ok)) == ok
    assert ok["no_silent_waits"] and ok["refusals_have_retry_after"]
    assert {"benchmark", "model", "base_url", "max_tokens", "client_timeout_s", "server", "levels"} <= set(ok)
    assert not report([answered, silent], timeout_s=5.0, max_tokens=16, model="m", base_url="http://x")["no_silent_waits"]


def run(coro):
    return asyncio.run(coro)


def test_overload_beyond_capacity_is_counted_as_503_with_retry_after():
    app = FakeOverloadedApp(capacity=3, delay_s=0.2)
    outcomes, wall = run(load.run_level("http://fake", "m", 8, max_tokens=16, timeout_s=5,
                                        transport=httpx.ASGITransport(app)))
    s = summarize(outcomes, wall)
    assert s["counts"]["200"] == 3 and s["counts"]["503"] == 5 and s["silent"] == 0
    assert s["refusals_without_retry_after"] == 0
    assert {b["messages"][0]["content"] for b in app.bodies} == {f"Name one thing about the number {i}." for i in range(8)}
    assert all(b["max_tokens"] == 16 and b["temperature"] == 0 for b in app.bodies)


def test_a_silent_server_is_counted_as_timeouts_at_the_client_timeout():
    outcomes, _ = run(load.run_level("http://fake", "m", 4, max_tokens=16, timeout_s=0.2,
                                     transport=httpx.ASGITransport(FakeOverloadedApp(1, silent=True))))
    assert [o.kind for o in outcomes] == ["timeout"] * 4 and all(o.latency_s == 0.2 for o in outcomes)


def test_each_level_starts_with_an_idle_chat():
    app = FakeOverloadedApp(capacity=2, delay_s=0.01)
    levels = run(load.run("http://fake", "m", [2, 4], max_tokens=16, timeout_s=5,
                          transport=httpx.ASGITransport(app)))
    assert [lv["concurrency"] for lv in levels] == [2, 4]
    assert levels[0]["counts"]["200"] == 2 and levels[1]["counts"]["503"] == 2
    assert all(lv["idle_chat_s"] is not None for lv in levels)
    assert len(app.bodies) == 2 + 4 + 2  # two idle chats
