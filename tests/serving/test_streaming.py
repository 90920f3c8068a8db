"""``stream: true`` on the fake engine, in-process: chunk format, equality with the plain
answer, what is refused, cancellation, and the openai SDK reading our events."""

import asyncio
import json
import threading

import httpx
import openai
import pytest

from serving.engines.hf import GenRequest, SamplingParams
from serving.engines.stream import CANCELLED, ChoiceStream
from serving.fakes import FakeEngine
from serving.llm_server import LLMServer
from serving.openai_api import APIError, ChatCompletionRequest, CompletionRequest
from serving.streaming import run_cancellable

MODEL = "fake"


def server() -> LLMServer:
    return LLMServer(FakeEngine(max_model_len=256), MODEL, default_max_tokens=8)


def in_thread(engine):
    return lambda request: asyncio.to_thread(lambda: engine.generate([request])[0])


async def collect(events) -> list[str]:
    return [e async for e in events]


def streamed(s: LLMServer, body) -> list[dict | str]:
    """The events of a streamed request: parsed chunks, and the closing "[DONE]"."""
    requests = [s.prepare_chat(body)] if isinstance(body, ChatCompletionRequest) else s.prepare_completion(body)
    lines = asyncio.run(collect(s.stream(body, requests, in_thread(s.engine))))
    assert all(line.startswith("data: ") and line.endswith("\n\n") for line in lines)
    return [json.loads(d) if (d := line[6:-2]) != "[DONE]" else d for line in lines]


def chat(**kw) -> ChatCompletionRequest:
    return ChatCompletionRequest(**{"model": MODEL, "messages": [{"role": "user", "content": "Hello there"}], **kw})


def test_chat_stream_chunks_add_up_to_the_plain_answer():
    s = server()
    body = chat(max_tokens=8, stream=True, stream_options={"include_usage": True})
    *chunks, last_usage, done = streamed(s, body)
    assert done == "[DONE]"
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"} and len({c["id"] for c in chunks}) == 1
    assert all(c["usage"] is None and c["model"] == MODEL for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    deltas = [c["choices"][0] for c in chunks[1:]]
    assert "".join(d["delta"].get("content", "") for d in deltas) == "Hello th"  # one char a token
    assert [d["finish_reason"] for d in deltas] == [None] * 8 + ["length"] and deltas[-1]["delta"] == {}
    plain = s.chat_response(body, s.engine.generate([s.prepare_chat(body)])[0])
    assert plain["choices"][0]["message"]["content"] == "Hello th"
    assert last_usage["choices"] == [] and last_usage["usage"] == plain["usage"]


def test_completion_stream_of_two_prompts_and_n_2_indexes_choices_prompt_major():
    s = server()
    body = CompletionRequest(model=MODEL, prompt=["abc", "xy"], n=2, max_tokens=5, stream=True)
    *chunks, done = streamed(s, body)
    assert done == "[DONE]" and {c["object"] for c in chunks} == {"text_completion"}
    assert all("usage" not in c for c in chunks)  # no include_usage: no usage key at all
    texts, finish = {}, {}
    for c in chunks:
        (choice,) = c["choices"]
        texts[choice["index"]] = texts.get(choice["index"], "") + choice["text"]
        if choice["finish_reason"]:
            finish[choice["index"]] = choice["finish_reason"]
    assert texts == {0: "abc", 1: "abc", 2: "xy", 3: "xy"} and finish == dict.fromkeys(range(4), "stop")


@pytest.mark.parametrize("body, param", [
    (chat(stream=True, logprobs=True), "logprobs"),
    (CompletionRequest(model=MODEL, prompt="a", stream=True, echo=True), "echo"),
    (CompletionRequest(model=MODEL, prompt="a", stream=True, logprobs=0), "logprobs"),
])
def test_what_cannot_be_streamed_is_a_400_before_any_work(body, param):
    s = server()
    prepare = s.prepare_chat if isinstance(body, ChatCompletionRequest) else s.prepare_completion
    with pytest.raises(APIError) as err:
        prepare(body)
    assert err.value.status == 400 and err.value.param == param
    assert "cannot be streamed" in err.value.message and "`stream: false`" in err.value.message
    assert s.engine.tokenized == 0


def test_stream_options_need_stream():
    with pytest.raises(ValueError, match="`stream_options` is only allowed with `stream: true`"):
        chat(stream_options={"include_usage": True})


def test_choice_stream_holds_back_a_possible_stop_and_half_characters():
    sent = []
    stream = ChoiceStream(lambda i, text, reason: sent.append((i, text, reason)), 3, ["END", ""])
    for text in ["Hi", "Hi E", "Hi EN", "Hi ENd", "Hi ENd \ufffd", "Hi ENd é"]:
        stream.update(text)
    stream.finish("Hi ENd é!", "length")
    assert sent == [(3, "Hi", None), (3, " ", None), (3, "ENd", None), (3, " ", None), (3, "é", None),
                    (3, "!", "length")]


def test_a_dropped_stream_cancels_its_request():
    """Closing the event generator (what Serve does when the client goes away) sets the
    request's cancel event; a request that was never started then generates nothing."""
    s = server()
    body = chat(max_tokens=8, stream=True)
    request = s.prepare_chat(body)
    started, release, results = threading.Event(), threading.Event(), []

    def blocked(req):
        started.set()
        release.wait(10)  # the engine is busy with an earlier batch
        results.append(s.engine.generate([req])[0])
        return results[-1]

    async def drop_after_the_role_chunk():
        events = s.stream(body, [request], lambda r: asyncio.to_thread(blocked, r))
        first = await events.__anext__()
        await asyncio.to_thread(started.wait, 10)
        await events.aclose()
        release.set()
        return first

    assert "assistant" in asyncio.run(drop_after_the_role_chunk())  # waits for the engine's thread
    assert request.cancel.is_set()
    (result,) = results  # the batch it was in ran after the cancel
    assert result.choices[0].finish_reason == CANCELLED and result.completion_tokens == 0
    assert (s.engine.counters.tokens, s.engine.counters.cancelled) == (0, 1)


def test_a_cancelled_plain_request_sets_its_cancel_event():
    requests = [GenRequest([1, 2], SamplingParams()), GenRequest([3], SamplingParams())]

    async def cancelled_caller():
        never = asyncio.Event()

        async def generate(_):
            await never.wait()

        task = asyncio.create_task(run_cancellable(requests, generate))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancelled_caller())
    assert requests[0].cancel is requests[1].cancel and requests[0].cancel.is_set()


