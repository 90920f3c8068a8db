"""The shared Serve apps over real HTTP: OpenAI protocol, bad input, load, replica death.

One deployment of ``llm`` (SmolLM2 on the hf engine) and ``embed`` (MiniLM + a fake
nearest-text decoder) serves the whole module (see ``tests/conftest.py``).
"""

import concurrent.futures as cf
import os
import signal
import threading
import time

import httpx
import openai
import pytest

from tests.conftest import FAKE_DECODER_BANK, TEST_API_KEY

pytestmark = pytest.mark.slow
MODEL = "smollm2-135m-instruct"
HELLO = [{"role": "user", "content": "Say hello."}]


@pytest.fixture(scope="module")
def base(serving_stack):
    return serving_stack.base_url


@pytest.fixture(scope="module")
def http(base):
    with httpx.Client(base_url=base, timeout=300, headers={"Authorization": f"Bearer {TEST_API_KEY}"}) as c:
        yield c


@pytest.fixture(scope="module")
def oai(base):
    return openai.OpenAI(base_url=f"{base}/v1", api_key=TEST_API_KEY, max_retries=0)


def still_serving(http) -> None:
    r = http.post("/v1/chat/completions", json={"model": MODEL, "messages": HELLO, "max_tokens": 2, "temperature": 0})
    assert r.status_code == 200, r.text


def test_models_and_chat_through_openai_client(oai):
    assert [m.id for m in oai.models.list().data] == [MODEL]
    out = oai.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "What is 2+3?"}],
                                      max_tokens=12, temperature=0)
    assert "5" in out.choices[0].message.content
    assert out.usage.completion_tokens <= 12 and out.usage.prompt_tokens > 5


def test_chat_n_seed_stop_logprobs(oai):
    kw = dict(model=MODEL, messages=[{"role": "user", "content": "Write a short poem."}], max_tokens=10,
              temperature=0.9, seed=11, n=3, logprobs=True, top_logprobs=2)
    a, b = oai.chat.completions.create(**kw), oai.chat.completions.create(**kw)
    assert len(a.choices) == 3
    assert [c.message.content for c in a.choices] == [c.message.content for c in b.choices]
    first = a.choices[0].logprobs.content[0]
    assert first.logprob <= 0 and len(first.top_logprobs) == 2
    stopped = oai.completions.create(model=MODEL, prompt="1, 2, 3, 4,", max_tokens=20, temperature=0, stop=[" 6"])
    assert stopped.choices[0].finish_reason == "stop" and "6" not in stopped.choices[0].text


def test_completion_echo_logprobs(oai):
    out = oai.completions.create(model=MODEL, prompt="The capital of France is", max_tokens=1,
                                 temperature=0, logprobs=3, echo=True)
    lp = out.choices[0].logprobs
    assert out.choices[0].text.startswith("The capital of France is")
    assert lp.tokens[:2] == ["The", " capital"] and lp.token_logprobs[0] is None
    assert all(x < 0 for x in lp.token_logprobs[1:]) and len(lp.top_logprobs[-1]) == 3
    assert lp.tokens[-1] == " Paris"


def test_embeddings_float_and_base64(base):
    client = openai.OpenAI(base_url=f"{base}/embed/v1", api_key=TEST_API_KEY)
    texts = ["A cat sits on the mat.", "A kitten rests on a rug.", "Stocks fell sharply."]
    as_b64 = client.embeddings.create(model="minilm", input=texts)  # the client asks for base64
    as_float = client.embeddings.create(model="minilm", input=texts, encoding_format="float")
    a, b = as_b64.data[0].embedding, as_float.data[0].embedding
    assert len(a) == 384 and a == pytest.approx(b, abs=1e-6)
    v = [d.embedding for d in as_float.data]
    cos = lambda x, y: sum(p * q for p, q in zip(x, y, strict=True))  # noqa: E731 — unit vectors
    assert cos(v[0], v[1]) > cos(v[0], v[2]) + 0.3


def test_decode_through_embed_app(http):
    vectors = http.post("/embed/v1/embeddings", json={"input": FAKE_DECODER_BANK[2:4], "encoding_format": "float"}).json()
    back = http.post("/embed/v1/decode", json={"vectors": [d["embedding"] for d in vectors["data"]]})
    assert back.status_code == 200
    assert [d["text"] for d in back.json()["data"]] == FAKE_DECODER_BANK[2:4]
    bad = http.post("/embed/v1/decode", json={"vectors": [[0.1, 0.2]]})
    assert bad.status_code == 400 and "384" in bad.json()["error"]["message"]


