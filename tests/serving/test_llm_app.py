"""The ``llm`` deployment's Serve options and ``reconfigure``, without starting Ray or Serve."""

from functools import partial
from types import SimpleNamespace

import pytest
from fastapi import FastAPI

from serving.config import ConfigError, load_config
from serving.fakes import FakeEngine
from serving.limits import RequestLimits
from serving.llm_server import LLMServer
from serving.settings import LLMAppConfig, ServingConfig


def test_queue_bound_and_limits_reach_serve():
    from serving.llm_app import LLMDeployment, deployment_options

    config = LLMAppConfig(max_queued_requests=10, queue_retry_after_s=3, max_sequences_per_request=8,
                          max_tokens_per_request=4096, max_body_bytes=70_000)
    deployment = LLMDeployment.options(**deployment_options(config))
    assert deployment.max_queued_requests == 10
    assert (deployment.backpressure_config.status_code, deployment.backpressure_config.retry_after_s) == (503, 3)
    assert deployment.user_config == {"max_sequences": 8, "max_tokens": 4096, "max_body_bytes": 70_000}
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
    assert (config.max_queued_requests, config.queue_retry_after_s, config.max_body_bytes) == (256, 2.0, None)
    assert load_config(ServingConfig, None, ["llm.max_queued_requests=-1"]).llm.max_queued_requests == -1
