"""``stream: true`` through Serve over real HTTP (the shared ``llm`` app, hf engine): the
openai SDK's ``stream=True``, a client that disconnects mid-stream, 64 concurrent streams."""

import concurrent.futures as cf
import json
import time

import httpx
import openai
import pytest

from tests.conftest import TEST_API_KEY

pytestmark = pytest.mark.slow
MODEL = "smollm2-135m-instruct"


@pytest.fixture(scope="module")
def http(serving_stack):
    headers = {"Authorization": f"Bearer {TEST_API_KEY}"}
    with httpx.Client(base_url=serving_stack.base_url, timeout=300, headers=headers) as c:
        yield c


def test_the_openai_sdk_streams_the_plain_answer(serving_stack):
    oai = openai.OpenAI(base_url=f"{serving_stack.base_url}/v1", api_key=TEST_API_KEY, max_retries=0)
    kw = dict(model=MODEL, messages=[{"role": "user", "content": "Write a short poem."}], max_tokens=8,
              temperature=0.9, seed=3)
    plain = oai.chat.completions.create(**kw)
    chunks = list(oai.chat.completions.create(**kw, stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == plain.choices[0].message.content
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == plain.choices[0].finish_reason
    assert chunks[-1].usage.completion_tokens == plain.usage.completion_tokens


def test_a_client_that_disconnects_frees_its_row(http):
    before = http.get("/v1/engine/counters").json()
    body = {"model": MODEL, "prompt": "1, 2, 3, 4, 5,", "max_tokens": 1000, "temperature": 0, "stream": True}
    with http.stream("POST", "/v1/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        pieces = []
        for line in response.iter_lines():
            if line.startswith("data: "):
                pieces.append(json.loads(line[6:])["choices"][0]["text"])
            if len(pieces) == 3:
                break  # leaving the block closes the connection mid-stream
    assert len(pieces) == 3
    deadline, after = time.time() + 60, before
    while time.time() < deadline and after["cancelled"] == before["cancelled"]:
        time.sleep(0.5)
        after = http.get("/v1/engine/counters").json()
    assert after["cancelled"] == before["cancelled"] + 1
    assert after["tokens_after_cancel"] - before["tokens_after_cancel"] <= 1
    assert after["tokens"] - before["tokens"] < 1000


def test_64_concurrent_streams_are_all_answered(http):
    def one(i: int) -> str:
        body = {"model": MODEL, "messages": [{"role": "user", "content": f"Count to {i % 7 + 1}."}],
                "max_tokens": 4, "temperature": 0, "stream": True}
        with http.stream("POST", "/v1/chat/completions", json=body) as response:
            assert response.status_code == 200
            return "".join(line for line in response.iter_lines() if line)

    with cf.ThreadPoolExecutor(64) as pool:
        streams = list(pool.map(one, range(64)))
    assert all(s.endswith("data: [DONE]") and '"finish_reason":"' in s for s in streams)
