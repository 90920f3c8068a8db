"""The flow model's training loop, pure torch (Ray Train wiring lives in :mod:`ecoflow.ray_train`).

Every function here works the same on one process and on each rank of a DDP group; the only
distributed call is :func:`gather_digests`, which is a no-op without ``torch.distributed``.
:func:`fit_local` runs the same loop in this process (no Ray), for small corpora.

Reproducibility: the train/validation split and each epoch's shuffle depend only on
``(seed, epoch)`` and are identical on every rank, so a run resumed from a checkpoint at
epoch ``k`` sees exactly the batches an uninterrupted run would have seen from ``k`` on.
"""

from __future__ import annotations

import hashlib
import math
import time
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from ecoflow.model.flow import FlowMatchingModel, flow_matching_loss


@dataclass
class TrainConfig:
    """Flow-model training under Ray Train.

    Attributes:
        width: hidden size of the velocity network.
        depth: number of AdaLN blocks.
        mlp_ratio: inner MLP size relative to ``width``.
        epochs: passes over the training split.
        batch_size: rows per optimizer step *per worker* (the global batch is
            ``batch_size * num_workers``).
        lr: AdamW learning rate.
        weight_decay: AdamW weight decay.
        val_fraction: share of the corpus held out for the validation loss.
        seed: split, shuffle, noise and initialization seed.
        num_workers: DDP workers (Ray Train ``ScalingConfig.num_workers``).
        use_gpu: one GPU per worker, NCCL backend and bf16 autocast; gloo on CPU otherwise.
        cpus_per_worker: logical CPUs per worker; each worker sizes its torch threads to it.
        mixed_precision: bf16 autocast on GPU (ignored on CPU, where it is slower).
        checkpoint_every: checkpoint every this many epochs (and always after the last).
        num_to_keep: checkpoints kept on disk; the best by ``val_loss`` is among them.
        max_failures: worker-failure restarts from the latest checkpoint (``FailureConfig``).
    """

    width: int = 256
    depth: int = 4
    mlp_ratio: float = 4.0
    epochs: int = 20
    batch_size: int = 256
    lr: float = 3e-4
    weight_decay: float = 0.0
    val_fraction: float = 0.1
    seed: int = 0
    num_workers: int = 2
    use_gpu: bool = False
    cpus_per_worker: float = 1.0
    mixed_precision: bool = True
    checkpoint_every: int = 1
    num_to_keep: int = 2
    max_failures: int = 1

    def __post_init__(self) -> None:
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"`val_fraction` must be in (0, 1), got {self.val_fraction}.")
        if self.num_workers < 1 or self.batch_size < 1 or self.epochs < 1:
            raise ValueError("`num_workers`, `batch_size` and `epochs` must be at least 1.")
        if self.num_to_keep < 1:
            raise ValueError("`num_to_keep` must be at least 1 (the best checkpoint is kept).")


def split(vectors: Tensor, val_fraction: float, seed: int) -> tuple[Tensor, Tensor]:
    """Deterministic train/validation split of ``n x d`` rows (at least one row each)."""
    n = vectors.shape[0]
    if n < 3:
        raise ValueError(f"the corpus has {n} rows; training needs at least 3 (embed more texts).")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = min(n - 2, max(1, round(n * val_fraction)))
    return vectors[perm[n_val:]], vectors[perm[:n_val]]


def epoch_shard(data: Tensor, epoch: int, seed: int, rank: int, world: int) -> Tensor:
    """This rank's rows for one epoch: a shared shuffle, cut into ``world`` equal shards.

    The remainder (fewer than ``world`` rows) is dropped so every rank takes the same
    number of optimizer steps; unequal step counts would deadlock DDP's all-reduce.
    """
    perm = torch.randperm(data.shape[0], generator=torch.Generator().manual_seed(seed * 100_003 + epoch))
    per_rank = data.shape[0] // world
    if per_rank == 0:
        raise ValueError(f"{data.shape[0]} training rows cannot feed {world} workers; "
                         "lower `num_workers` or embed more texts.")
    return data[perm[rank * per_rank : (rank + 1) * per_rank]]


def build_model(dim: int, config: TrainConfig, train_data: Tensor) -> FlowMatchingModel:
    """A fresh model (seeded, identical on every rank) normalized on the training split."""
    torch.manual_seed(config.seed)
    model = FlowMatchingModel(dim, width=config.width, depth=config.depth, mlp_ratio=config.mlp_ratio)
    model.set_normalization(train_data)
    return model


