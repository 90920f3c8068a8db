"""The ``llm`` deployment's Serve options and ``reconfigure``, without starting Ray or Serve."""

import json
from functools import partial
from types import SimpleNamespace

import pytest
from fastapi import FastAPI

from serving.api_key import KeyDigest
from serving.config import ConfigError, load_config
from serving.fakes import FakeEngine
from serving.limits import RequestLimits
from serving.llm_server import LLMServer
from serving.settings import LLMAppConfig, ServingConfig


def test_queue_bound_and_limits_reach_serve(monkeypatch):
    from serving.llm_app import LLMDeployment, deployment_options

    monkeypatch.delenv("RAYOPT_API_KEY", raising=False)
    config = LLMAppConfig(max_queued_requests=10, queue_retry_after_s=3, max_sequences_per_request=8,
                          max_tokens_per_request=4096, max_body_bytes=70_000)
    deployment = LLMDeployment.options(**deployment_options(config))
    assert deployment.max_queued_requests == 10
    assert (deployment.backpressure_config.status_code, deployment.backpressure_config.retry_after_s) == (503, 3)
    assert deployment.user_config == {"max_sequences": 8, "max_tokens": 4096, "max_body_bytes": 70_000,
                                      "api_key": None}
    assert deployment.max_ongoing_requests == config.max_ongoing_requests


def test_reconfigure_sets_the_server_limits_and_the_served_apps_body_limit():
    from ray.serve._private.http_util import ASGIAppReplicaWrapper

    from serving.llm_app import LLMDeployment

    cls = LLMDeployment.func_or_class
    # On a replica `self.app` is Serve's property: the (copied) FastAPI app it really serves.
    assert issubclass(cls, ASGIAppReplicaWrapper) and isinstance(ASGIAppReplicaWrapper.app, property)
    replica = SimpleNamespace(server=LLMServer(FakeEngine(max_model_len=1024), "fake"), app=FastAPI())
    reconfigure = partial(cls.reconfigure, replica)
    reconfigure(RequestLimits(max_sequences=4, max_tokens=99).as_user_config())
    assert replica.server.limits == RequestLimits(max_sequences=4, max_tokens=99)
    assert replica.app.state.max_body_bytes == 1024 * 32 + 65536
    reconfigure(RequestLimits(max_body_bytes=5000).as_user_config())
    assert replica.app.state.max_body_bytes == 5000
    assert replica.app.state.api_key is None  # no digest: an open app
    digest = KeyDigest.of("k3y")
    reconfigure({**RequestLimits().as_user_config(), "api_key": digest.as_user_config()})
    assert replica.app.state.api_key == digest and replica.server.limits == RequestLimits()


def test_replicas_get_a_salted_digest_of_the_key_never_the_key(monkeypatch):
    """The options Serve (and the dashboard's Serve and actor APIs) see hold no plaintext key."""
    from serving.embed_app import build_embed_app
    from serving.llm_app import LLMDeployment, deployment_options
    from serving.settings import EmbedAppConfig

    key = "plaintext-key-0123456789"
    monkeypatch.setenv("RAYOPT_API_KEY", key)
    options = deployment_options(LLMAppConfig())
    deployment = LLMDeployment.options(**options)
    for shown in (options, deployment.user_config, deployment.ray_actor_options):
        assert key not in json.dumps(shown, default=str)
    digest = KeyDigest.from_user_config(options["user_config"]["api_key"])
    assert digest.accepts(key) and not digest.accepts("wrong")
    assert "runtime_env" not in options["ray_actor_options"]
    embed_options = build_embed_app(EmbedAppConfig())._bound_deployment
    assert key not in json.dumps([embed_options.user_config, embed_options.ray_actor_options], default=str)
    assert KeyDigest.from_user_config(embed_options.user_config["api_key"]).accepts(key)


def test_a_key_on_the_vllm_engine_is_refused(monkeypatch):
    from serving.llm_app import build_llm_app

    monkeypatch.setenv("RAYOPT_API_KEY", "k")
    with pytest.raises(ConfigError, match="does not check `RAYOPT_API_KEY`"):
        build_llm_app(LLMAppConfig(engine="vllm"))


@pytest.mark.parametrize("override, key", [
    ("llm.max_sequences_per_request=0", "max_sequences_per_request"),
    ("llm.max_tokens_per_request=-1", "max_tokens_per_request"),
    ("llm.max_body_bytes=0", "max_body_bytes"),
    ("llm.max_queued_requests=0", "max_queued_requests"),
    ("llm.queue_retry_after_s=-1", "queue_retry_after_s"),
])
def test_limit_settings_are_validated(override, key):
    with pytest.raises(ConfigError, match=f"`llm.{key}`"):
        load_config(ServingConfig, None, [override])


def test_limit_defaults():
    config = LLMAppConfig()
    assert (config.max_sequences_per_request, config.max_tokens_per_request) == (64, 32768)
    assert (config.max_queued_requests, config.queue_retry_after_s, config.max_body_bytes) == (64, 2.0, None)
    assert load_config(ServingConfig, None, ["llm.max_queued_requests=-1"]).llm.max_queued_requests == -1


def test_prompts_reach_the_replica_log_at_debug_only():
    """Probe C: INFO lines carry sizes; the prompt text is logged at DEBUG only (replica logs
    are readable by anyone on the machine)."""
    import asyncio
    import logging

    from serving.llm_app import LLMDeployment
    from serving.openai_api import ChatCompletionRequest, CompletionRequest

    engine = FakeEngine(max_model_len=1024)

    async def generate(request):
        return engine.generate([request])[0]

    cls = LLMDeployment.func_or_class
    replica = SimpleNamespace(server=LLMServer(engine, "fake"), generate_batch=generate, generate=generate)
    chat = ChatCompletionRequest(model="fake", max_tokens=4,
                                 messages=[{"role": "user", "content": "private words 42"}])
    completion = CompletionRequest(model="fake", prompt=["private words 43"], max_tokens=4)

    class Lines(logging.Handler):
        def __init__(self):
            super().__init__(logging.DEBUG)
            self.by_level: dict[int, list[str]] = {}

        def emit(self, record):
            self.by_level.setdefault(record.levelno, []).append(record.getMessage())

    logger, lines = logging.getLogger("ray.serve"), Lines()
    level = logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.DEBUG)
    try:
        asyncio.run(cls.chat(replica, chat))
        asyncio.run(cls.completions(replica, completion))
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)
    info, debug = " ".join(lines.by_level[logging.INFO]), " ".join(lines.by_level[logging.DEBUG])
    assert "chat request (16 prompt tokens, n=1" in info and "completion request (1 prompts, 16 prompt tokens" in info
    assert "private words" not in info
    assert "private words 42" in debug and "private words 43" in debug
