"""The one way optimizers call models: OpenAI protocol + shared cache + budget ledger.

Built on the official ``openai`` package, so any OpenAI-compatible endpoint (the ``llm``
Serve app, a vLLM server, a hosted API) stands in by configuration. The ``openai`` client
already retries timeouts, connection errors, 429 and 5xx with exponential backoff
(``max_retries``), waiting what a ``Retry-After`` header asks when it asks for at most two
minutes (the ``llm`` app's full queue answers 503 with one); after the last retry we raise
:class:`EndpointUnavailable` saying where and what to do. Any other 4xx is the caller's
mistake: :class:`RequestRejected` with the server's message. :meth:`LLMClient.stream_chat`
and :meth:`LLMClient.stream_complete` yield text as the endpoint generates it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import openai

from serving.cache import RayActorCache, ResponseCache, SqliteCache, cache_key, is_reproducible
from serving.ledger import BudgetExceeded, BudgetLedger
from serving.models import cache_dir
from serving.protocols import Choice, Completion, Message, TokenLogprob
from serving.settings import ClientConfig

log = logging.getLogger(__name__)

__all__ = ["BudgetExceeded", "EmbedClient", "EndpointUnavailable", "LLMClient", "RequestRejected"]


class EndpointUnavailable(RuntimeError):
    """The endpoint did not answer (or kept failing) after the bounded retries."""


class RequestRejected(ValueError):
    """The endpoint answered 4xx: the request itself is wrong (the message says why)."""


def default_base_url(path: str = "/v1") -> str:
    port = os.environ.get("RAYOPT_HTTP_PORT", "8000")
    return f"http://127.0.0.1:{port}{path}"


def make_cache(config: ClientConfig) -> ResponseCache | None:
    if config.cache == "off":
        return None
    path = config.cache_path or str(cache_dir() / "responses.sqlite")
    return RayActorCache(path) if config.cache == "ray" else SqliteCache(path)


class _Endpoint:
    """Shared plumbing of the LLM and embedding clients: openai clients, errors, limits."""

    def __init__(self, config: ClientConfig, base_url: str, cache: ResponseCache | None | str):
        self.config, self.base_url = config, base_url.rstrip("/")
        self._key = os.environ.get(config.api_key_env) or "none"
        self.sync = openai.OpenAI(base_url=self.base_url, api_key=self._key,
                                  max_retries=config.max_retries, timeout=config.timeout_s)
        self.cache = make_cache(config) if cache == "config" else cache
        self._slots = threading.BoundedSemaphore(config.max_concurrency)

    def call(self, fn, *args, **kwargs):
        with self._slots:
            try:
                return fn(*args, **kwargs)
            except openai.APIStatusError as exc:
                raise self._translate(exc) from exc
            except (openai.APIConnectionError, openai.APITimeoutError) as exc:
                raise EndpointUnavailable(
                    f"{self.base_url} did not answer after {self.config.max_retries} retries "
                    f"({type(exc).__name__}: {exc}). Is the app running? Start it with "
                    "`python -m serving up`, or set RAYOPT_LLM_BASE_URL to a live endpoint."
                ) from exc

    def stream(self, fn, *args, **kwargs) -> Iterator[Any]:
        """``fn``'s streamed chunks, with :meth:`call`'s slot and errors for the whole stream;
        closing the iterator early closes the connection (the server cancels the work)."""
        with self._slots:
            try:
                with fn(*args, **kwargs) as chunks:
                    yield from chunks
            except openai.APIStatusError as exc:
                raise self._translate(exc) from exc
            except openai.APIError as exc:  # an error event inside a started stream
                raise EndpointUnavailable(f"{self.base_url} failed mid-stream: {exc}") from exc

    def _translate(self, exc: openai.APIStatusError) -> Exception:
        body = exc.body if isinstance(exc.body, dict) else {}
        message = (body.get("error") or body).get("message") if isinstance(body, dict) else None
        message = message or str(exc)
        if exc.status_code >= 500 or exc.status_code == 429:  # overloaded or down: not the caller's
            wait = exc.response.headers.get("retry-after")
            asked = f" (it asks to retry after {wait} s)" if wait else ""
            return EndpointUnavailable(f"{self.base_url} kept failing after {self.config.max_retries} "
                                       f"retries{asked}: HTTP {exc.status_code}: {message}")
        return RequestRejected(f"HTTP {exc.status_code} from {self.base_url}: {message}")


class LLMClient:
    """Chat and text completions with a shared cache and a budget.

    Args:
        config: endpoint, concurrency, retries, cache and budget (see :class:`ClientConfig`).
        base_url: overrides ``config.base_url`` / ``RAYOPT_LLM_BASE_URL``.
        model: overrides ``config.model`` / ``RAYOPT_LLM_MODEL``; default: the endpoint's first.
        ledger: a shared :class:`BudgetLedger` (default: one built from the config's caps).
        cache: a :class:`ResponseCache`, ``None`` for none, or ``"config"`` (from the config).
    """

    def __init__(self, config: ClientConfig | None = None, *, base_url: str | None = None,
                 model: str | None = None, ledger: BudgetLedger | None = None,
                 cache: ResponseCache | None | str = "config"):
        config = config or ClientConfig()
        url = base_url or config.base_url or os.environ.get("RAYOPT_LLM_BASE_URL") or default_base_url()
        self.endpoint = _Endpoint(config, url, cache)
        self._model = model or config.model or os.environ.get("RAYOPT_LLM_MODEL")
        self.ledger = ledger or BudgetLedger(config.max_calls, config.max_tokens)

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    @property
    def model(self) -> str:
        if self._model is None:
            models = self.endpoint.call(self.endpoint.sync.models.list).data
            if not models:
                raise EndpointUnavailable(f"{self.base_url}/models lists no model.")
            self._model = models[0].id
        return self._model

    # -- sync ------------------------------------------------------------------------------
    def chat(self, messages: Sequence[Message], **params: Any) -> Completion:
        """One chat completion; ``params`` are OpenAI's (``temperature``, ``max_tokens``, ...)."""
        payload = {"messages": [dict(m) for m in messages], **params}
        return self._cached("chat", payload, lambda: self.endpoint.sync.chat.completions.create(
            model=self.model, **payload))

    def complete(self, prompt: str, **params: Any) -> Completion:
        """One text completion (``logprobs``, ``echo`` supported)."""
        payload = {"prompt": prompt, **params}
        return self._cached("completion", payload, lambda: self.endpoint.sync.completions.create(
            model=self.model, **payload))

    def chat_many(self, conversations: Sequence[Sequence[Message]], **params: Any) -> list[Completion]:
        """Many chats concurrently (up to ``max_concurrency`` in flight), results in order."""
        if not conversations:
            return []
        workers = min(self.endpoint.config.max_concurrency, len(conversations))
        with ThreadPoolExecutor(workers, thread_name_prefix="rayopt-llm") as pool:
            return list(pool.map(lambda m: self.chat(m, **params), conversations))

    # -- streaming ------------------------------------------------------------------------
    def stream_chat(self, messages: Sequence[Message], **params: Any) -> Iterator[str]:
        """One chat completion as it is generated: the text pieces of its single choice.

        Never cached. The budget is checked before the call, and the ledger is charged with
        the usage the endpoint reports at the end (``stream_options.include_usage``); a
        stream closed early is charged as a call with no tokens (its usage never arrives).
        """
        payload = {"messages": [dict(m) for m in messages], **params}
        return self._stream(self.endpoint.sync.chat.completions.create, payload,
                            lambda c: c.delta.content)

    def stream_complete(self, prompt: str, **params: Any) -> Iterator[str]:
        """One text completion as it is generated (see :meth:`stream_chat`)."""
        return self._stream(self.endpoint.sync.completions.create, {"prompt": prompt, **params},
                            lambda c: c.text)

    def _stream(self, create, payload: dict[str, Any], text_of) -> Iterator[str]:
        if payload.get("n", 1) != 1:
            raise ValueError("`n` must be 1 to stream through LLMClient; call `chat`/`complete` "
                             "for several choices.")
        self.ledger.check()
        return self._pieces(create, payload, text_of)

    def _pieces(self, create, payload: dict[str, Any], text_of) -> Iterator[str]:
        tokens = (0, 0)
        try:
            for chunk in self.endpoint.stream(create, model=self.model, stream=True,
                                              stream_options={"include_usage": True}, **payload):
                if chunk.usage is not None:
                    tokens = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
                for choice in chunk.choices:
                    if piece := text_of(choice):
                        yield piece
        finally:
            self.ledger.record(*tokens, cached=False)

    # -- async (the sync client in a worker thread: safe from any event loop) --------------
    async def achat(self, messages: Sequence[Message], **params: Any) -> Completion:
        return await asyncio.to_thread(self.chat, messages, **params)

    async def acomplete(self, prompt: str, **params: Any) -> Completion:
        return await asyncio.to_thread(self.complete, prompt, **params)

    # -- internals -------------------------------------------------------------------------
    def _cached(self, kind: str, payload: dict[str, Any], send) -> Completion:
        cache = self.endpoint.cache if is_reproducible(payload) else None
        key = cache_key(kind, self.model, payload) if cache is not None else None
        if cache is not None and (hit := cache.get(key)) is not None:
            completion = _to_completion(hit, cached=True)
            if self.ledger.charge_cached:
                self.ledger.check()
            self.ledger.record(completion.prompt_tokens, completion.completion_tokens, cached=True)
            return completion
        self.ledger.check()
        response = self.endpoint.call(send).model_dump(mode="json")
        completion = _to_completion(response, cached=False)
        self.ledger.record(completion.prompt_tokens, completion.completion_tokens, cached=False)
        if cache is not None:
            cache.put(key, response)
        return completion


def _to_completion(response: dict[str, Any], cached: bool) -> Completion:
    choices = []
    for c in sorted(response.get("choices") or [], key=lambda c: c.get("index", 0)):
        text = c["message"]["content"] if "message" in c else c.get("text", "")
        choices.append(Choice(text=text or "", finish_reason=c.get("finish_reason") or "stop",
                              logprobs=_logprobs(c.get("logprobs"))))
    if not choices:
        raise EndpointUnavailable(f"the endpoint answered with no choices: {response}")
    usage = response.get("usage") or {}
    return Completion(choices=tuple(choices), prompt_tokens=int(usage.get("prompt_tokens") or 0),
                      completion_tokens=int(usage.get("completion_tokens") or 0), cached=cached,
                      model=response.get("model", ""))


def _logprobs(raw: dict[str, Any] | None) -> tuple[TokenLogprob, ...] | None:
    if not raw:
        return None
    if raw.get("content") is not None:  # chat format
        return tuple(TokenLogprob(t["token"], t["logprob"],
                                  {x["token"]: x["logprob"] for x in t.get("top_logprobs") or []})
                     for t in raw["content"])
    tops = raw.get("top_logprobs") or [None] * len(raw.get("tokens") or [])
    return tuple(TokenLogprob(tok, lp, dict(top or {}))
                 for tok, lp, top in zip(raw.get("tokens") or [], raw.get("token_logprobs") or [], tops, strict=True))


class EmbedClient:
    """Text → vectors (and vectors → text) through the ``embed`` app; implements
    :class:`~serving.protocols.Encoder` and :class:`~serving.protocols.Decoder`.

    Embeddings are deterministic, so every one is cached.
    """

    def __init__(self, config: ClientConfig | None = None, *, base_url: str | None = None,
                 model: str | None = None, cache: ResponseCache | None | str = "config",
                 batch_size: int = 256):
        config = config or ClientConfig()
        url = base_url or os.environ.get("RAYOPT_EMBED_BASE_URL") or default_base_url("/embed/v1")
        self.endpoint = _Endpoint(config, url, cache)
        self.model, self.batch_size = model, batch_size
        self._info: dict | None = None

    @property
    def info(self) -> dict:
        if self._info is None:
            self._info = self.endpoint.call(self.endpoint.sync.get, "/models", cast_to=object)["data"][0]
            self.model = self.model or self._info["id"]
        return self._info

    @property
    def dim(self) -> int:
        return int(self.info["dim"])

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        model = self.model or self.info["id"]
        cache = self.endpoint.cache
        keys = [cache_key("embedding", model, {"input": t}) for t in texts]
        found = {k: v["embedding"] for k in keys if cache is not None and (v := cache.get(k))}
        missing = [t for t, k in zip(texts, keys, strict=True) if k not in found]
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start : start + self.batch_size]
            response = self.endpoint.call(self.endpoint.sync.embeddings.create, model=model, input=chunk,
                                          encoding_format="float")
            for text, item in zip(chunk, response.data, strict=True):
                key = cache_key("embedding", model, {"input": text})
                found[key] = item.embedding
                if cache is not None:
                    cache.put(key, {"embedding": item.embedding})
        return [found[k] for k in keys]

    def decode(self, vectors: Sequence[Sequence[float]], **options: Any) -> list[str]:
        body = {"vectors": [list(map(float, v)) for v in vectors], "options": options}
        response = self.endpoint.call(self.endpoint.sync.post, "/decode", body=body, cast_to=object)
        return [d["text"] for d in sorted(response["data"], key=lambda d: d["index"])]