def autocast_for(device: torch.device, mixed_precision: bool):
    """bf16 autocast on CUDA when asked (no loss scaling needed); a no-op elsewhere."""
    if mixed_precision and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def train_epoch(
    velocity: nn.Module,
    optimizer: torch.optim.Optimizer,
    shard: Tensor,
    batch_size: int,
    generator: torch.Generator,
    mixed_precision: bool = False,
) -> dict[str, float]:
    """One pass over this rank's normalized shard.

    Args:
        velocity: the model to call, DDP-wrapped on a multi-worker run (so its forward
            hooks all-reduce the gradients).
        optimizer: over the model's parameters.
        shard: ``m x d`` normalized rows on the training device.
        batch_size: rows per step (the last, smaller batch is kept).
        generator: noise/time RNG on ``shard``'s device.
        mixed_precision: bf16 autocast (CUDA only).

    Returns:
        ``{"train_loss": mean loss, "steps": steps, "samples_per_s": rows / second}``.
    """
    velocity.train()
    total, steps, start = 0.0, 0, time.perf_counter()
    for begin in range(0, shard.shape[0], batch_size):
        batch = shard[begin : begin + batch_size]
        with autocast_for(shard.device, mixed_precision):
            loss = flow_matching_loss(velocity, batch, generator)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
        steps += 1
    seconds = max(time.perf_counter() - start, 1e-9)
    return {"train_loss": total / max(steps, 1), "steps": steps,
            "samples_per_s": shard.shape[0] / seconds}


@torch.no_grad()
def validation_loss(model: nn.Module, val: Tensor, seed: int, batch_size: int = 1024) -> float:
    """Flow-matching loss on normalized held-out rows with fixed noise (comparable across
    epochs and ranks)."""
    model.eval()
    generator = torch.Generator(device=val.device).manual_seed(seed + 7)
    total = 0.0
    for begin in range(0, val.shape[0], batch_size):
        batch = val[begin : begin + batch_size]
        total += float(flow_matching_loss(model, batch, generator)) * batch.shape[0]
    return total / val.shape[0]


def param_digest(model: nn.Module) -> str:
    """SHA-256 of every parameter's bytes: equal digests mean bitwise-equal replicas."""
    h = hashlib.sha256()
    for name, p in sorted(model.named_parameters()):
        h.update(name.encode())
        h.update(p.detach().float().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def gather_digests(model: nn.Module) -> list[str]:
    """Every rank's :func:`param_digest`, in rank order (just this one outside DDP)."""
    digest = param_digest(model)
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return [digest]
    out: list[str | None] = [None] * dist.get_world_size()
    dist.all_gather_object(out, digest)
    return [str(d) for d in out]


def fit_local(vectors: Tensor, config: TrainConfig,
              max_steps: int | None = None) -> tuple[FlowMatchingModel, dict[str, Any]]:
    """Train the flow in this process: the split, shuffles, noise and loss of a one-worker
    Ray Train run (:mod:`ecoflow.ray_train`), without Ray, checkpoints or DDP.

    The caller sizes torch's threads (one on a shared machine). The last epoch's model is
    returned: on a corpus of a few hundred texts the held-out loss is too noisy to pick by.

    Args:
        vectors: ``n x d`` corpus embeddings (data space), ``n >= 3``.
        config: model and optimization settings (``num_workers``, ``use_gpu`` and the
            checkpoint settings are ignored).
        max_steps: cap on optimizer steps: the epochs are cut to fit (at least one).

    Returns:
        The model (eval mode) and ``{"epochs", "steps", "train_loss", "val_loss",
        "seconds"}``.
    """
    start = time.perf_counter()
    train_x, val_x = split(vectors.detach().float().cpu(), config.val_fraction, config.seed)
    model = build_model(train_x.shape[1], config, train_x)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    train_z, val_z = model.normalize(train_x), model.normalize(val_x)
    per_epoch = math.ceil(train_z.shape[0] / config.batch_size)
    epochs = config.epochs if max_steps is None else max(1, min(config.epochs, max_steps // per_epoch))
    stats: dict[str, float] = {"train_loss": float("nan"), "steps": 0}
    steps = 0
    for epoch in range(epochs):
        generator = torch.Generator().manual_seed(config.seed * 1_000 + epoch)  # rank 0 of 1
        stats = train_epoch(model, optimizer, epoch_shard(train_z, epoch, config.seed, 0, 1),
                            config.batch_size, generator)
        steps += int(stats["steps"])
    return model.eval(), {"epochs": epochs, "steps": steps, "train_loss": stats["train_loss"],
                          "val_loss": validation_loss(model, val_z, config.seed),
                          "seconds": round(time.perf_counter() - start, 2)}