def test_the_openai_sdk_reads_our_stream():
    s = server()
    body = chat(max_tokens=5, stream=True, stream_options={"include_usage": True})
    requests = [s.prepare_chat(body)]
    events = "".join(asyncio.run(collect(s.stream(body, requests, in_thread(s.engine)))))

    def answer(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=events.encode())

    client = openai.OpenAI(base_url="http://fake/v1", api_key="x", max_retries=0,
                           http_client=httpx.Client(transport=httpx.MockTransport(answer)))
    chunks = list(client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello"}],
                                                 stream=True, stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5


def test_the_client_streams_text_and_charges_the_reported_usage():
    from serving.client import LLMClient

    s = server()
    seen = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        seen.append(sent)
        body = ChatCompletionRequest(**sent)
        lines = asyncio.run(collect(s.stream(body, [s.prepare_chat(body)], in_thread(s.engine))))
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content="".join(lines).encode())

    client = LLMClient(base_url="http://fake/v1", model=MODEL, cache=None)
    client.endpoint.sync = openai.OpenAI(base_url="http://fake/v1", api_key="x", max_retries=0,
                                         http_client=httpx.Client(transport=httpx.MockTransport(answer)))
    pieces = list(client.stream_chat([{"role": "user", "content": "Hello"}], max_tokens=4, temperature=0))
    assert pieces == ["H", "e", "l", "l"]
    assert seen[0]["stream"] is True and seen[0]["stream_options"] == {"include_usage": True}
    usage = client.ledger.usage
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (1, 5, 4)
    with pytest.raises(ValueError, match="`n` must be 1"):
        client.stream_chat([{"role": "user", "content": "Hello"}], n=2)
