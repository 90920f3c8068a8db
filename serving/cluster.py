"""Connecting to Ray, and sizing threads to the CPUs a process was given.

Every entry point calls :func:`connect`. With ``RAY_ADDRESS`` set it joins that cluster
(a cloud cluster from ``ray_cluster.yaml``, the one a ``ray job submit`` runs in, or the
local head ``python -m serving up`` started: ``RAY_ADDRESS=127.0.0.1:6379``; ``auto`` finds
the newest one on this machine). Otherwise it starts a private local Ray with at least 4
logical CPUs: on 2 cores, ``ray.serve.llm``'s ingress never schedules with ``num_cpus=2``
(measured), and Serve's proxy and controller plus an LLM replica and an optimizer need room.
It never joins a cluster nobody asked for (on a shared machine that could be anyone's).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MIN_LOGICAL_CPUS = 4
NAMESPACE = "rayopt"


def local_num_cpus() -> int:
    """Logical CPUs to give a local Ray: the machine's count, at least 4."""
    return max(MIN_LOGICAL_CPUS, os.cpu_count() or 1)


def connect(num_cpus: int | None = None, **init_kwargs) -> None:
    """Connect this process to Ray (idempotent).

    Args:
        num_cpus: logical CPUs for a newly started local Ray (default :func:`local_num_cpus`).
        **init_kwargs: passed to ``ray.init`` (e.g. ``runtime_env``).
    """
    address = os.environ.get("RAY_ADDRESS")
    if address:
        prefer_token_auth()  # before Ray's first import, which reads the auth mode
    import ray

    if ray.is_initialized():
        return
    init_kwargs.setdefault("namespace", NAMESPACE)
    init_kwargs.setdefault("log_to_driver", True)
    if address:
        join(address, **init_kwargs)
        return
    cpus = num_cpus or local_num_cpus()
    quiet_serve_logs()
    log.info("starting a local Ray with %d logical CPUs (set RAY_ADDRESS to join a cluster)", cpus)
    ray.init(address="local", num_cpus=cpus, include_dashboard=False, **init_kwargs)


SERVE_LOGS = "/tmp/ray/session_latest/logs/serve/"


def quiet_serve_logs() -> None:
    """Serve's per-request lines (the access log and the replicas' own) go to Serve's log
    files only (:data:`SERVE_LOGS`), not to the driver's console: set before a Ray is
    started, whose processes inherit it. ``RAY_SERVE_LOG_TO_STDERR=1`` brings them back."""
    if "RAY_SERVE_LOG_TO_STDERR" not in os.environ:
        os.environ["RAY_SERVE_LOG_TO_STDERR"] = "0"
        log.info("Serve's per-request logs: %s (RAY_SERVE_LOG_TO_STDERR=1 shows them here)",
                 SERVE_LOGS)


def join(address: str, **init_kwargs) -> None:
    """Join a running cluster; raises ``ConnectionError`` if nothing answers there.

    Ray 2.60 turns token auth on for clusters started on a machine that has a token
    (``~/.ray/auth_token``, written by the first local Ray), but a joining driver only sends
    the token when ``RAY_AUTH_MODE=token`` (see :func:`prefer_token_auth`).
    """
    prefer_token_auth()
    import ray

    init_kwargs.setdefault("namespace", NAMESPACE)
    log.info("joining Ray at %s", address)
    ray.init(address=address, **init_kwargs)


def token_path() -> Path:
    """This user's Ray auth token file (``$RAY_AUTH_TOKEN_PATH``, else ``~/.ray/auth_token``)."""
    return Path(os.environ.get("RAY_AUTH_TOKEN_PATH", Path.home() / ".ray" / "auth_token"))


def token_available() -> bool:
    """Whether this user has a Ray auth token (``$RAY_AUTH_TOKEN``, or the token file)."""
    return token_path().is_file() or bool(os.environ.get("RAY_AUTH_TOKEN"))


def prefer_token_auth() -> None:
    """Send this machine's Ray token when joining (``RAY_AUTH_MODE=token`` if a token exists).

    Ray reads the mode when it is first imported, so entry points call this before that.
    """
    if "RAY_AUTH_MODE" not in os.environ and token_available():
        os.environ["RAY_AUTH_MODE"] = "token"


