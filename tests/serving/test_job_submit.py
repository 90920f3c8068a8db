"""``ray job submit`` runs a rayopt command on a separate head, through the client.

Starts its own head (``ray start --head --block`` in a temp dir, free ports), submits
``python -m serving chat ... --deploy`` with ``--working-dir .``, waits for SUCCEEDED, and
stops that head only (terminating the ``--block`` process stops what it started).
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _ray(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([str(Path(sys.executable).parent / "ray"), *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def test_job_submit_runs_a_rayopt_command(tmp_path):
    gcs, dash, http = free_port(), free_port(), free_port()
    temp_dir = tempfile.mkdtemp(prefix="rj", dir="/tmp")  # AF_UNIX socket paths must stay < 108 bytes
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    # Ray 2.60 turns token auth on for local clusters: head and CLI share this test's token.
    token = tmp_path / "auth_token"
    token.write_text(secrets.token_hex(32))
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token))
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--block", f"--port={gcs}",
         # every fixed default port moves too: the session's own Ray already holds them, and a
         # job agent that cannot bind its port leaves "No available agent to submit job"
         *(f"--{flag}={free_port()}" for flag in (
             "dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port",
             "metrics-export-port", "ray-client-server-port", "node-manager-port", "object-manager-port")),
         "--num-cpus=4", "--include-dashboard=true", f"--dashboard-port={dash}",
         "--dashboard-host=127.0.0.1", f"--temp-dir={temp_dir}", "--disable-usage-stats"],
        env=env, cwd=ROOT, stdout=(tmp_path / "head.log").open("w"), stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        env["RAY_ADDRESS"] = f"http://127.0.0.1:{dash}"
        deadline = time.time() + 120
        while (listed := _ray("job", "list", env=env, timeout=60)).returncode != 0:
            assert head.poll() is None, (tmp_path / "head.log").read_text()[-3000:]
            assert time.time() < deadline, f"no job server in 120 s: {listed.stderr[-2000:]}"
            time.sleep(2)
        cache = os.environ.get("RAYOPT_CACHE_DIR", str(Path.home() / ".cache" / "rayopt"))
        runtime_env = json.dumps({"env_vars": {"RAYOPT_HTTP_PORT": str(http), "RAYOPT_API_KEY": "job-key",
                                               "RAYOPT_CACHE_DIR": cache}})
        for _ in range(30):  # the job agent can come up a little after the job server
            submitted = _ray("job", "submit", "--working-dir", ".", "--runtime-env-json", runtime_env,
                             "--", "python", "-m", "serving", "chat", "What is 2+3?", "--deploy",
                             "--max-tokens", "12", env=env, timeout=600)
            if "No available agent" not in submitted.stderr + submitted.stdout:
                break
            time.sleep(2)
        assert submitted.returncode == 0, submitted.stdout[-4000:] + submitted.stderr[-4000:]
        assert "succeeded" in submitted.stdout.lower()
        # The job ran `serving chat` to the end: its summary line (stderr, in the job's log)
        # names the served model and accounts for exactly one completion, fresh or cached.
        reports = [json.loads(line[line.index('{"model"'):])
                   for line in submitted.stdout.splitlines() if '{"model"' in line]
        assert len(reports) == 1, submitted.stdout[-4000:]
        report = reports[0]
        assert report["model"] and report["calls"] + report["cache_hits"] == 1, report
        assert report["cached"] == (report["cache_hits"] == 1), report
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        shutil.rmtree(temp_dir, ignore_errors=True)
