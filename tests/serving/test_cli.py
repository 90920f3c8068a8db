"""CLIs fail with one line and a documented exit code; ``down``/``status`` answer at once
when nothing runs; Ray's CLI comes from this interpreter's environment."""

import json
import os
import socket
import sys
import time
from pathlib import Path

import pytest

from serving.__main__ import main
from serving.cli import classify, run_guarded
from serving.client import EndpointUnavailable, RequestRejected
from serving.cluster import head_auth_env, head_reachable, ray_executable
from serving.config import ConfigError
from serving.ledger import BudgetExceeded
from serving.models import ModelNotFoundError
from tests.conftest import free_port


@pytest.mark.parametrize("exc, code", [
    (ConfigError("bad key"), 2), (RequestRejected("HTTP 400"), 2), (EndpointUnavailable("down"), 3),
    (ModelNotFoundError("no model"), 4), (FileNotFoundError("no data"), 4), (BudgetExceeded("spent"), 5),
    (ValueError("a bug"), None), (RuntimeError("a bug"), None),
])
def test_expected_failures_have_documented_codes(exc, code):
    assert (classify(exc) or (None,))[0] == code


def fail(exc):
    def fn():
        raise exc
    return fn


def test_an_expected_failure_is_one_line_without_traceback(capsys, monkeypatch):
    monkeypatch.delenv("RAYOPT_DEBUG", raising=False)
    assert run_guarded(fail(EndpointUnavailable("no answer\n  at all")), "prog") == 3
    assert capsys.readouterr().err == "prog: endpoint unavailable: no answer at all\n"
    assert run_guarded(fail(BudgetExceeded("40 calls spent")), "prog") == 5
    assert capsys.readouterr().err == "prog: budget exhausted: 40 calls spent\n"
    assert run_guarded(lambda: 0, "prog") == 0


def test_debug_adds_the_traceback_and_unexpected_errors_keep_theirs(capsys, monkeypatch):
    assert run_guarded(fail(ConfigError("`x` is unknown.")), "prog", debug=True) == 2
    err = capsys.readouterr().err
    assert err.startswith("Traceback") and err.endswith("prog: config error: `x` is unknown.\n")
    monkeypatch.setenv("RAYOPT_DEBUG", "1")
    run_guarded(fail(ConfigError("x")), "prog")
    assert "Traceback" in capsys.readouterr().err
    with pytest.raises(ZeroDivisionError):
        run_guarded(fail(ZeroDivisionError("a bug")), "prog")
    assert run_guarded(fail(KeyboardInterrupt()), "prog") == 130