BAD_REQUESTS = [
    ("invalid json", "/v1/chat/completions", b'{"model": "x", "messages": [', 400, "not valid JSON"),
    ("missing messages", "/v1/chat/completions", {"model": MODEL}, 400, "messages"),
    ("empty messages", "/v1/chat/completions", {"model": MODEL, "messages": []}, 400, "messages"),
    ("non-string content", "/v1/chat/completions",
     {"model": MODEL, "messages": [{"role": "user", "content": {"x": 1}}]}, 400, "content"),
    ("bad role", "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "robot", "content": "x"}]}, 400, "role"),
    ("unknown model", "/v1/chat/completions", {"model": "gpt-9", "messages": HELLO}, 404, "does not exist"),
    ("max_tokens 0", "/v1/chat/completions", {"model": MODEL, "messages": HELLO, "max_tokens": 0}, 400, "max_tokens"),
    ("max_tokens negative", "/v1/completions", {"model": MODEL, "prompt": "x", "max_tokens": -5}, 400, "max_tokens"),
    ("beyond context", "/v1/chat/completions", {"model": MODEL, "messages": HELLO, "max_tokens": 9000}, 400,
     "maximum context length is 8192"),
    ("oversized prompt", "/v1/completions", {"model": MODEL, "prompt": "word " * 9000, "max_tokens": 1}, 400,
     "accepts at most"),
    ("bad temperature", "/v1/chat/completions", {"model": MODEL, "messages": HELLO, "temperature": -1}, 400, "temperature"),
    ("stream with logprobs", "/v1/chat/completions", {"model": MODEL, "messages": HELLO, "stream": True,
                                                      "logprobs": True}, 400, "cannot be streamed"),
    ("stream_options without stream", "/v1/chat/completions",
     {"model": MODEL, "messages": HELLO, "stream_options": {"include_usage": True}}, 400, "`stream_options`"),
    ("empty prompt list", "/v1/completions", {"model": MODEL, "prompt": []}, 400, "prompt"),
    ("empty embedding input", "/embed/v1/embeddings", {"input": []}, 400, "input"),
    ("blank embedding text", "/embed/v1/embeddings", {"input": ["ok", "  "]}, 400, "input[1] is empty"),
]


@pytest.mark.parametrize("name, path, body, status, fragment", BAD_REQUESTS, ids=[b[0] for b in BAD_REQUESTS])
def test_bad_input_gets_4xx_and_the_replica_keeps_serving(http, name, path, body, status, fragment):
    if isinstance(body, bytes):
        r = http.post(path, content=body, headers={"Content-Type": "application/json"})
    else:
        r = http.post(path, json=body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert fragment in error["message"] and error["type"]
    still_serving(http)


def test_wrong_or_missing_api_key_is_401(base, http):
    for headers in ({"Authorization": "Bearer wrong"}, {}):
        r = httpx.post(f"{base}/v1/chat/completions", json={"model": MODEL, "messages": HELLO}, headers=headers)
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_api_key"
    still_serving(http)


def test_64_concurrent_requests_all_answered(http):
    def one(i):
        body = {"model": MODEL, "messages": [{"role": "user", "content": f"Count to {i % 7 + 1}."}],
                "max_tokens": 8, "temperature": 0}
        return http.post("/v1/chat/completions", json=body)

    with cf.ThreadPoolExecutor(64) as pool:
        responses = list(pool.map(one, range(64)))
    assert [r.status_code for r in responses] == [200] * 64
    assert all(r.json()["choices"][0]["message"]["content"] for r in responses)


def test_killed_replica_is_restarted(ray_session, http):
    from ray._private.state import actors

    def replica_pids():  # this cluster's live replicas of the llm app (GCS actor table)
        return {a["Pid"] for a in actors().values()
                if a["ActorClassName"] == "ServeReplica:llm:LLMServer" and a["State"] == "ALIVE"}

    (pid,) = replica_pids()
    sending = threading.Semaphore(0)  # released by each request as it goes out

    def chat() -> httpx.Response:
        sending.release()
        return http.post("/v1/chat/completions",
                         json={"model": MODEL, "messages": HELLO, "max_tokens": 16})

    with cf.ThreadPoolExecutor(4) as pool:  # requests in flight while the replica dies
        inflight = [pool.submit(chat) for _ in range(4)]
        for _ in inflight:
            assert sending.acquire(timeout=30), "a request thread never started"
        os.kill(pid, signal.SIGKILL)
        [f.exception() or f.result() for f in inflight]
    deadline = time.time() + 240
    while time.time() < deadline:
        try:
            r = http.post("/v1/chat/completions", json={"model": MODEL, "messages": HELLO, "max_tokens": 4})
            if r.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(2)
    else:
        pytest.fail("the llm app did not come back within 240 s after its replica was killed")
    assert replica_pids() - {pid}
