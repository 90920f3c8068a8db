"""Streaming and cancellation on the real engines, in-process (no Serve): a streamed answer
equals the plain one, a dropped stream stops its engine within a token (llamacpp) or a
decode step (hf), and 64 concurrent streams are all answered."""

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from serving.llm_server import LLMServer
from serving.openai_api import ChatCompletionRequest, CompletionRequest

pytestmark = pytest.mark.slow
MODEL = "smollm2-135m-instruct"


@pytest.fixture(params=["hf", "llamacpp"])
def engine(request):
    return request.getfixturevalue("smollm2_engine" if request.param == "hf" else "llamacpp_engine")


def runner(engine, pool: ThreadPoolExecutor | None = None):
    """``generate`` for :meth:`LLMServer.stream`: one engine call per request, in a thread."""
    return lambda r: asyncio.get_running_loop().run_in_executor(pool, lambda: engine.generate([r])[0])


def parse(lines: list[str]) -> tuple[dict[int, str], dict[int, str], dict | None]:
    """Texts and finish reasons by choice index, and the usage, of a finished stream."""
    assert lines[-1] == "data: [DONE]\n\n"
    texts, finish, usage = {}, {}, None
    for line in lines[:-1]:
        chunk = json.loads(line.removeprefix("data: "))
        usage = chunk.get("usage") or usage
        for c in chunk["choices"]:
            piece = c["delta"].get("content", "") if "delta" in c else c["text"]
            texts[c["index"]] = texts.get(c["index"], "") + piece
            if c["finish_reason"]:
                finish[c["index"]] = c["finish_reason"]
    return texts, finish, usage


async def collect(events) -> list[str]:
    return [e async for e in events]


def both_ways(server: LLMServer, body):
    """(streamed, plain) answers of one request: texts, finish reasons, usage."""
    chat = isinstance(body, ChatCompletionRequest)
    prepare = (lambda: [server.prepare_chat(body)]) if chat else (lambda: server.prepare_completion(body))
    streamed = parse(asyncio.run(collect(server.stream(body, prepare(), runner(server.engine)))))
    results = server.engine.generate(prepare())
    plain = server.chat_response(body, results[0]) if chat else server.completion_response(body, results)
    choices = plain["choices"]
    return streamed, ({c["index"]: c["message"]["content"] if chat else c["text"] for c in choices},
                      {c["index"]: c["finish_reason"] for c in choices}, plain["usage"])


def test_a_streamed_answer_equals_the_plain_one(engine):
    server = LLMServer(engine, MODEL)
    seeded = ChatCompletionRequest(model=MODEL, messages=[{"role": "user", "content": "Write a haiku about the sea."}],
                                   max_tokens=12, temperature=0.9, seed=7, n=2, stream=True,
                                   stream_options={"include_usage": True})
    streamed, plain = both_ways(server, seeded)
    assert streamed == plain and streamed[0][0] != streamed[0][1]  # two different choices, same in both
    stopped = CompletionRequest(model=MODEL, prompt=["1, 2, 3, 4,", "Once upon a time"], max_tokens=8,
                                temperature=0, stop=[" 6"], stream=True, stream_options={"include_usage": True})
    streamed, plain = both_ways(server, stopped)
    assert streamed == plain and streamed[1][0] == "stop" and " 6" not in streamed[0][0]


@pytest.mark.parametrize("fixture", ["llamacpp_engine", "smollm2_engine"])
def test_a_dropped_stream_stops_its_engine_within_a_step(request, fixture):
    engine = request.getfixturevalue(fixture)
    server = LLMServer(engine, MODEL)
    body = CompletionRequest(model=MODEL, prompt="1, 2, 3, 4, 5,", max_tokens=400, temperature=0, stream=True)
    before = engine.counters.tokens, engine.counters.cancelled, engine.counters.tokens_after_cancel
    pool = ThreadPoolExecutor(1)

    async def read_three_pieces_and_drop():
        events = server.stream(body, server.prepare_completion(body), runner(engine, pool))
        seen = [await events.__anext__() for _ in range(3)]
        await events.aclose()  # what a disconnect does: the cancel event is set here
        return seen, engine.counters.tokens

    seen, at_cancel = asyncio.run(read_three_pieces_and_drop())
    pool.shutdown(wait=True)  # the engine's thread has seen the cancel and returned
    tokens = engine.counters.tokens - before[0]
    assert len(seen) == 3 and tokens < 100  # far from max_tokens
    assert engine.counters.tokens - at_cancel <= 1  # a token already being decoded, at most
    assert engine.counters.cancelled - before[1] == 1
    assert engine.counters.tokens_after_cancel - before[2] <= 1


def test_64_concurrent_streams_are_all_answered(llamacpp_engine):
    server = LLMServer(llamacpp_engine, MODEL)

    async def one(i: int) -> list[str]:
        body = ChatCompletionRequest(model=MODEL, messages=[{"role": "user", "content": f"Count to {i % 7 + 1}."}],
                                     max_tokens=4, temperature=0, stream=True)
        return await collect(server.stream(body, [server.prepare_chat(body)], runner(llamacpp_engine)))

    async def all_of_them():
        return await asyncio.gather(*(one(i) for i in range(64)))

    answers = [parse(lines) for lines in asyncio.run(all_of_them())]
    assert len(answers) == 64
    assert all(texts[0] and finish[0] in ("stop", "length") for texts, finish, _ in answers)
