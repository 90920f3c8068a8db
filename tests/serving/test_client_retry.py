"""``serving.client`` waits what ``Retry-After`` asks on 429/503, within its bounded retries
(a fake transport stands in for the endpoint)."""

import time

import httpx2
import openai
import pytest

from serving.client import EndpointUnavailable, LLMClient
from serving.settings import ClientConfig

ANSWER = {"id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": "m",
          "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
          "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture
def endpoint(monkeypatch):
    """``script`` lists the responses in order (the last repeats); ``sleeps`` the waits."""
    state = {"script": [], "calls": 0, "sleeps": []}

    def handler(request: httpx2.Request) -> httpx2.Response:
        state["calls"] += 1
        status, headers = state["script"][min(state["calls"], len(state["script"])) - 1]
        if status == 200:
            return httpx2.Response(200, json=ANSWER)
        return httpx2.Response(status, headers=headers, text="Request dropped due to backpressure.")

    real = openai.OpenAI
    transport = httpx2.MockTransport(handler)
    monkeypatch.setattr(openai, "OpenAI", lambda **kw: real(http_client=httpx2.Client(transport=transport), **kw))
    monkeypatch.setattr(time, "sleep", state["sleeps"].append)  # the SDK's wait between retries
    return state


def client(retries: int = 2) -> LLMClient:
    return LLMClient(ClientConfig(cache="off", max_retries=retries), base_url="http://fake/v1", model="m")


@pytest.mark.parametrize("status", [503, 429])
def test_retry_after_is_waited_then_the_answer_comes(endpoint, status):
    endpoint["script"] = [(status, {"Retry-After": "7"}), (200, {})]
    assert client().chat(HI).text == "ok"
    assert endpoint["calls"] == 2 and endpoint["sleeps"] == [7.0]


def test_retries_stay_bounded_and_the_error_says_what_the_server_asked(endpoint):
    endpoint["script"] = [(503, {"Retry-After": "1"})]
    with pytest.raises(EndpointUnavailable) as err:
        client(retries=2).chat(HI)
    assert endpoint["calls"] == 3 and endpoint["sleeps"] == [1.0, 1.0]
    assert "kept failing after 2 retries (it asks to retry after 1 s): HTTP 503" in str(err.value)


def test_a_retry_after_beyond_two_minutes_is_not_waited(endpoint):
    endpoint["script"] = [(503, {"Retry-After": "600"})]
    with pytest.raises(EndpointUnavailable, match="retry after 600 s"):
        client(retries=3).chat(HI)
    assert endpoint["calls"] == 1 and endpoint["sleeps"] == []
