"""Serving the models alignment generates with and evaluates (Ray Serve wiring).

The base model is the shared ``llm`` app (:func:`serving.deploy.ensure_running`). A trained
stage's model (its adapter merged into the base, a plain Hugging Face folder) is served by the
*same* app builder, :func:`serving.llm_app.build_llm_app`, as its own Serve application
``alignment-<stage>`` at route ``/alignment/<stage>``: the same OpenAI API, batching,
log-probs and client, side by side with the base so both answer the same prompts. Its served
name carries a hash of the trained weights' result, so the shared response cache never mixes
two trainings of the same stage.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from serving.client import LLMClient
from serving.cluster import connect
from serving.settings import LLMAppConfig, ServingConfig

log = logging.getLogger(__name__)
PREFIX = "alignment-"


def base_client(timeout_s: float = 600.0) -> LLMClient:
    """A client of the shared ``llm`` app (deployed on first use)."""
    from serving.deploy import ensure_running
    from serving.settings import ClientConfig

    url = ensure_running(ServingConfig(enable_embed=False))
    return LLMClient(ClientConfig(timeout_s=timeout_s), base_url=f"{url}/v1")


def served_name(run_name: str, stage: str, model_dir: Path) -> str:
    """``alignment/<run>/<stage>@<hash of the training result>``."""
    result = model_dir.parent / "result.json"
    digest = hashlib.sha256(result.read_bytes()).hexdigest()[:8] if result.exists() else "untrained"
    return f"alignment/{run_name}/{stage}@{digest}"


def serve_stage_model(run_name: str, stage: str, model_dir: Path, num_cpus: float = 1.0) -> LLMClient:
    """Serve ``model_dir`` as ``alignment-<stage>`` (reused if already up with that model)."""
    connect()  # first: Serve's own calls would otherwise join any cluster they find ("auto")
    from ray import serve

    from serving.deploy import app_statuses, start_http
    from serving.llm_app import build_llm_app
    from serving.settings import ClientConfig

    name, route = f"{PREFIX}{stage}", f"/alignment/{stage}"
    config = LLMAppConfig(model=str(model_dir.resolve()), served_name=served_name(run_name, stage, model_dir),
                          num_cpus=num_cpus, max_batch_size=16)
    url = start_http(ServingConfig())  # before serve.run, which would pick Serve's default port
    client = LLMClient(ClientConfig(timeout_s=600.0), base_url=f"{url}{route}/v1", model=config.name)
    if app_statuses().get(name) == "RUNNING":
        live = client.endpoint.call(client.endpoint.sync.models.list).data
        if [m.id for m in live] == [config.name]:
            return client
    log.info("serving %s's model %s at %s%s", stage, model_dir, url, route)
    serve.run(build_llm_app(config), name=name, route_prefix=route)
    return client


def stop_stage_apps(keep: str | None = None) -> list[str]:
    """Delete the ``alignment-*`` apps (but ``alignment-<keep>``): frees their CPUs for training."""
    connect()  # first: `serve.status()` alone would join any cluster it finds ("auto")
    from serving.deploy import app_statuses, shutdown

    return shutdown(tuple(name for name in app_statuses()
                          if name.startswith(PREFIX) and name != f"{PREFIX}{keep}"))
