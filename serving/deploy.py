"""Start, find and stop the shared Serve apps (application names are the shared key).

The first caller deploys an app that is not running; everyone after reuses it, if it
enforces the caller's ``RAYOPT_API_KEY`` (see :func:`ensure_running`). A Serve proxy is
started only on a free port (:mod:`serving.ports`).
"""

from __future__ import annotations

import logging
import os

from serving.api_key import USER_CONFIG_FIELD, KeyDigest, deployer_key, key_matches
from serving.cluster import connect
from serving.config import ConfigError
from serving.ports import check_port_free
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


def running_key(app: str) -> KeyDigest | None:
    """The API key digest a running app's deployments hold (``None``: the app is open).

    Read from the controller's view of the deployments' ``user_config``, the same one the
    dashboard's Serve API shows (which therefore holds a digest, never the key).
    """
    from ray.serve.context import _get_global_client

    details = _get_global_client().get_serve_details()  # what `/api/serve/applications/` shows
    deployments = details.get("applications", {}).get(app, {}).get("deployments", {})
    for deployment in deployments.values():
        user_config = (deployment.get("deployment_config") or {}).get("user_config") or {}
        if user_config.get(USER_CONFIG_FIELD):
            return KeyDigest.from_user_config(user_config[USER_CONFIG_FIELD])
    return None


def _check_key(name: str, rekey: bool) -> bool:
    """Whether the running app ``name`` must be redeployed to enforce this process's key.

    Raises:
        ConfigError: it enforces another key (or none, or one this process lacks) and
            ``rekey`` is off, or ``rekey`` would drop its key.
    """
    key = deployer_key()
    if key_matches(running_key(name), key):
        return False
    if rekey and key:
        return True
    if key is None:
        raise ConfigError(f"the running Serve app `{name}` requires an API key and `RAYOPT_API_KEY` "
                          "is not set here: set it to the app's key (or `python -m serving down`, "
                          "then `up` without a key, to open the app).")
    raise ConfigError(f"the running Serve app `{name}` does not enforce this `RAYOPT_API_KEY` "
                      "(it has another key, or none): `python -m serving up` with this key "
                      "redeploys it with it, or set `RAYOPT_API_KEY` to the app's key.")


def ensure_running(config: ServingConfig | None = None, rekey: bool = False) -> str:
    """Deploy the ``llm`` / ``embed`` apps unless they already run; return the HTTP base URL.

    Args:
        config: what to deploy (default :class:`ServingConfig`). An app that already runs is
            reused as it is, if it enforces this process's ``RAYOPT_API_KEY`` (or both have
            none): ``python -m serving down`` first to change its model.
        rekey: redeploy (with ``config``) a running app that does not enforce the key set
            here (``python -m serving up`` does); without it such an app is refused.

    Raises:
        ConfigError: a running app enforces another key (see ``rekey``).
        PortInUse: Serve is not running on this cluster, and its proxy's port is taken.
    """
    config = config or ServingConfig()
    _check_port_before_private_ray(config)
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
    live = [name for name, _, _ in wanted if statuses.get(name) in _LIVE]
    rekeyed = [name for name in live if _check_key(name, rekey)]  # refusals before any change
    for name, prefix, build in wanted:
        if name in live and name not in rekeyed:
            log.info("Serve app `%s` is %s; reusing it", name, statuses[name])
            continue
        if name in rekeyed:
            log.warning("Serve app `%s` does not enforce this RAYOPT_API_KEY; redeploying it with it", name)
        else:
            log.info("deploying Serve app `%s` at %s%s", name, base_url, prefix)
        serve.run(build(), name=name, route_prefix=prefix)
    return base_url


def start_http(config: ServingConfig) -> str:
    """Start Serve's HTTP proxy with ``config``'s host/port (a no-op when Serve already runs:
    it keeps its options) and return the base URL it really listens at. Call it before any
    ``serve.run``, which would otherwise start the proxy on Serve's default port.

    Raises:
        PortInUse: Serve is not running on this cluster yet and something else (another
            cluster's proxy, or anything) listens on the port: a proxy started there would
            share it.
    """
    _check_port_before_private_ray(config)
    connect()
    from ray import serve

    if not serve_running():
        check_port_free(config.host, config.port)
    serve.start(http_options={"host": config.host, "port": config.port})
    return _live_base_url(config)


def _check_port_before_private_ray(config: ServingConfig) -> None:
    """Without ``RAY_ADDRESS``, :func:`connect` starts a private Ray, whose Serve cannot own
    the port yet: refuse a taken port before spending seconds starting it."""
    if os.environ.get("RAY_ADDRESS"):
        return
    import ray  # no auth mode to set first: this process joins nothing

    if not ray.is_initialized():
        check_port_free(config.host, config.port)


def serve_running() -> bool:
    """Whether Serve (its controller, hence its proxies) runs on the connected cluster."""
    from ray.serve.context import _get_global_client

    return _get_global_client(raise_if_no_controller_running=False) is not None


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


def stop_idle_proxy() -> str:
    """Shut Serve down (its controller and the proxy holding the HTTP port) when no app is
    left on it; else leave it. Returns what happened, in words (``down`` prints it)."""
    from ray import serve

    connect()
    if not serve_running():
        return "not running"
    left = sorted(app_statuses())
    if left:
        return f"stays: Serve still runs the apps {left} on this cluster"
    serve.shutdown()
    return "stopped: the HTTP port is free"
