"""The Ray Train DDP job: replicas stay in sync, a worker failure and a killed run resume.

These start Ray Train worker groups on the shared ``ray_session`` (a few seconds each), on
64 random 8-d rows and a 1-block network, so they are marked ``slow``.
"""

from __future__ import annotations

import json

import pytest
import torch

from ecoflow.model.flow import FlowMatchingModel
from ecoflow.ray_train import fit
from ecoflow.training import TrainConfig
from serving.runs import RunDir

pytestmark = pytest.mark.slow


def tiny_config(**overrides) -> TrainConfig:
    """Half a logical CPU per worker: the session's Serve apps (``llm`` 2 + ``embed`` 1,
    deployed by earlier tests) hold logical CPUs that one-CPU workers would otherwise wait on
    (seen: the DDP test hung once the e2e tests ran before it, when the session had 4)."""
    base = dict(width=16, depth=1, epochs=3, batch_size=8, lr=1e-2, val_fraction=0.25,
                num_workers=2, cpus_per_worker=0.5, num_to_keep=2, max_failures=0)
    return TrainConfig(**{**base, **overrides})


def data() -> torch.Tensor:
    return torch.randn(64, 8, generator=torch.Generator().manual_seed(0)) * 2 + 1


def epochs(run: RunDir) -> list[dict]:
    return [e for e in run.events() if e.get("event") == "epoch"]


def test_ddp_two_workers_stay_in_sync_and_recover_from_a_worker_failure(ray_session, tmp_path):
    run = RunDir("ecoflow", "ddp", root=tmp_path)
    summary = fit(data(), tiny_config(max_failures=1), run, crash_after_epoch=1)

    events = epochs(run)
    # epochs 0, 1, crash, then the restarted group resumes from epoch 1's checkpoint
    assert [e["epoch"] for e in events] == [0, 1, 2]
    assert [e["start_epoch"] for e in events] == [0, 0, 2]
    for e in events:
        assert e["world_size"] == 2
        assert len(set(e["param_digests"])) == 1, "DDP replicas diverged"
    assert len({e["param_digests"][0] for e in events}) == 3, "parameters did not change"
    assert summary["best"]["val_loss"] == min(e["val_loss"] for e in events)
    model = FlowMatchingModel.from_checkpoint(torch.load(run.path / "model.pt"))
    assert model(torch.zeros(2, 8), 0.5).shape == (2, 8)
    best = min(events, key=lambda e: e["val_loss"])  # the saved model is the best epoch's
    assert json.loads((run.path / "summary.json").read_text())["best"]["epoch"] == best["epoch"]


def test_killed_run_resumes_from_its_checkpoint(ray_session, tmp_path):
    run = RunDir("ecoflow", "killed", root=tmp_path)
    config = tiny_config(num_workers=1, epochs=3)
    with pytest.raises(Exception, match="injected failure"):
        fit(data(), config, run, crash_after_epoch=0)
    assert [e["epoch"] for e in epochs(run)] == [0]

    fit(data(), config, RunDir("ecoflow", "killed", root=tmp_path))  # the same command again
    events = epochs(run)
    assert [e["epoch"] for e in events] == [0, 1, 2]
    assert [e["start_epoch"] for e in events] == [0, 1, 1]
