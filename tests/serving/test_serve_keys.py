"""Keys that bind and do not leak, one port per owner: over a real Serve deployment.

Deploys only the ``embed`` app (a small encoder: fast on 2 cores) on the session's Ray; the
``llm`` app carries its key the same way (``tests/serving/test_llm_app.py``).
"""

import json
import os
from pathlib import Path

import httpx
import pytest

from serving.config import ConfigError
from tests.conftest import FAKE_DECODER_BANK, TEST_API_KEY, free_port

pytestmark = pytest.mark.slow
NEW_KEY = "a-brand-new-key-5f1c"


@pytest.fixture(scope="module")
def embed_only(serve_port):
    """The ``embed`` app under ``TEST_API_KEY`` (reused if the session's stack deployed it)."""
    from serving.deploy import ensure_running
    from serving.settings import EmbedAppConfig, ServingConfig

    config = ServingConfig(port=serve_port, enable_llm=False, embed=EmbedAppConfig(
        decoder="serving.fakes:FakeNearestDecoder", decoder_kwargs={"bank": FAKE_DECODER_BANK}))
    ensure_running(config)
    return config


def models_status(base: str, key: str | None) -> int:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.get(f"{base}/embed/v1/models", headers=headers, timeout=60).status_code


def test_the_key_is_absent_from_the_dashboards_serve_and_actor_apis_and_logs(embed_only):
    import ray
    from ray._private.state import actors
    from ray.serve.context import _get_global_client

    details = _get_global_client().get_serve_details()  # what /api/serve/applications/ serves
    assert TEST_API_KEY not in json.dumps(details, default=str)
    user_config = details["applications"]["embed"]["deployments"]["EmbedServer"]["deployment_config"]["user_config"]
    assert set(user_config["api_key"]) == {"salt", "sha256"}  # the digest is what replicas get
    assert TEST_API_KEY not in json.dumps(actors(), default=str)  # /api/v0/actors' source
    logs = Path(ray._private.worker._global_node.get_session_dir_path()) / "logs"
    leaking = [p.name for p in logs.rglob("*") if p.is_file() and TEST_API_KEY.encode() in p.read_bytes()]
    assert leaking == []


def test_a_new_key_on_a_running_app_is_refused_or_applied(embed_only, monkeypatch):
    from serving.deploy import ensure_running

    base = embed_only.base_url
    assert models_status(base, TEST_API_KEY) == 200 and models_status(base, None) == 401
    monkeypatch.setenv("RAYOPT_API_KEY", NEW_KEY)
    with pytest.raises(ConfigError, match="does not enforce this `RAYOPT_API_KEY`"):
        ensure_running(embed_only)  # a client's deploy-if-needed: refused, app unchanged
    assert models_status(base, TEST_API_KEY) == 200
    monkeypatch.delenv("RAYOPT_API_KEY")
    with pytest.raises(ConfigError, match="requires an API key"):
        ensure_running(embed_only, rekey=True)  # `up` without a key never opens a keyed app
    monkeypatch.setenv("RAYOPT_API_KEY", NEW_KEY)
    try:
        ensure_running(embed_only, rekey=True)  # what `python -m serving up` does: redeploy
        assert models_status(base, NEW_KEY) == 200
        assert models_status(base, TEST_API_KEY) == 401 and models_status(base, None) == 401
    finally:
        monkeypatch.setenv("RAYOPT_API_KEY", TEST_API_KEY)
        ensure_running(embed_only, rekey=True)  # the session's key back
    assert models_status(base, TEST_API_KEY) == 200


def test_up_refuses_the_port_of_a_running_serve_proxy(embed_only, monkeypatch, capsys):
    """A private cluster's `up` on the port this cluster's Serve proxy holds: refused with
    its name, never a second proxy sharing the port."""
    from serving.__main__ import main

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setenv("RAY_AUTH_MODE", os.environ.get("RAY_AUTH_MODE", "disabled"))  # main() may set it
    monkeypatch.setenv("RAYOPT_RAY_PORT", str(free_port()))  # no head there: `up` would start one
    monkeypatch.setenv("RAYOPT_HTTP_PORT", str(embed_only.port))
    assert main(["up", "enable_llm=false"]) == 2
    err = capsys.readouterr().err
    assert f"HTTP port {embed_only.port} is already taken by pid " in err and "ProxyActor" in err
    assert "a Ray Serve proxy of another Ray cluster" in err and err.count("\n") == 1
    assert models_status(embed_only.base_url, TEST_API_KEY) == 200  # the owner is undisturbed