def head_auth_env() -> dict[str, str]:
    """The environment for ``ray start --head``: Ray's token auth on, unless ``RAY_AUTH_MODE``
    says otherwise (``disabled`` opts out).

    Without a token, writes one as Ray would (``secrets.token_hex(32)``) but readable by this
    user only: Ray 2.60's ``ray get-auth-token --generate`` leaves it world-readable (0644), and
    the token is the cluster's only lock (its GCS listens on every interface). A token file
    others can read is narrowed to 0600. Sets ``RAY_AUTH_MODE=token`` in this process too, so
    it can join the head it starts. ``RAYOPT_API_KEY`` is left out of the returned environment;
    Serve's per-request lines go to its log files (:func:`quiet_serve_logs`).
    """
    if "RAY_AUTH_MODE" not in os.environ:
        _ensure_private_token()
        os.environ["RAY_AUTH_MODE"] = "token"
    quiet_serve_logs()
    # Ray's processes inherit this environment: the serving key stays out of it (replicas get
    # only its digest, see `serving.api_key`).
    return {k: v for k, v in os.environ.items() if k != "RAYOPT_API_KEY"}


def _ensure_private_token() -> None:
    path = token_path()
    if not token_available():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        log.info("wrote a Ray auth token to %s (mode 0600)", path)
    elif path.is_file() and path.stat().st_mode & 0o077:
        path.chmod(0o600)
        log.info("narrowed %s to mode 0600 (it was readable by other users)", path)


def ray_executable() -> str:
    """The ``ray`` CLI of the running interpreter's environment (else the one on ``PATH``).

    A bare ``ray`` would run whatever ``PATH`` finds first, maybe another environment's Ray
    (another version: its head would not accept this one's workers).

    Raises:
        FileNotFoundError: neither exists.
    """
    beside = Path(sys.executable).parent / "ray"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("ray")
    if found:
        return found
    raise FileNotFoundError(f"no `ray` executable beside {sys.executable} or on PATH: install Ray "
                            "into this environment (`pip install 'ray[serve]'`).")


def head_reachable(address: str, timeout_s: float = 1.0) -> bool | None:
    """Whether a Ray head answers at ``address`` (a TCP connect to its GCS port).

    ``ray.init`` retries an unreachable GCS for a minute; this answers in ``timeout_s``.

    Args:
        address: ``host:port`` (``ray://`` and ``http://`` prefixes are ignored).
        timeout_s: how long the connect may take.

    Returns:
        True / False, or None when ``address`` is not ``host:port`` (e.g. ``auto``): ask Ray.
    """
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s):
            return True
    except OSError:
        return False


def pin_threads(num_threads: int | float | None = None) -> int:
    """Size torch / OpenMP threads to the CPUs this process was given.

    Thread oversubscription is the biggest performance trap on small machines (two torch
    processes each using all cores made one 18x slower, measured), so every Ray worker,
    Serve replica and trial calls this first.

    Args:
        num_threads: threads to use (callers pass the CPUs they were given); default
            ``OMP_NUM_THREADS`` (Ray sets it for its workers), else all cores. Capped at the
            machine's core count.

    Returns:
        The thread count set.
    """
    import torch

    cores = os.cpu_count() or 1
    if num_threads is None:
        num_threads = int(os.environ.get("OMP_NUM_THREADS", cores))
    threads = max(1, min(cores, int(num_threads)))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    return threads


def torch_trainer(
    loop: Any,
    loop_config: dict[str, Any],
    *,
    num_workers: int,
    cpus_per_worker: float,
    use_gpu: bool,
    storage_path: Path,
    name: str,
    max_failures: int,
    checkpoint_config: Any = None,
    env_vars: dict[str, str] | None = None,
    resources_per_worker: dict[str, float] | None = None,
) -> Any:
    """Ray Train's ``TorchTrainer`` as every rayopt training job sets it up.

    DDP over ``gloo`` on CPUs and ``nccl`` on GPUs, ``cpus_per_worker`` logical CPUs each,
    restarts from the latest checkpoint up to ``max_failures`` times (a worker's node lost
    included: the run goes on where it can place its workers again), and the run's storage
    (checkpoints, results) under ``storage_path/name`` (the same path resumes the same run).
    ``resources_per_worker`` adds custom resources to each worker's CPUs (to place workers
    on the nodes that offer them). Connects this process to Ray first.
    """
    from ray.train import FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    connect()
    return TorchTrainer(
        loop,
        train_loop_config=loop_config,
        torch_config=TorchConfig(backend="nccl" if use_gpu else "gloo"),
        scaling_config=ScalingConfig(num_workers=num_workers, use_gpu=use_gpu,
                                     resources_per_worker={"CPU": cpus_per_worker,
                                                           **(resources_per_worker or {})}),
        run_config=RunConfig(
            name=name, storage_path=str(Path(storage_path).resolve()),
            failure_config=FailureConfig(max_failures=max_failures),
            checkpoint_config=checkpoint_config,
            worker_runtime_env={"env_vars": env_vars} if env_vars else None,
        ),
    )
