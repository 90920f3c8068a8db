"""OpenAI wire format for the ``llm`` and ``embed`` apps: request models, errors, responses.

Everything here is plain pydantic/FastAPI, usable without Serve: bad input becomes an
:class:`APIError` (a 4xx with an OpenAI-style body), never an exception that kills a replica.
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException


class APIError(Exception):
    """An error answered as ``{"error": {"message", "type", "param", "code"}}``."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None,
                 type: str = "invalid_request_error"):
        super().__init__(message)
        self.status, self.message, self.param, self.code, self.type = status, message, param, code, type

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error with an OpenAI body: :class:`APIError`, unknown routes (404), wrong
    methods (405), unparsable or too deeply nested JSON (400), validation errors (400), and
    anything unexpected (500)."""

    @app.exception_handler(APIError)
    async def _api_error(_: Request, exc: APIError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        err = APIError(exc.status_code, _http_message(request, exc),
                       type="server_error" if exc.status_code >= 500 else "invalid_request_error")
        return JSONResponse(err.body(), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"msg": "invalid request", "loc": ()}
        loc = [str(p) for p in first.get("loc", ()) if p != "body"]
        msg = str(first.get("msg", "")).removeprefix("Value error, ")
        message = f"{'.'.join(loc) + ': ' if loc else ''}{msg}"
        param = ".".join(loc) or None
        if first.get("type") == "missing" and not loc:
            message = "the request body is empty; send a JSON object."
        if first.get("type") == "json_invalid":  # loc is the byte offset, not a parameter
            error = first.get("ctx", {}).get("error", "")
            message, param = f"request body is not valid JSON: {error} (at byte {'.'.join(loc)}).", None
        return JSONResponse(APIError(400, message, param=param).body(), status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        err = APIError(500, f"internal error: {type(exc).__name__}: {exc}", type="server_error")
        return JSONResponse(err.body(), status_code=500)


def _http_message(request: Request, exc: StarletteHTTPException) -> str:
    """Starlette's terse ``detail`` as a sentence that says what to do."""
    where = f"{request.method} {request.url.path}"
    if exc.status_code == 404:
        return f"Invalid URL ({where}): no such route here (/docs lists the routes)."
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow") or (exc.headers or {}).get("allow") or "another method"
        return f"Method not allowed ({where}); use {allowed}."
    if exc.status_code == 400 and isinstance(exc.__cause__, RecursionError):
        return "request body is nested too deeply to parse; send flat JSON."
    if exc.status_code == 400 and exc.__cause__ is not None:
        return f"request body could not be parsed ({type(exc.__cause__).__name__}); send UTF-8 JSON."
    return str(exc.detail)


#: What a message's ``content`` may hold here: a string or text parts (no images, audio, files).
ACCEPTED_CONTENT = 'a string or a list of `{"type": "text", "text": ...}` parts'


def _content_text(value: Any) -> str | None:
    """A message's ``content`` as one string: text parts are concatenated as they are (no
    separator, as OpenAI reads them); ``None`` stays ``None`` (checked against the role)."""
    if value is None or isinstance(value, str):
        return value
    if not isinstance(value, list):
        raise ValueError(f"must be {ACCEPTED_CONTENT}, got {type(value).__name__}")
    texts = []
    for i, part in enumerate(value):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "text":
            raise ValueError(f"part {i} is a text part without a string `text`")
        else:
            raise ValueError(f"part {i} is {f'an `{kind}`' if kind else 'not a typed'} part; this "
                             f"model reads text only: {ACCEPTED_CONTENT}")
    return "".join(texts)


class ChatMessage(BaseModel):
    """One chat message. ``content`` is normalized to a string by validation (text parts
    joined); only an assistant message may have ``content: null`` (read as empty)."""

    model_config = ConfigDict(extra="ignore")
    role: Literal["system", "user", "assistant", "developer"]
    content: str | None = None

    @field_validator("content", mode="before")
    @classmethod
    def _parts(cls, v: Any) -> str | None:
        return _content_text(v)

    @model_validator(mode="after")
    def _null_only_for_assistant(self) -> ChatMessage:
        if self.content is None and self.role != "assistant":
            raise ValueError(f"a `{self.role}` message needs `content`: {ACCEPTED_CONTENT}; only "
                             "assistant messages may have `content: null`")
        return self

    @property
    def text(self) -> str:
        """The content as the engine reads it (``""`` for an assistant's ``null``)."""
        return self.content or ""


class StreamOptions(BaseModel):
    """``stream_options``: ``include_usage`` adds a last chunk with the usage."""

    model_config = ConfigDict(extra="ignore")
    include_usage: bool = False


class _Sampling(BaseModel):
    """Parameters common to chat and text completions."""

    model_config = ConfigDict(extra="ignore")
    model: str
    max_tokens: int | None = Field(default=None, gt=0)
    temperature: float = Field(default=1.0, ge=0.0, le=2.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    n: int = Field(default=1, ge=1, le=16)
    stop: str | list[str] | None = Field(default=None, validate_default=True)
    seed: int | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None

    @model_validator(mode="after")
    def _stream_options_need_stream(self) -> _Sampling:
        if self.stream_options is not None and not self.stream:
            raise ValueError("`stream_options` is only allowed with `stream: true`; drop it or "
                             "set `stream: true`")
        return self

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage

    @field_validator("stop")
    @classmethod
    def _stops(cls, v: str | list[str] | None) -> list[str]:
        stops = [v] if isinstance(v, str) else list(v or [])
        if len(stops) > 4:
            raise ValueError("at most 4 stop sequences")
        return stops


class ChatCompletionRequest(_Sampling):
    messages: list[ChatMessage] = Field(min_length=1)
    max_completion_tokens: int | None = Field(default=None, gt=0)
    logprobs: bool = False
    top_logprobs: int | None = Field(default=None, ge=0, le=20)


class CompletionRequest(_Sampling):
    prompt: str | list[str]
    logprobs: int | None = Field(default=None, ge=0, le=20)
    echo: bool = False
    max_tokens: int | None = Field(default=16, gt=0)  # OpenAI's default for completions

    @field_validator("prompt")
    @classmethod
    def _prompt(cls, v: str | list[str]) -> str | list[str]:
        if isinstance(v, list) and not v:
            raise ValueError("prompt list is empty")
        return v


class EmbeddingRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    input: str | list[str]
    model: str | None = None
    encoding_format: Literal["float", "base64"] = "float"

    @field_validator("input")
    @classmethod
    def _inputs(cls, v: str | list[str]) -> list[str]:
        texts = [v] if isinstance(v, str) else v
        if not texts:
            raise ValueError("input is empty")
        return texts


class DecodeRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")
    vectors: list[list[float]] = Field(min_length=1)
    model: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


def completion_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


def now() -> int:
    return int(time.time())
