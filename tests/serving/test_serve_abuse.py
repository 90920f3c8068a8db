"""The shared Serve apps under abuse, over real HTTP: content parts, OpenAI bodies on every
error path, the key before the body, body and work limits, and a full queue's 503.

Reuses the session's ``llm`` + ``embed`` deployment (``tests/conftest.py``).
"""

import asyncio
import concurrent.futures as cf
import time

import httpx
import openai
import pytest

from serving.limits import default_body_bytes
from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.slow
MODEL = "smollm2-135m-instruct"
SUM = "What is 2+3?"
AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}


@pytest.fixture(scope="module")
def base(serving_stack):
    return serving_stack.base_url


@pytest.fixture(scope="module")
def http(base):
    with httpx.Client(base_url=base, timeout=300, headers=AUTH) as c:
        yield c


@pytest.fixture(scope="module")
def oai(base):
    return openai.OpenAI(base_url=f"{base}/v1", api_key=TEST_API_KEY, max_retries=0)


def error_of(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    return r.json()["error"]


def test_text_parts_read_as_the_same_prompt(oai):
    greedy = dict(model=MODEL, max_tokens=12, temperature=0)
    plain = oai.chat.completions.create(messages=[{"role": "user", "content": SUM}], **greedy)
    parts = [{"type": "text", "text": "What is "}, {"type": "text", "text": "2+3?"}]
    split = oai.chat.completions.create(messages=[{"role": "user", "content": parts}], **greedy)
    assert split.choices[0].message.content == plain.choices[0].message.content
    assert "5" in plain.choices[0].message.content
    history = [{"role": "user", "content": "Hi."}, {"role": "assistant", "content": None},
               {"role": "user", "content": SUM}]
    assert oai.chat.completions.create(messages=history, **greedy).choices[0].message.content


def test_an_image_part_is_a_400_naming_what_the_model_reads(http):
    image = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]
    r = http.post("/v1/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": image}]})
    assert "part 1 is an `image_url` part; this model reads text only" in error_of(r, 400)["message"]


@pytest.mark.parametrize("method, path, status", [
    ("POST", "/v1/nope", 404), ("GET", "/v1/chat/completions", 405), ("PUT", "/v1/completions", 405),
    ("POST", "/embed/v1/nope", 404), ("GET", "/embed/v1/embeddings", 405),
])
def test_unknown_routes_and_wrong_methods_answer_openai_bodies(http, method, path, status):
    error = error_of(http.request(method, path, json={}), status)
    assert error["type"] == "invalid_request_error" and method in error["message"]


@pytest.mark.parametrize("body, fragment", [
    (b"[" * 200_000, "nested too deeply"),
    (b'{"model": "x", "messages": [', "not valid JSON"),
    (b"", "the request body is empty"),
])
def test_unparsable_bodies_answer_openai_bodies(http, body, fragment):
    r = http.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
    assert fragment in error_of(r, 400)["message"]


def test_the_key_comes_before_the_body_and_only_as_bearer(base):
    bad_json = b'{"model": "x", "messages": ['
    r = httpx.post(f"{base}/v1/chat/completions", content=bad_json, headers={"Content-Type": "application/json"})
    assert error_of(r, 401)["code"] == "invalid_api_key"
    bare = httpx.post(f"{base}/v1/chat/completions", json={"model": MODEL, "messages": []},
                      headers={"Authorization": TEST_API_KEY})
    assert "`Bearer ` prefix is missing" in error_of(bare, 401)["message"]
    for path in ("/docs", "/openapi.json", "/embed/docs", "/embed/openapi.json"):
        assert httpx.get(f"{base}{path}").status_code == 401
        assert httpx.get(f"{base}{path}", headers=AUTH).status_code == 200
    assert httpx.get(f"{base}/health").status_code == 200


