"""One HTTP port, one owner: a Serve proxy is never started on a port something listens on."""

import os
import socket

import pytest

from serving import deploy
from serving.ports import PortInUse, check_port_free, listener_name, listening
from serving.settings import ServingConfig
from tests.conftest import free_port


@pytest.fixture
def taken():
    """A plain socket server on a free loopback port (no SO_REUSEPORT, like anyone's)."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


def test_a_listener_is_seen_and_named(taken):
    assert listening("127.0.0.1", taken) and listening("0.0.0.0", taken)
    assert f"pid {os.getpid()} (" in listener_name(taken)
    assert not listening("127.0.0.1", free_port())
    check_port_free("127.0.0.1", free_port())  # a free port passes


def test_a_taken_port_is_one_line_naming_it_and_the_fixes(taken):
    with pytest.raises(PortInUse) as refused:
        check_port_free("127.0.0.1", taken)
    message = str(refused.value)
    assert "\n" not in message and f"HTTP port {taken} is already taken by pid {os.getpid()}" in message
    for fix in ("RAY_ADDRESS", "RAYOPT_HTTP_PORT", "stop it"):
        assert fix in message


def test_no_proxy_starts_on_a_taken_port(monkeypatch, taken):
    """`start_http` on a cluster without Serve (a private Ray, a fresh head) refuses before
    `serve.start`; on one whose Serve already runs, the proxy is its own and it goes on."""
    started = []
    monkeypatch.setenv("RAY_ADDRESS", "127.0.0.1:1")  # joining a cluster (whose Serve may run)
    monkeypatch.setattr(deploy, "connect", lambda: None)
    monkeypatch.setattr(deploy, "serve_running", lambda: False)
    import ray.serve

    monkeypatch.setattr(ray.serve, "start", lambda **kw: started.append(kw))
    with pytest.raises(PortInUse):
        deploy.start_http(ServingConfig(port=taken))
    assert started == []
    monkeypatch.setattr(deploy, "serve_running", lambda: True)
    monkeypatch.setattr(deploy, "_live_base_url", lambda config: config.base_url)
    assert deploy.start_http(ServingConfig(port=taken)) == f"http://127.0.0.1:{taken}"
    assert started == [{"http_options": {"host": "127.0.0.1", "port": taken}}]


def test_a_private_ray_is_not_started_for_a_taken_port(monkeypatch, taken):
    import ray

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(deploy, "connect", lambda: pytest.fail("no private Ray for a taken port"))
    with pytest.raises(PortInUse):
        deploy.start_http(ServingConfig(port=taken))
    with pytest.raises(PortInUse):  # `chat --deploy`, the optimizers' jobs
        deploy.ensure_running(ServingConfig(port=taken))


def test_down_stops_an_idle_proxy_and_says_when_it_stays(monkeypatch):
    import ray.serve

    stopped = []
    monkeypatch.setattr(deploy, "connect", lambda: None)
    monkeypatch.setattr(deploy, "serve_running", lambda: True)
    monkeypatch.setattr(ray.serve, "shutdown", lambda: stopped.append(True))
    monkeypatch.setattr(deploy, "app_statuses", lambda: {"alignment-sft": "RUNNING"})
    assert deploy.stop_idle_proxy() == "stays: Serve still runs the apps ['alignment-sft'] on this cluster"
    assert stopped == []
    monkeypatch.setattr(deploy, "app_statuses", lambda: {})
    assert deploy.stop_idle_proxy() == "stopped: the HTTP port is free" and stopped == [True]
    monkeypatch.setattr(deploy, "serve_running", lambda: False)
    assert deploy.stop_idle_proxy() == "not running"
