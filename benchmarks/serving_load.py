"""Serving under load: 64, 256 and 1,024 concurrent short chats against the ``llm`` app.

Each level sends its chats all at once (distinct prompts, greedy, ``max_tokens`` 16) over
raw HTTP (``httpx``, one connection per chat, no client retries), each with a total client
timeout, and counts what came back: 200, 503, 429, another status, a connection error, or
nothing before the timeout. The requirement it checks: **no request waits longer than the
client timeout without an answer** (``no_silent_waits``): overload is a 503 with
``Retry-After`` from Serve's bounded queue (``llm.max_queued_requests``), never silence.

Before each level one chat is timed on the idle app (``idle_chat_s``), which also waits
until the previous level's work has drained.

    python benchmarks/serving_load.py [--levels 64,256,1024] [--timeout 120] [--max-tokens 16]
        [--base-url http://127.0.0.1:8000] [--quick] [llm.max_queued_requests=64 ...]

Without ``--base-url`` it deploys (or reuses) the ``llm`` app as the other benchmarks do:
on the cluster at ``RAY_ADDRESS``, else on a private local Ray (``RAYOPT_HTTP_PORT`` picks
its port). ``RAYOPT_API_KEY`` is sent as the bearer key. ``--quick`` is a smoke run (levels
4 and 16). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

KINDS = ("200", "503", "429", "other", "error", "timeout")
QUICK_LEVELS = (4, 16)


@dataclass(frozen=True)
class Outcome:
    """What one chat got back.

    Attributes:
        kind: one of :data:`KINDS` (``timeout``: no answer within the client timeout;
            ``error``: the connection failed or was reset).
        latency_s: seconds from sending to the answer (the timeout for ``timeout``).
        status: the HTTP status, if one came.
        retry_after: the ``Retry-After`` header, if any.
    """

    kind: str
    latency_s: float
    status: int | None = None
    retry_after: str | None = None


def classify(status: int) -> str:
    """The :data:`KINDS` bucket of an HTTP status."""
    return str(status) if status in (200, 503, 429) else "other"


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) with linear interpolation (numpy's default); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _latencies(values: Sequence[float]) -> dict[str, float | None]:
    return {"p50": _rounded(percentile(values, 50)), "p95": _rounded(percentile(values, 95)),
            "max": _rounded(max(values)) if values else None}


def summarize(outcomes: Sequence[Outcome], wall_s: float, idle_chat_s: float | None = None) -> dict:
    """One level's counts and latencies.

    Args:
        outcomes: one per chat of the level.
        wall_s: seconds from the first send to the last outcome.
        idle_chat_s: one chat's latency on the idle app before the level.

    Returns:
        ``concurrency``, ``counts`` (every :data:`KINDS` key), latencies (``p50``/``p95``/``max``)
        of every answered chat, of the 200s and of the refusals (503/429),
        ``refusals_without_retry_after``, ``ok_per_s`` and ``silent`` (the timeouts).
    """
    counts = dict.fromkeys(KINDS, 0)
    for o in outcomes:
        counts[o.kind] += 1
    refused = [o for o in outcomes if o.kind in ("503", "429")]
    return {
        "concurrency": len(outcomes),
        "counts": counts,
        "latency_s": _latencies([o.latency_s for o in outcomes if o.status is not None]),
        "ok_latency_s": _latencies([o.latency_s for o in outcomes if o.kind == "200"]),
        "refused_latency_s": _latencies([o.latency_s for o in refused]),
        "refusals_without_retry_after": sum(o.retry_after is None for o in refused),
        "ok_per_s": round(counts["200"] / wall_s, 3) if wall_s > 0 else None,
        "wall_s": round(wall_s, 2),
        "idle_chat_s": None if idle_chat_s is None else round(idle_chat_s, 3),
        "silent": counts["timeout"],
    }


def report(levels: Sequence[dict], *, timeout_s: float, max_tokens: int, model: str,
           base_url: str, server: dict | None = None) -> dict:
    """The benchmark's one JSON object: the levels, and whether every chat got an answer
    (``no_silent_waits``: no timeouts) and every refusal a ``Retry-After``."""
    return {
        "benchmark": "serving_load", "model": model, "base_url": base_url,
        "max_tokens": max_tokens, "client_timeout_s": timeout_s, "server": server or {},
        "levels": list(levels),
        "no_silent_waits": all(level["silent"] == 0 for level in levels),
        "refusals_have_retry_after": all(level["refusals_without_retry_after"] == 0 for level in levels),
    }


def chat_body(model: str, i: int, max_tokens: int) -> dict:
    """Chat ``i`` of a level: a distinct short prompt, greedy."""
    return {"model": model, "max_tokens": max_tokens, "temperature": 0,
            "messages": [{"role": "user", "content": f"Name one thing about the number {i}."}]}


async def one_chat(client, body: dict, timeout_s: float) -> Outcome:
    """Send one chat; the whole exchange (connect, queue, generate, read) gets ``timeout_s``."""
    import httpx

    start = time.perf_counter()
    try:
        r = await asyncio.wait_for(client.post("/v1/chat/completions", json=body), timeout_s)
    except asyncio.TimeoutError:
        return Outcome("timeout", timeout_s)
    except httpx.HTTPError:
        return Outcome("error", time.perf_counter() - start)
    return Outcome(classify(r.status_code), time.perf_counter() - start, r.status_code,
                   r.headers.get("retry-after"))


def _client(base_url: str, api_key: str | None, connections: int, timeout_s: float, transport=None):
    import httpx

    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    # httpx's timeout is per phase; `one_chat` bounds the whole exchange.
    return httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits,
                             timeout=httpx.Timeout(timeout_s), transport=transport)


async def run_level(base_url: str, model: str, n: int, *, max_tokens: int, timeout_s: float,
                    api_key: str | None = None, transport=None) -> tuple[list[Outcome], float]:
    """``n`` chats at once, one connection each. Returns the outcomes and the wall time."""
    async with _client(base_url, api_key, n, timeout_s, transport) as client:
        start = time.perf_counter()
        outcomes = await asyncio.gather(*(one_chat(client, chat_body(model, i, max_tokens), timeout_s)
                                          for i in range(n)))
        return list(outcomes), time.perf_counter() - start


async def idle_chat(base_url: str, model: str, *, max_tokens: int, api_key: str | None,
                    wait_s: float = 600, transport=None) -> float:
    """One chat's latency once the app answers 200 again (the previous level has drained).

    Raises:
        TimeoutError: no 200 within ``wait_s``.
    """
    deadline = time.monotonic() + wait_s
    async with _client(base_url, api_key, 1, wait_s, transport) as client:
        while True:
            outcome = await one_chat(client, chat_body(model, -1, max_tokens), max(1.0, deadline - time.monotonic()))
            if outcome.kind == "200":
                return outcome.latency_s
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the app gave no 200 in {wait_s} s (last: {outcome})")
            await asyncio.sleep(float(outcome.retry_after or 1))


async def run(base_url: str, model: str, levels: Sequence[int], *, max_tokens: int, timeout_s: float,
              api_key: str | None = None, transport=None) -> list[dict]:
    """Every level in turn, each after an idle chat; one summary per level."""
    summaries = []
    for n in levels:
        idle = await idle_chat(base_url, model, max_tokens=max_tokens, api_key=api_key, transport=transport)
        outcomes, wall = await run_level(base_url, model, n, max_tokens=max_tokens, timeout_s=timeout_s,
                                         api_key=api_key, transport=transport)
        summaries.append(summarize(outcomes, wall, idle))
    return summaries


def _raise_fd_limit(needed: int) -> None:
    """One socket per chat: lift the soft open-files limit toward the hard one."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def _served(args: argparse.Namespace) -> tuple[str, str, dict]:
    """(base URL, model, the server's queue settings): ``--base-url`` as given, else the
    ``llm`` app deployed or reused as the other benchmarks do."""
    if args.base_url:
        import httpx

        key = os.environ.get("RAYOPT_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        models = httpx.get(f"{args.base_url.rstrip('/')}/v1/models", headers=headers, timeout=30).json()
        return args.base_url.rstrip("/"), args.model or models["data"][0]["id"], {}
    from serving.config import load_config
    from serving.deploy import ensure_running
    from serving.settings import ServingConfig

    config = load_config(ServingConfig, None, ["enable_embed=false", *args.overrides])
    base = ensure_running(config)
    llm = config.llm
    server = {k: getattr(llm, k) for k in ("engine", "max_batch_size", "max_ongoing_requests",
                                           "max_queued_requests", "queue_retry_after_s", "num_replicas")}
    return base, args.model or llm.name, server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="64,256,1024", help="concurrent chats per level")
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout per chat (s)")
    parser.add_argument("--max-tokens", type=int, default=16)
    parser.add_argument("--base-url", help="an OpenAI-compatible server (default: deploy/reuse the llm app)")
    parser.add_argument("--model", help="model name (default: the served one)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: levels {QUICK_LEVELS}")
    parser.add_argument("overrides", nargs="*", help="ServingConfig overrides, e.g. llm.max_queued_requests=64")
    args = parser.parse_args(argv)
    levels = list(QUICK_LEVELS) if args.quick else [int(n) for n in args.levels.split(",")]
    _raise_fd_limit(max(levels))
    base, model, server = _served(args)
    summaries = asyncio.run(run(base, model, levels, max_tokens=args.max_tokens, timeout_s=args.timeout,
                                api_key=os.environ.get("RAYOPT_API_KEY")))
    print(json.dumps(report(summaries, timeout_s=args.timeout, max_tokens=args.max_tokens, model=model,
                            base_url=base, server=server)))


if __name__ == "__main__":
    main()