@pytest.fixture
def nothing_running(monkeypatch, tmp_path):
    """No app and no Ray head where the CLI looks; the SDK's retry waits skipped."""
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("RAYOPT_DEBUG", raising=False)
    # `down`/`status` may set the auth mode for a join: keep it from leaking past the test.
    monkeypatch.setenv("RAY_AUTH_MODE", os.environ.get("RAY_AUTH_MODE", "disabled"))
    monkeypatch.setenv("RAYOPT_RAY_PORT", str(free_port()))
    monkeypatch.setenv("RAYOPT_LLM_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("RAYOPT_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(time, "sleep", lambda s: None)


@pytest.mark.usefixtures("nothing_running")
def test_chat_without_an_app_is_one_line_and_exit_3(capsys):
    assert main(["chat", "hi"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("python -m serving: endpoint unavailable: ") and "python -m serving up" in err
    assert main(["chat", "hi", "--debug"]) == 3
    assert "Traceback" in capsys.readouterr().err
    assert main(["chat", "hi", "--stream"]) == 3
    assert capsys.readouterr().err.startswith("python -m serving: endpoint unavailable: ")


@pytest.mark.usefixtures("nothing_running")
def test_down_and_status_without_a_head_answer_at_once(capsys):
    start = time.perf_counter()
    assert main(["down"]) == 0
    assert '"ray": "not running"' in capsys.readouterr().out
    assert main(["status"]) == 3
    assert '"ray": "not running"' in capsys.readouterr().out
    assert time.perf_counter() - start < 10  # no minute of GCS retries


def test_head_reachable_is_a_quick_tcp_check():
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        assert head_reachable(f"127.0.0.1:{port}") is True
        assert head_reachable(f"ray://127.0.0.1:{port}") is True
    assert head_reachable(f"127.0.0.1:{free_port()}", timeout_s=0.5) is False
    assert head_reachable("auto") is None and head_reachable("local") is None


def test_ray_cli_comes_from_this_interpreters_environment(monkeypatch, tmp_path):
    beside = Path(sys.executable).parent / "ray"
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    if beside.is_file():
        assert ray_executable() == str(beside)
    elsewhere = tmp_path / "bin"
    elsewhere.mkdir()
    fake = elsewhere / "ray"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))  # no ray beside it
    monkeypatch.setenv("PATH", str(elsewhere))
    assert ray_executable() == str(fake)
    monkeypatch.setenv("PATH", os.devnull)
    with pytest.raises(FileNotFoundError, match="pip install 'ray\\[serve\\]'"):
        ray_executable()


@pytest.mark.usefixtures("nothing_running")
def test_up_refuses_a_taken_http_port_before_starting_a_head(capsys, monkeypatch):
    """Another cluster's proxy (here: a plain server) on the port → one line, exit 2, no head."""
    import serving.cluster

    monkeypatch.setattr(serving.cluster, "ray_executable", lambda: pytest.fail("no `ray start` on a taken port"))
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        monkeypatch.setenv("RAYOPT_HTTP_PORT", str(port))
        assert main(["up"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"python -m serving: config error: HTTP port {port} is already taken by pid {os.getpid()}")
    assert "RAY_ADDRESS" in err and "RAYOPT_HTTP_PORT" in err


@pytest.mark.usefixtures("nothing_running")
def test_down_with_auto_and_a_stale_address_answers_at_once(capsys, monkeypatch):
    """``RAY_ADDRESS=auto`` reads the address the last ``ray start`` left; a head gone from
    it is "not running" after a TCP check, not a minute of GCS retries."""
    import ray._private.utils

    monkeypatch.setenv("RAY_ADDRESS", "auto")
    monkeypatch.setattr(ray._private.utils, "read_ray_address", lambda temp_dir=None: f"127.0.0.1:{free_port()}")
    start = time.perf_counter()
    assert main(["down"]) == 0
    assert json.loads(capsys.readouterr().out) == {"ray": "not running", "deleted": [], "proxy": "not running"}
    assert time.perf_counter() - start < 10


def test_the_head_up_starts_gets_token_auth(monkeypatch, tmp_path):
    token = tmp_path / "ray" / "auth_token"
    monkeypatch.setenv("RAY_AUTH_TOKEN_PATH", str(token))
    monkeypatch.delenv("RAY_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("RAY_AUTH_MODE", raising=False)
    monkeypatch.setenv("RAYOPT_API_KEY", "k3y")
    env = head_auth_env()
    assert env["RAY_AUTH_MODE"] == "token" == os.environ["RAY_AUTH_MODE"]
    assert "RAYOPT_API_KEY" not in env  # Ray's processes never inherit the serving key
    assert token.stat().st_mode & 0o777 == 0o600 and len(token.read_text()) == 64
    first = token.read_text()
    monkeypatch.delenv("RAY_AUTH_MODE")
    token.chmod(0o644)  # what Ray 2.60's `ray get-auth-token --generate` leaves
    head_auth_env()
    assert token.stat().st_mode & 0o777 == 0o600 and token.read_text() == first  # narrowed, kept
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")  # an explicit opt-out is respected
    assert head_auth_env()["RAY_AUTH_MODE"] == "disabled"


@pytest.mark.usefixtures("nothing_running")
def test_chat_deploy_on_a_taken_port_refuses_before_starting_a_private_ray(capsys, monkeypatch):
    import ray

    from serving import deploy

    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as in a fresh process
    monkeypatch.setattr(deploy, "connect", lambda: pytest.fail("no private Ray for a taken port"))
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("RAYOPT_HTTP_PORT", str(server.getsockname()[1]))
        assert main(["chat", "--deploy", "hi"]) == 2
    assert "is already taken by pid" in capsys.readouterr().err
