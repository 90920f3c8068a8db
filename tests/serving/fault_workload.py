"""The Ray work of ``test_multinode_fault.py``, run as its own driver process.

    python -m tests.serving.fault_workload --work DIR --http-port PORT   (RAY_ADDRESS set)

Joins the cluster at ``RAY_ADDRESS`` and, once a node offers :data:`RESOURCE`, runs three
things whose work is placed on that node (each asks for the resource):

- a Tune sweep (two trials, :data:`TUNE_ITERS` iterations with a checkpoint each,
  ``FailureConfig(max_failures)``);
- a Serve deployment (one replica) behind a proxy on the head only, asked every half second;
- a Ray Train run (``serving.cluster.torch_trainer``: one CPU worker, a checkpoint per epoch).

The trials stop at iteration :data:`TUNE_GATE`, and Train at epoch :data:`TRAIN_GATE`, until
``DIR/gate`` exists: the test kills the node while everything waits there, then writes the
gate. Every step is a line of ``DIR/progress.jsonl`` (with the node it ran on); the outcome
is ``DIR/result.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

RESOURCE = "fault_worker"  # what the worker node offers, and every piece of work asks for
TUNE_ITERS, TUNE_GATE = 5, 3
TRAIN_EPOCHS, TRAIN_GATE = 5, 2
MAX_FAILURES = 3


def record(work: Path, **event) -> None:
    """One line of ``progress.jsonl`` (O_APPEND: lines from several processes stay whole)."""
    import ray

    node = ray.get_runtime_context().get_node_id() if ray.is_initialized() else None
    line = json.dumps({"t": round(time.time(), 3), "pid": os.getpid(), "node": node, **event}) + "\n"
    with open(work / "progress.jsonl", "a") as f:
        f.write(line)


def wait_for_gate(work: Path) -> None:
    while not (work / "gate").exists():
        time.sleep(0.2)


def tune_trial(config: dict) -> None:
    """``x`` per iteration, resumed from its checkpoint's iteration when Tune restores it."""
    from ray import tune

    work, x = Path(config["work"]), config["x"]
    start = 0
    checkpoint = tune.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as d:
            start = json.loads((Path(d) / "state.json").read_text())["iteration"]
    for it in range(start + 1, TUNE_ITERS + 1):
        record(work, kind="tune", x=x, iteration=it, resumed_from=start)
        if it == TUNE_GATE:
            wait_for_gate(work)
        time.sleep(0.2)
        with tempfile.TemporaryDirectory() as d:
            (Path(d) / "state.json").write_text(json.dumps({"iteration": it}))
            tune.report({"iteration_done": it, "total": x * it}, checkpoint=tune.Checkpoint.from_directory(d))


def run_tune(work: Path) -> list[dict]:
    from ray import tune

    tuner = tune.Tuner(
        tune.with_resources(tune_trial, tune.PlacementGroupFactory([{"CPU": 0.25, RESOURCE: 1}])),
        param_space={"x": tune.grid_search([1, 2]), "work": str(work)},
        run_config=tune.RunConfig(name="sweep", storage_path=str(work / "storage"), verbose=0,
                                  failure_config=tune.FailureConfig(max_failures=MAX_FAILURES)),
    )
    results = tuner.fit()
    return [{"x": r.config["x"], "iteration_done": (r.metrics or {}).get("iteration_done"),
             "total": (r.metrics or {}).get("total"), "error": repr(r.error) if r.error else None}
            for r in results]


