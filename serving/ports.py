"""One HTTP port, one owner: refuse to start a Serve proxy on a port something listens on.

Ray Serve binds its proxy with ``SO_REUSEPORT``, so a second cluster's proxy on the same
port does not fail: the kernel splits connections between the two proxies, and the one
without the apps answers 404 at random. So before a proxy starts, :func:`check_port_free`
looks for a listener and refuses with one line that names it and the ways out.
"""

from __future__ import annotations

import socket

from serving.config import ConfigError


class PortInUse(ConfigError):
    """The HTTP port a new Serve proxy would bind is already taken (exit code 2)."""


def _probe_host(host: str) -> str:
    """Where to connect to reach a server bound at ``host`` (a wildcard: the loopback)."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


def listening(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """Whether something accepts TCP connections at ``host:port`` (wildcards: the loopback).

    A listener on ``0.0.0.0`` answers at every address, one on ``127.0.0.1`` at the loopback,
    so this sees every listener a proxy bound at ``host`` would share the port with.
    """
    try:
        with socket.create_connection((_probe_host(host), port), timeout=timeout_s):
            return True
    except OSError:
        return False


def listener_name(port: int) -> str:
    """Who listens on ``port`` of this machine: ``pid 123 (ray::ProxyActor)``, or a vague
    description when the process is not ours to see (or psutil is missing)."""
    try:
        import psutil

        pids = sorted({c.pid for c in psutil.net_connections(kind="inet")
                       if c.status == psutil.CONN_LISTEN and c.laddr and c.laddr.port == port and c.pid})
        names = [f"pid {pid} ({psutil.Process(pid).name()})" for pid in pids]
    except Exception:  # noqa: BLE001 — naming the owner is a courtesy; the refusal stands
        names = []
    return ", ".join(names) or "another process (not one of this user's)"


def check_port_free(host: str, port: int) -> None:
    """Refuse to start a Serve proxy at ``host:port`` when something already listens there.

    Raises:
        PortInUse: one line naming the listener and the fixes.
    """
    if not listening(host, port):
        return
    owner = listener_name(port)
    serve = "a Ray Serve proxy of another Ray cluster; " if "ProxyActor" in owner else ""
    raise PortInUse(
        f"HTTP port {port} is already taken by {owner}: {serve}a new Serve proxy would share it "
        "(SO_REUSEPORT) and answer random 404s. Join that cluster with `RAY_ADDRESS=<its head>`, "
        "pick another port with `RAYOPT_HTTP_PORT`, or stop it (`python -m serving down` on "
        "the cluster that owns it).")
