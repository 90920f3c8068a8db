"""The OpenAI wire format without Serve: content parts, and an OpenAI body on every error path."""

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from serving.openai_api import ChatCompletionRequest, ChatMessage, install_error_handlers

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def client():
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/v1/chat/completions")
    async def chat(body: ChatCompletionRequest) -> dict:
        return {"texts": [m.text for m in body.messages]}

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_text_parts_are_concatenated_and_assistant_content_may_be_null():
    parts = [{"type": "text", "text": "Add "}, {"type": "text", "text": "2 and 3."}]
    body = ChatCompletionRequest(model="m", messages=[
        {"role": "user", "content": parts},
        {"role": "assistant", "content": None},
        {"role": "assistant"},  # content omitted: the same as null
    ])
    assert [m.content for m in body.messages] == ["Add 2 and 3.", None, None]
    assert [m.text for m in body.messages] == ["Add 2 and 3.", "", ""]
    assert ChatMessage(role="user", content=[]).text == ""


@pytest.mark.parametrize("content, fragment", [
    ([{"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}], "`image_url` part"),
    ([{"type": "text", "text": "x"}, {"type": "input_audio", "input_audio": {}}], "part 1 is an `input_audio`"),
    ([{"type": "file", "file": {"file_id": "f"}}], "`file` part"),
    ([{"type": "text", "text": 3}], "without a string `text`"),
    (["plain string in a list"], "part 0 is not a typed part"),
    ({"type": "text", "text": "x"}, "got dict"),
])
def test_non_text_content_is_rejected_naming_what_is_accepted(content, fragment):
    with pytest.raises(ValidationError) as err:
        ChatMessage(role="user", content=content)
    assert fragment in str(err.value) and "text" in str(err.value)


@pytest.mark.parametrize("role", ["user", "system", "developer"])
def test_only_assistant_content_may_be_null(role):
    with pytest.raises(ValidationError, match="only assistant messages may have `content: null`"):
        ChatMessage(role=role, content=None)


def test_parts_over_http(client):
    parts = [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]
    r = client.post("/v1/chat/completions", json={"model": "m", "messages": [
        {"role": "user", "content": parts}, {"role": "assistant", "content": None}]})
    assert r.status_code == 200 and r.json() == {"texts": ["ab", ""]}
    image = [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]
    r = client.post("/v1/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": image}]})
    error = r.json()["error"]
    assert r.status_code == 400 and error["param"] == "messages.0.content"
    assert error["message"].startswith("messages.0.content: part 0 is an `image_url` part; this model reads text only")


def assert_openai_error(r, status: int, fragment: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert fragment in error["message"] and error["type"] == "invalid_request_error"
    return error


@pytest.mark.parametrize("method, path, status, fragment", [
    ("POST", "/v1/nope", 404, "Invalid URL (POST /v1/nope)"),
    ("GET", "/", 404, "Invalid URL (GET /)"),
    ("GET", "/v1/chat/completions", 405, "Method not allowed (GET /v1/chat/completions); use POST."),
    ("DELETE", "/v1/chat/completions", 405, "use POST"),
])
def test_unknown_routes_and_wrong_methods(client, method, path, status, fragment):
    r = client.request(method, path, json={"model": "m", "messages": USER})
    assert_openai_error(r, status, fragment)
    if status == 405:
        assert r.headers["allow"] == "POST"


@pytest.mark.parametrize("body, fragment", [
    (b'{"model": "m", "messages": [', "request body is not valid JSON"),
    (b"", "the request body is empty; send a JSON object."),
    (b"[" * 100_000, "nested too deeply"),
    (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
    (b'{"model": "m", "messages": "hi"}', "messages: Input should be a valid list"),
    (b'{"model": "m", "messages": [], "temperature": 3}', "temperature: Input should be less than or equal to 2"),
    (b'{"model": "m", "messages": [{"role": "robot", "content": "x"}]}', "messages.0.role"),
    (b'[1, 2]', "Input should be a valid dictionary"),
])
def test_unparsable_nested_and_invalid_bodies_are_400(client, body, fragment):
    r = client.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert_openai_error(r, 400, fragment)
