"""ASGI middleware in front of the ``llm`` and ``embed`` apps: API key, then body size.

Both run before FastAPI parses a body, so a caller without the key gets a 401 whatever it
sent (never a 400 that tells it about the API), and an oversized body is refused with a 413
before it is read into memory: by ``Content-Length`` when the client sends one, else while
the chunks arrive. Answers are OpenAI-style ``{"error": {...}}`` bodies.

The key is checked against ``app.state.api_key``, a :class:`~serving.api_key.KeyDigest`
that the deployment's ``reconfigure`` sets from its ``user_config`` (the replica never sees
the key itself); with none set, the app is open. With a key, everything but
:data:`OPEN_PATHS` needs ``Authorization: Bearer <key>``: also ``/docs`` and
``/openapi.json``, which describe the API.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

OPEN_PATHS = ("/health",)  # liveness probes carry no key


async def send_error(send: Send, status: int, message: str, code: str | None = None,
                     param: str | None = None, error_type: str = "invalid_request_error") -> None:
    """Answer with an OpenAI-style error body (the whole response)."""
    body = json.dumps({"error": {"message": message, "type": error_type, "param": param,
                                 "code": code}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _path(scope: Scope) -> str:
    """The request path inside the app (Serve mounts an app under its route prefix)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):] or "/"
    return path


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _state(scope: Scope, name: str):
    """``name`` of the state of the FastAPI app serving the request (Serve serves a copy of
    the module's app: the state its ``reconfigure`` set is that copy's)."""
    return getattr(getattr(scope.get("app"), "state", None), name, None)


class APIKeyMiddleware:
    """401 unless ``Authorization: Bearer <key>`` matches the app's key digest (when set).

    Args:
        app: the wrapped ASGI app.
        open_paths: paths served without a key.
    """

    def __init__(self, app: ASGIApp, open_paths: Iterable[str] = OPEN_PATHS):
        self.app, self.open_paths = app, frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        expected = _state(scope, "api_key")
        if scope["type"] != "http" or not expected or _path(scope) in self.open_paths:
            await self.app(scope, receive, send)
            return
        header = _header(scope, b"authorization")
        if header is None:
            await send_error(send, 401, "You didn't provide an API key: send it as "
                             "`Authorization: Bearer <key>`.", code="invalid_api_key")
            return
        scheme, _, given = header.strip().partition(" ")
        if scheme.lower() != "bearer":
            await send_error(send, 401, "The API key must be sent as `Authorization: Bearer "
                             "<key>` (the `Bearer ` prefix is missing).", code="invalid_api_key")
            return
        if not expected.accepts(given.strip()):
            await send_error(send, 401, "Incorrect API key provided.", code="invalid_api_key")
            return
        await self.app(scope, receive, send)


class BodyLimitMiddleware:
    """413 for a request body over the limit, by ``Content-Length`` or while it streams in.

    The limit is ``app.state.max_body_bytes`` of the FastAPI app serving the request (read per
    request, so a deployment can set it once it knows its model: the ``llm`` app's
    ``reconfigure``), else ``default``. The body is read here, bounded, and replayed to the
    app, so no route ever sees more than the limit.

    Args:
        app: the wrapped ASGI app.
        default: the limit when the app's state sets none.
        setting: the config key that sets the limit (named in the 413).
    """

    def __init__(self, app: ASGIApp, default: int, setting: str = "llm.max_body_bytes"):
        self.app, self.default, self.setting = app, default, setting

    def limit(self, scope: Scope) -> int:
        return _state(scope, "max_body_bytes") or self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit(scope)
        declared = _header(scope, b"content-length")
        if declared is not None:
            if not declared.strip().isdigit():
                await send_error(send, 400, f"Content-Length `{declared}` is not a number of bytes.")
                return
            if int(declared) > limit:
                await self._too_large(send, int(declared), limit)
                return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: nobody to answer
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send, None, limit)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(b"".join(chunks), receive), send)

    async def _too_large(self, send: Send, size: int | None, limit: int) -> None:
        got = f"{size} bytes" if size is not None else f"over {limit} bytes"
        await send_error(send, 413, f"the request body is {got}; this server accepts at most {limit} "
                         f"bytes (`{self.setting}`). Send fewer or shorter inputs per request.",
                         code="request_too_large")


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields ``body`` once, then defers to the real one (disconnects)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


def install_http_guards(app: FastAPI, max_body_bytes: int, setting: str) -> None:
    """Put the key check, then the body limit, in front of every route of ``app``.

    Args:
        app: the FastAPI app (before it serves its first request).
        max_body_bytes: the body limit until ``app.state.max_body_bytes`` sets another.
        setting: the config key of the limit (named in the 413).
    """
    app.add_middleware(BodyLimitMiddleware, default=max_body_bytes, setting=setting)
    app.add_middleware(APIKeyMiddleware)  # added last, runs first: no key, no body read
