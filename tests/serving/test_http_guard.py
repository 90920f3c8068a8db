"""API key and body size, checked in front of FastAPI (before any body is parsed)."""

import asyncio
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from serving.api_key import KeyDigest
from serving.http_guard import BodyLimitMiddleware, install_http_guards
from serving.openai_api import ChatCompletionRequest, install_error_handlers

KEY = "sekrit"
LIMIT = 1000
GOOD = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


def make_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    install_http_guards(app, max_body_bytes=LIMIT, setting="llm.max_body_bytes")
    app.state.seen = []

    @app.post("/v1/chat/completions")
    async def chat(body: ChatCompletionRequest) -> dict:
        app.state.seen.append(body)
        return {"ok": True}

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok"}

    return app


@pytest.fixture(autouse=True)
def no_key_in_the_environment(monkeypatch):
    """The Serve fixtures of the session put a key in the environment; the middleware must
    not read it (replicas hold only the digest their ``reconfigure`` set)."""
    monkeypatch.setenv("RAYOPT_API_KEY", "not-the-key")


@pytest.fixture
def app():
    return make_app()


@pytest.fixture
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def keyed(app):
    app.state.api_key = KeyDigest.of(KEY)  # what the deployments' `reconfigure` sets


def error_of(r, status: int) -> dict:
    assert r.status_code == status, r.text
    return r.json()["error"]


@pytest.mark.usefixtures("keyed")
def test_the_key_is_checked_before_the_body(client, app):
    bad_json = b'{"model": "m", "messages": ['
    r = client.post("/v1/chat/completions", content=bad_json, headers={"content-type": "application/json"})
    error = error_of(r, 401)
    assert error["code"] == "invalid_api_key" and "Authorization: Bearer <key>" in error["message"]
    assert r.headers["www-authenticate"] == "Bearer"
    oversized = b"x" * (LIMIT * 10)
    assert client.post("/v1/chat/completions", content=oversized).status_code == 401  # not 413
    assert app.state.seen == []


@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize("header, status, fragment", [
    (KEY, 401, "the `Bearer ` prefix is missing"),  # a bare key
    (f"Basic {KEY}", 401, "the `Bearer ` prefix is missing"),
    ("Bearer wrong", 401, "Incorrect API key provided."),
    ("Bearer", 401, "Incorrect API key provided."),
    (f"Bearer {KEY}", 200, None),
    (f"bearer  {KEY} ", 200, None),  # the scheme is case-insensitive (RFC 6750)
])
def test_only_a_bearer_key_is_accepted(client, header, status, fragment):
    r = client.post("/v1/chat/completions", json=GOOD, headers={"Authorization": header})
    if fragment is None:
        assert r.status_code == status, r.text
    else:
        assert fragment in error_of(r, status)["message"]


@pytest.mark.usefixtures("keyed")
def test_docs_are_behind_the_key_and_health_is_open(client):
    for path in ("/docs", "/openapi.json", "/redoc"):
        assert error_of(client.get(path), 401)["code"] == "invalid_api_key"
        assert client.get(path, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
    assert client.get("/health").json() == {"status": "ok"}
    assert error_of(client.get("/nope"), 401)  # no route listing for strangers either


def test_without_a_key_the_app_is_open(client):
    assert client.get("/openapi.json").status_code == 200
    assert client.post("/v1/chat/completions", json=GOOD).json() == {"ok": True}


def test_a_body_over_the_limit_is_413_by_content_length(client, app):
    prompt = "x" * LIMIT
    r = client.post("/v1/chat/completions", json={**GOOD, "messages": [{"role": "user", "content": prompt}]})
    error = error_of(r, 413)
    assert error["code"] == "request_too_large"
    assert f"at most {LIMIT} bytes (`llm.max_body_bytes`)" in error["message"]
    assert app.state.seen == []
    assert client.post("/v1/chat/completions", json=GOOD).status_code == 200  # under it: served


def test_a_chunked_body_is_cut_off_while_it_streams(client, app):
    def chunks(n):
        yield json.dumps(GOOD)[:-1].encode() + b', "pad": "'
        for _ in range(n):
            yield b"y" * 100
        yield b'"}'

    r = client.post("/v1/chat/completions", content=chunks(50), headers={"content-type": "application/json"})
    assert error_of(r, 413)["message"].startswith(f"the request body is over {LIMIT} bytes")
    r = client.post("/v1/chat/completions", content=chunks(2), headers={"content-type": "application/json"})
    assert r.status_code == 200 and len(app.state.seen) == 1  # a small chunked body goes through


def test_the_served_apps_state_sets_the_limit(client, app):
    app.state.max_body_bytes = 50  # what the llm deployment's `reconfigure` does
    assert error_of(client.post("/v1/chat/completions", json=GOOD), 413)
    assert "at most 50 bytes" in error_of(client.post("/v1/chat/completions", json=GOOD), 413)["message"]


def test_content_length_refusal_reads_nothing():
    """A declared size over the limit is refused without one ``receive``."""
    called, sent = [], []

    async def app(scope, receive, send):
        called.append(scope)

    async def receive():
        raise AssertionError("the body was read")

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/completions", "headers": [(b"content-length", b"10000000")]}
    asyncio.run(BodyLimitMiddleware(app, default=100)(scope, receive, send))
    assert called == [] and sent[0]["status"] == 413
    assert json.loads(sent[1]["body"])["error"]["message"].startswith("the request body is 10000000 bytes")
    bad = {**scope, "headers": [(b"content-length", b"lots")]}
    asyncio.run(BodyLimitMiddleware(app, default=100)(bad, receive, send))
    assert sent[2]["status"] == 400 and called == []
