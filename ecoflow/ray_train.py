"""Ray Train wiring for the flow model: ``TorchTrainer`` + DDP, checkpoints, resume.

The loop itself is :mod:`ecoflow.training` (pure torch); this module only places it on Ray
Train workers. Layout of a run folder ``results/ecoflow/<run>/``::

    config.yaml, events.jsonl    one event per epoch (written by rank 0)
    train/                       Ray Train's storage: checkpoint_* folders + its snapshot
    model.pt, summary.json       the best checkpoint by validation loss, copied out

Resume: Ray Train V2 restores its checkpoint manager from ``train/`` when a trainer with the
same ``storage_path`` and ``name`` starts, so running the same command again after a killed
run continues from the latest checkpoint (``ray.train.get_checkpoint()``); a worker failure
inside a run restarts the worker group from it too, up to ``max_failures`` times. On a
multi-node cluster the run folder must be on storage every node can reach (as Ray Train
requires for ``storage_path`` anyway).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ecoflow.training import (
    TrainConfig,
    build_model,
    epoch_shard,
    gather_digests,
    split,
    train_epoch,
    validation_loss,
)
from serving.runs import RunDir

log = logging.getLogger(__name__)
STATE_FILE = "state.pt"


def _restore(model, optimizer) -> int:
    """Load the latest Ray Train checkpoint into ``model``/``optimizer``; the next epoch."""
    import ray.train

    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return 0
    with checkpoint.as_directory() as folder:
        state = torch.load(Path(folder) / STATE_FILE, map_location="cpu", weights_only=False)
    model.load_state_dict(state["model"]["state_dict"])
    optimizer.load_state_dict(state["optimizer"])
    return int(state["epoch"]) + 1


def _report(metrics: dict[str, Any], state: dict[str, Any] | None) -> None:
    """``ray.train.report`` with a checkpoint folder holding ``state`` (rank 0 only)."""
    import ray.train

    if state is None:
        ray.train.report(metrics)
        return
    with tempfile.TemporaryDirectory() as folder:
        torch.save(state, Path(folder) / STATE_FILE)
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(folder))


def train_loop_per_worker(loop_config: dict[str, Any]) -> None:
    """What each Ray Train worker runs (``loop_config`` from :func:`fit`)."""
    import ray
    import ray.train
    import ray.train.torch

    from serving.cluster import pin_threads

    config = TrainConfig(**loop_config["train"])
    pin_threads(config.cpus_per_worker)
    context = ray.train.get_context()
    rank, world = context.get_world_rank(), context.get_world_size()
    device = ray.train.torch.get_device()

    train_x, val_x = split(ray.get(loop_config["data"]), config.val_fraction, config.seed)
    model = build_model(train_x.shape[1], config, train_x)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    start_epoch = _restore(model, optimizer)
    velocity = ray.train.torch.prepare_model(model)  # moves to device; DDP when world > 1
    # optimizer state was loaded on the CPU; follow the parameters to the device
    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, Tensor) and key != "step":
                state[key] = value.to(device)
    train_z = model.normalize(train_x.to(device))
    val_z = model.normalize(val_x.to(device))
    events = RunDir(**loop_config["run"]) if rank == 0 else None

    for epoch in range(start_epoch, config.epochs):
        generator = torch.Generator(device=device).manual_seed(config.seed * 1_000 + epoch * world + rank)
        shard = epoch_shard(train_z, epoch, config.seed, rank, world)
        stats = train_epoch(velocity, optimizer, shard, config.batch_size, generator,
                            config.mixed_precision and config.use_gpu)
        metrics = {"epoch": epoch, "start_epoch": start_epoch, "world_size": world, **stats,
                   "val_loss": validation_loss(model, val_z, config.seed),
                   "param_digests": gather_digests(model)}
        last = epoch == config.epochs - 1
        save = rank == 0 and (last or (epoch + 1) % config.checkpoint_every == 0)
        state = {"model": model.to_checkpoint(), "optimizer": optimizer.state_dict(),
                 "epoch": epoch, "metrics": metrics} if save else None
        if events is not None:
            events.append({"event": "epoch", **metrics})
        _report(metrics, state)
        if loop_config.get("crash_after_epoch") == epoch:
            # test hook: die like a killed worker, after the checkpoint of this epoch
            raise RuntimeError(f"injected failure after epoch {epoch}")


def fit(vectors: Tensor, config: TrainConfig, run: RunDir,
        crash_after_epoch: int | None = None) -> dict[str, Any]:
    """Train the flow model on ``vectors`` (``n x d``, data space) with Ray Train.

    Args:
        vectors: the corpus embeddings.
        config: model, optimization and scaling settings.
        run: the run folder (resume key: the same folder continues the same run).
        crash_after_epoch: test hook; every worker raises after this epoch's checkpoint
            (the restart resumes past it, so it fires once per attempt that reaches it).

    Returns:
        The summary written to ``summary.json`` (best and last metrics, checkpoint paths).

    Raises:
        ray.train.TrainingFailedError: the workers failed more than ``max_failures`` times.
    """
    import ray
    from ray.train import CheckpointConfig

    from serving.cluster import connect, torch_trainer

    connect()  # before ray.put
    loop_config = {
        "train": asdict(config),
        "data": ray.put(vectors.detach().float().cpu()),
        "run": {"package": run.path.parent.name, "name": run.path.name, "root": str(run.path.parent.parent.resolve())},
        "crash_after_epoch": crash_after_epoch,
    }
    trainer = torch_trainer(
        train_loop_per_worker, loop_config, num_workers=config.num_workers,
        cpus_per_worker=config.cpus_per_worker, use_gpu=config.use_gpu, storage_path=run.path,
        name="train", max_failures=config.max_failures,
        checkpoint_config=CheckpointConfig(num_to_keep=config.num_to_keep,
                                           checkpoint_score_attribute="val_loss",
                                           checkpoint_score_order="min"))
    result = trainer.fit()
    best_checkpoint, best_metrics = min(result.best_checkpoints, key=lambda cm: cm[1]["val_loss"])
    with best_checkpoint.as_directory() as folder:
        state = torch.load(Path(folder) / STATE_FILE, map_location="cpu", weights_only=False)
    torch.save(state["model"], run.path / "model.pt")
    summary = {"best": _plain(best_metrics), "last": _plain(result.metrics),
               "best_checkpoint": best_checkpoint.path, "model": str(run.path / "model.pt")}
    run.write_json("summary.json", summary)
    return summary


def _plain(metrics: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metrics.items() if not k.startswith("_")}