def train_loop(config: dict) -> None:
    """A 4→1 linear model, one SGD step per epoch, a checkpoint per epoch; resumes at the
    epoch after its checkpoint's."""
    import ray.train
    import torch

    from serving.cluster import pin_threads

    pin_threads(1)
    work = Path(config["work"])
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x = torch.randn(32, 4)
    y = x.sum(dim=1, keepdim=True)
    start = 0
    checkpoint = ray.train.get_checkpoint()
    if checkpoint:
        with checkpoint.as_directory() as d:
            state = torch.load(Path(d) / "state.pt")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = state["epoch"] + 1
    for epoch in range(start, TRAIN_EPOCHS):
        record(work, kind="train", epoch=epoch, resumed_at=start)
        if epoch == TRAIN_GATE:
            wait_for_gate(work)
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        with tempfile.TemporaryDirectory() as d:
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch}, Path(d) / "state.pt")
            ray.train.report({"epoch": epoch, "loss": loss.item()}, checkpoint=ray.train.Checkpoint.from_directory(d))


def run_train(work: Path) -> dict:
    from ray.train import CheckpointConfig

    from serving.cluster import torch_trainer

    trainer = torch_trainer(train_loop, {"work": str(work)}, num_workers=1, cpus_per_worker=0.25,
                            use_gpu=False, storage_path=work / "storage", name="train",
                            max_failures=MAX_FAILURES, checkpoint_config=CheckpointConfig(num_to_keep=2),
                            resources_per_worker={RESOURCE: 1})
    result = trainer.fit()
    return {"epoch": result.metrics.get("epoch"), "error": repr(result.error) if result.error else None}


def start_serve(http_port: int) -> str:
    """One replica that says where it runs, behind a proxy on the head only (a proxy per node
    would share the port: see ``serving/ports.py``)."""
    import ray
    from ray import serve

    @serve.deployment(ray_actor_options={"num_cpus": 0, "resources": {RESOURCE: 0.1}},
                      health_check_period_s=1, health_check_timeout_s=5)
    class Where:
        def __call__(self, request) -> dict:
            return {"node": ray.get_runtime_context().get_node_id(), "pid": os.getpid()}

    serve.start(proxy_location="HeadOnly", http_options={"host": "127.0.0.1", "port": http_port})
    serve.run(Where.bind(), name="fault", route_prefix="/fault")
    return f"http://127.0.0.1:{http_port}/fault"


def ask(url: str) -> dict:
    """One request to the replica: its status, and the node and pid that answered."""
    import httpx

    try:
        r = httpx.get(url, timeout=5)
    except httpx.HTTPError as exc:
        return {"status": None, "error": type(exc).__name__}
    if r.status_code != 200:
        return {"status": r.status_code}
    where = r.json()
    return {"status": 200, "replica_node": where["node"], "replica_pid": where["pid"]}


def run_all(work: Path, http_port: int) -> dict:
    """Serve, then the sweep and the Train run side by side, asking the replica meanwhile.

    Raises:
        RuntimeError: the sweep or the Train run failed (the other may be waiting at its gate).
    """
    import ray.train.torch  # noqa: F401 — imported here: Tune's and Train's imports race in two threads
    import ray.tune  # noqa: F401

    url = start_serve(http_port)
    record(work, kind="serve", **ask(url))
    pool = ThreadPoolExecutor(2)
    runs = {"tune": pool.submit(run_tune, work), "train": pool.submit(run_train, work)}
    while not all(f.done() for f in runs.values()):
        for name, f in runs.items():
            if f.done() and f.exception():
                raise RuntimeError(f"the {name} run failed") from f.exception()
        record(work, kind="serve", **ask(url))
        time.sleep(0.5)
    pool.shutdown()
    result = {name: f.result() for name, f in runs.items()}
    return {**result, "serve_after": [ask(url) for _ in range(5)]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    args = parser.parse_args()

    import ray

    ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
    while not ray.cluster_resources().get(RESOURCE):
        time.sleep(0.5)
    try:
        result = run_all(args.work, args.http_port)
    except Exception:
        traceback.print_exc()
        record(args.work, kind="error", error=traceback.format_exc())
        sys.stderr.flush()
        os._exit(1)  # a run still waiting at its gate would keep the process alive
    record(args.work, kind="done")
    (args.work / "result.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