def test_oversized_bodies_are_413_declared_or_streamed(http):
    limit = default_body_bytes(8192)  # SmolLM2's context
    prompt = "word " * (limit // 5 + 10)
    r = http.post("/v1/completions", json={"model": MODEL, "prompt": prompt, "max_tokens": 1})
    assert f"at most {limit} bytes" in error_of(r, 413)["message"]

    def chunks():
        yield b'{"model": "%s", "max_tokens": 1, "prompt": "' % MODEL.encode()
        for _ in range(limit // 10_000 + 2):
            yield b"w" * 10_000
        yield b'"}'

    r = http.post("/v1/completions", content=chunks(), headers={"Content-Type": "application/json"})
    assert error_of(r, 413)["code"] == "request_too_large"
    still = http.post("/v1/chat/completions", json={"model": MODEL, "max_tokens": 2,
                                                    "messages": [{"role": "user", "content": SUM}]})
    assert still.status_code == 200


def test_a_5mb_body_is_413_within_half_a_second(http):
    """Probe 2: a 5 MB body once cost the replica 10-16 s of tokenizing; now its declared size
    is refused before a byte is read. Best of three sends: this shared 2-core machine can
    deschedule any one of them."""
    body = b'{"model": "%s", "messages": [{"role": "user", "content": "' % MODEL.encode() + b"x" * 5_000_000 + b'"}]}'
    elapsed = []
    for _ in range(3):
        start = time.perf_counter()
        r = http.post("/v1/chat/completions", content=body, headers={"Content-Type": "application/json"})
        elapsed.append(time.perf_counter() - start)
        assert error_of(r, 413)["code"] == "request_too_large"
    assert min(elapsed) < 0.5, elapsed


def _chat_seconds(http) -> float:
    start = time.perf_counter()
    r = http.post("/v1/chat/completions", json={"model": MODEL, "max_tokens": 8, "temperature": 0,
                                                "messages": [{"role": "user", "content": SUM}]})
    assert r.status_code == 200, r.text
    return time.perf_counter() - start


def test_a_2048_sequence_request_does_not_hold_up_a_short_chat(http):
    """Probe 3: 128 prompts × n=16 once held the replica for 200 s and a chat sent meanwhile
    waited as long. Now it is a 400 at once, and the chat beside it takes at most 3× its idle
    time."""
    idle = _chat_seconds(http)
    with cf.ThreadPoolExecutor(2) as pool:
        big = pool.submit(http.post, "/v1/completions", json={"model": MODEL, "prompt": [SUM] * 128,
                                                               "n": 16, "max_tokens": 16})
        beside = pool.submit(_chat_seconds, http)
        assert "2048 sequences (128 prompts × n=16)" in error_of(big.result(), 400)["message"]
        assert beside.result() <= 3 * idle, (beside.result(), idle)


def test_work_per_request_is_bounded(http):
    many = http.post("/v1/completions", json={"model": MODEL, "prompt": ["a"] * 65, "max_tokens": 1})
    assert "`llm.max_sequences_per_request`" in error_of(many, 400)["message"]
    long = http.post("/v1/chat/completions", json={"model": MODEL, "n": 16, "max_tokens": 4096,
                                                   "messages": [{"role": "user", "content": SUM}]})
    assert "`llm.max_tokens_per_request`" in error_of(long, 400)["message"]
    prompt = "é" * 40_000  # 80 000 bytes > 8191 tokens × 8: refused before tokenizing
    big = http.post("/v1/completions", json={"model": MODEL, "prompt": prompt, "max_tokens": 1})
    assert "bytes; this server accepts at most 8191 tokens" in error_of(big, 400)["message"]


def test_a_full_queue_is_503_with_retry_after(serving_stack):
    """The llm deployment's queue options on a slow stand-in (filling the real one takes
    hundreds of generations)."""
    from ray import serve

    from serving.llm_app import deployment_options
    from serving.settings import LLMAppConfig

    @serve.deployment
    class Slow:
        async def __call__(self, request) -> str:
            await asyncio.sleep(3)
            return "done"

    config = LLMAppConfig(max_batch_size=1, max_ongoing_requests=1, max_queued_requests=1,
                          queue_retry_after_s=4, num_cpus=0.1)
    options = {k: v for k, v in deployment_options(config).items() if k != "user_config"}
    serve.run(Slow.options(**options).bind(), name="queue-test", route_prefix="/queue-test")
    try:
        url = f"{serving_stack.base_url}/queue-test"
        with cf.ThreadPoolExecutor(6) as pool:
            responses = list(pool.map(lambda _: httpx.get(url, timeout=60), range(6)))
        statuses = sorted(r.status_code for r in responses)
        assert statuses[0] == 200 and statuses[-1] == 503, statuses
        assert all(r.headers.get("retry-after") == "4" for r in responses if r.status_code == 503)
    finally:
        serve.delete("queue-test")
