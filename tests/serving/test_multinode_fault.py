"""A multi-node fault on one machine: a worker node dies mid-run and a replacement joins.

A head and a worker node are two ``ray start --block`` processes on this machine (the ``ray``
CLI of this interpreter's environment, free ports, their own temp dirs and auth token), each
with one logical CPU; the worker node also offers ``fault_worker``, which every piece of
work asks for, so it all runs there. A separate driver (``tests/serving/fault_workload.py``)
runs a Tune sweep, a Serve replica and a Ray Train run on it; once all three wait at their
gate, the test kills the worker node (its process group and every worker process it
started: SIGKILL, as a lost machine), starts a replacement with the same resources, and opens
the gate. Then:

- the sweep finishes with no trial lost (Tune's ``FailureConfig`` restores each trial from
  its checkpoint on the new node);
- Serve restarts the replica on the new node, and later requests succeed;
- the Train run resumes from its last checkpoint (epochs continue; none before the kill
  runs again).

Everything it starts is stopped in a ``finally``. Takes a few minutes on 2 cores.
"""

from __future__ import annotations

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

from serving.cluster import head_reachable, ray_executable
from tests.conftest import free_port
from tests.serving.fault_workload import RESOURCE, TRAIN_EPOCHS, TRAIN_GATE, TUNE_GATE, TUNE_ITERS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
MARK = "RAYOPT_FAULT_TEST_NODE"  # in the environment of every process a node starts


def _node_args(temp_dir: Path) -> list[str]:
    """Free ports for everything a node would put on a fixed default port (another Ray on
    this machine may hold them), its own temp dir, a small object store."""
    ports = ("dashboard-agent-listen-port", "dashboard-agent-grpc-port", "runtime-env-agent-port",
             "metrics-export-port", "node-manager-port", "object-manager-port")
    return [*(f"--{flag}={free_port()}" for flag in ports), "--num-cpus=1", f"--temp-dir={temp_dir}",
            "--object-store-memory=100000000", "--disable-usage-stats", "--block"]


