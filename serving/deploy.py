"""Start, find and stop the shared Serve apps (application names are the shared key).

The first caller deploys an app that is not running; everyone after reuses it.
"""

from __future__ import annotations

import logging

from serving.cluster import connect
from serving.settings import ServingConfig

log = logging.getLogger(__name__)

LLM_APP, EMBED_APP = "llm", "embed"
EMBED_PREFIX = "/embed"
_LIVE = ("RUNNING", "DEPLOYING")


def app_statuses() -> dict[str, str]:
    """``{app name: status}`` of the Serve apps on the connected cluster."""
    from ray import serve

    try:
        return {name: str(app.status.value if hasattr(app.status, "value") else app.status)
                for name, app in serve.status().applications.items()}
    except Exception:  # noqa: BLE001 — Serve not started on this cluster
        return {}


def ensure_running(config: ServingConfig | None = None) -> str:
    """Deploy the ``llm`` / ``embed`` apps unless they already run; return the HTTP base URL.

    Args:
        config: what to deploy (default :class:`ServingConfig`). An app that already runs is
            reused as it is: ``python -m serving down`` first to change its model.
    """
    config = config or ServingConfig()
    connect()  # before importing Ray's modules: joining may set the auth mode Ray reads on import
    from ray import serve

    from serving.embed_app import build_embed_app
    from serving.llm_app import build_llm_app

    base_url = start_http(config)
    statuses = app_statuses()
    wanted = []
    if config.enable_embed:
        wanted.append((EMBED_APP, EMBED_PREFIX, lambda: build_embed_app(config.embed)))
    if config.enable_llm:
        wanted.append((LLM_APP, "/", lambda: build_llm_app(config.llm)))
    for name, prefix, build in wanted:
        if statuses.get(name) in _LIVE:
            log.info("Serve app `%s` is %s; reusing it", name, statuses[name])
            continue
        log.info("deploying Serve app `%s` at %s%s", name, base_url, prefix)
        serve.run(build(), name=name, route_prefix=prefix)
    return base_url


def start_http(config: ServingConfig) -> str:
    """Start Serve's HTTP proxy with ``config``'s host/port (a no-op when Serve already runs:
    it keeps its options) and return the base URL it really listens at. Call it before any
    ``serve.run``, which would otherwise start the proxy on Serve's default port."""
    connect()
    from ray import serve

    serve.start(http_options={"host": config.host, "port": config.port})
    return _live_base_url(config)


def _live_base_url(config: ServingConfig) -> str:
    """Where Serve's proxy really listens: a cluster whose Serve already runs keeps its options."""
    try:
        from ray.serve.context import _get_global_client

        http = _get_global_client().http_config  # no public getter in Ray 2.60
        host = "127.0.0.1" if http.host in ("0.0.0.0", "::") else http.host
        actual = f"http://{host}:{http.port}"
    except Exception:  # noqa: BLE001 — private API moved: trust the config
        return config.base_url
    if actual != config.base_url:
        log.warning("Serve on this cluster already listens at %s (not %s); using it. "
                    "`serve shutdown` first to change the HTTP options.", actual, config.base_url)
    return actual


def shutdown(apps: tuple[str, ...] = (LLM_APP, EMBED_APP)) -> list[str]:
    """Delete the named apps (all of rayopt's by default); return those deleted."""
    from ray import serve

    connect()
    deleted = []
    for name in apps:
        if name in app_statuses():
            serve.delete(name)
            deleted.append(name)
    return deleted
