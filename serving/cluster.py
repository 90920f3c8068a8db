"""Connecting to Ray, and sizing threads to the CPUs a process was given.

Every entry point calls :func:`connect`. With ``RAY_ADDRESS`` set it joins that cluster
(a cloud cluster from ``ray_cluster.yaml``, or the one a ``ray job submit`` runs in);
otherwise it joins a Ray already running on this machine (``ray start`` / ``serving up``),
or starts a local one with at least 4 logical CPUs: on 2 cores, ``ray.serve.llm``'s ingress
never schedules with ``num_cpus=2`` (measured), and Serve's proxy and controller plus an LLM
replica and an optimizer need room.
"""

from __future__ import annotations

import logging
import os

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
    import ray

    if ray.is_initialized():
        return
    init_kwargs.setdefault("namespace", NAMESPACE)
    init_kwargs.setdefault("log_to_driver", True)
    address = os.environ.get("RAY_ADDRESS")
    if address:
        log.info("joining Ray at RAY_ADDRESS=%s", address)
        ray.init(address=address, **init_kwargs)
        return
    try:
        ray.init(address="auto", **init_kwargs)
        log.info("joined the Ray cluster already running on this machine")
        return
    except ConnectionError:
        pass
    cpus = num_cpus or local_num_cpus()
    log.info("starting a local Ray with %d logical CPUs", cpus)
    ray.init(num_cpus=cpus, include_dashboard=False, **init_kwargs)


def pin_threads(num_threads: int | float | None = None) -> int:
    """Size torch / OpenMP threads to the CPUs this process was given.

    Thread oversubscription is the biggest performance trap on small machines (two torch
    processes each using all cores made one 18x slower, measured), so every Ray worker,
    Serve replica and trial calls this first.

    Args:
        num_threads: threads to use; default: the CPUs Ray assigned to this worker, else
            ``OMP_NUM_THREADS``, else all cores. Capped at the machine's core count.

    Returns:
        The thread count set.
    """
    import torch

    cores = os.cpu_count() or 1
    if num_threads is None:
        num_threads = _ray_assigned_cpus() or int(os.environ.get("OMP_NUM_THREADS", cores))
    threads = max(1, min(cores, int(num_threads)))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    os.environ["MKL_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    return threads


def _ray_assigned_cpus() -> int | None:
    try:
        import ray

        if not ray.is_initialized():
            return None
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    except Exception:  # noqa: BLE001 — outside a worker there is no runtime context
        return None
    return int(cpus) if cpus and cpus >= 1 else None