class LocalCluster:
    """Ray nodes as ``ray start --block`` processes on this machine, each killable alone."""

    def __init__(self, root: Path, env: dict[str, str]):
        self.root, self.env, self.gcs = root, env, free_port()
        self.nodes: dict[str, subprocess.Popen] = {}
        self.tag = secrets.token_hex(4)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.gcs}"

    def start(self, name: str, head: bool = False, resources: dict | None = None) -> None:
        temp_dir = self.root / name
        temp_dir.mkdir()
        role = (["--head", f"--port={self.gcs}", "--include-dashboard=false",
                 f"--ray-client-server-port={free_port()}"] if head else [f"--address={self.address}"])
        args = [ray_executable(), "start", *role, *_node_args(temp_dir)]
        if resources:
            args.append(f"--resources={json.dumps(resources)}")
        log = (self.root / f"{name}.log").open("w")
        self.nodes[name] = subprocess.Popen(args, env={**self.env, MARK: f"{self.tag}-{name}"}, cwd=ROOT,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def pids(self, name: str | None = None) -> list[int]:
        """Processes started by node ``name`` (every node: None), workers included: Ray's
        workers leave the node's process group, so they are found by the node's mark."""
        want = f"{MARK}={self.tag}-{name}".encode() if name else f"{MARK}={self.tag}-".encode()
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and want in (proc / "environ").read_bytes():
                    found.append(int(proc.name))
            except OSError:
                continue
        return found

    def kill(self, name: str) -> None:
        """SIGKILL node ``name``: its process group and every process it started."""
        node = self.nodes[name]
        try:
            os.killpg(node.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in self.pids(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        node.wait(30)

    def stop(self) -> None:
        for name in self.nodes:
            self.kill(name)
        for pid in self.pids():  # anything left that a node started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _events(work: Path) -> list[dict]:
    path = work / "progress.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait(what: str, ready, driver: subprocess.Popen, work: Path, timeout_s: float) -> None:
    deadline = time.time() + timeout_s
    while not ready(_events(work)):
        assert driver.poll() is None, f"the driver exited while waiting for {what}: " + \
            (work / "driver.log").read_text()[-4000:]
        assert time.time() < deadline, f"no {what} in {timeout_s} s; events: {_events(work)[-10:]}"
        time.sleep(1)


def _at_gate(events: list[dict], worker: str) -> bool:
    tune = {e["x"] for e in events if e["kind"] == "tune" and e["iteration"] == TUNE_GATE}
    train = any(e["kind"] == "train" and e["epoch"] == TRAIN_GATE for e in events)
    served = any(e["kind"] == "serve" and e.get("replica_node") == worker for e in events)
    return tune == {1, 2} and train and served


def test_work_survives_the_loss_of_a_worker_node():
    root = Path(tempfile.mkdtemp(prefix="rf", dir="/tmp"))  # AF_UNIX socket paths stay < 108 bytes
    work = root / "work"
    work.mkdir()
    token = root / "auth_token"
    token.write_text(secrets.token_hex(32))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_", "RAYOPT_"))}
    env.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN_PATH=str(token), PYTHONPATH=str(ROOT),
               PATH="/usr/bin:/bin")  # the venv is not on PATH: the ray CLI is found beside python
    cluster = LocalCluster(root, env)
    driver = None
    try:
        cluster.start("head", head=True, resources={"fault_head": 1})
        deadline = time.time() + 120
        while not head_reachable(cluster.address):
            assert cluster.nodes["head"].poll() is None, (root / "head.log").read_text()[-3000:]
            assert time.time() < deadline, "the head did not come up in 120 s"
            time.sleep(1)
        cluster.start("worker1", resources={RESOURCE: 4})
        driver = subprocess.Popen(
            [sys.executable, "-m", "tests.serving.fault_workload", "--work", str(work),
             "--http-port", str(free_port())],
            env={**env, "RAY_ADDRESS": cluster.address}, cwd=ROOT,
            stdout=(work / "driver.log").open("w"), stderr=subprocess.STDOUT, start_new_session=True)

        _wait("first replica answer", lambda ev: any(e["kind"] == "serve" and e.get("status") == 200 for e in ev),
              driver, work, 600)
        worker1 = next(e["replica_node"] for e in _events(work) if e["kind"] == "serve" and e.get("status") == 200)
        _wait("trials and training at their gate", lambda ev: _at_gate(ev, worker1), driver, work, 600)

        time.sleep(5)  # Train's controller takes in its workers' reports every 2 s: the last checkpoint too
        killed_at = time.time()
        cluster.kill("worker1")
        print(f"[fault] worker node {worker1[:8]} killed (SIGKILL, {time.time() - killed_at:.1f} s)")
        (work / "gate").touch()
        cluster.start("worker2", resources={RESOURCE: 4})
        driver.wait(900)
        assert driver.returncode == 0, (work / "driver.log").read_text()[-6000:]
        result = json.loads((work / "result.json").read_text())
        events = _events(work)
        after = [e for e in events if e["t"] > killed_at]

        # The timeline after the kill (of the replica's 200s, only the first).
        first_ok = next((e for e in after if e["kind"] == "serve" and e.get("status") == 200), None)
        for e in after:
            if e["kind"] != "serve" or e.get("status") != 200 or e is first_ok:
                print(f"[fault] +{e['t'] - killed_at:6.1f} s {e['kind']:5} "
                      + json.dumps({k: v for k, v in e.items() if k not in ("t", "kind")}))

        # The sweep: both trials finished every iteration, none lost, resumed after the kill.
        assert sorted((r["x"], r["iteration_done"], r["total"], r["error"]) for r in result["tune"]) == \
            [(1, TUNE_ITERS, TUNE_ITERS, None), (2, TUNE_ITERS, 2 * TUNE_ITERS, None)]
        for x in (1, 2):
            resumed = [e for e in after if e["kind"] == "tune" and e["x"] == x]
            assert resumed and resumed[0]["resumed_from"] == TUNE_GATE - 1, resumed
            assert worker1 not in {e["node"] for e in resumed}

        # Train: resumed at the epoch after its last checkpoint, on the new node, to the end.
        assert result["train"] == {"epoch": TRAIN_EPOCHS - 1, "error": None}
        epochs = [e for e in after if e["kind"] == "train"]
        assert epochs[0]["epoch"] == TRAIN_GATE and epochs[0]["resumed_at"] == TRAIN_GATE, epochs
        assert [e["epoch"] for e in epochs] == list(range(TRAIN_GATE, TRAIN_EPOCHS))
        assert worker1 not in {e["node"] for e in epochs}

        # Serve: the replica came back on the new node; every request after that succeeded.
        served = [e for e in after if e["kind"] == "serve"]
        back = next(i for i, e in enumerate(served) if e.get("status") == 200)
        assert served[back]["replica_node"] != worker1
        assert all(e.get("status") == 200 for e in served[back:]), served[back:]
        assert all(r["status"] == 200 and r["replica_node"] == served[back]["replica_node"]
                   for r in result["serve_after"])
        print(f"[fault] replica back after {served[back]['t'] - killed_at:.1f} s; "
              f"{back} requests failed meanwhile: {sorted({str(e.get('status') or e.get('error')) for e in served[:back]})}")
    finally:
        if driver is not None and driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)
            driver.wait(30)
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
