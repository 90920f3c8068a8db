"""Ray Train wiring for SFT and DPO: TRL trainers on ``TorchTrainer`` workers (DDP).

Each worker pins its threads, builds the TRL trainer (:mod:`alignment.training`), wraps it
with Ray's ``prepare_trainer`` and reports through ``RayTrainReportCallback``, which copies
every Hugging Face checkpoint into Ray Train's storage under the run folder::

    <stage dir>/<sft|dpo>/ray/     Ray Train storage: checkpoint_*/checkpoint/ (HF checkpoint)
    <stage dir>/<sft|dpo>/hf/      the trainer's own output_dir
    <stage dir>/<sft|dpo>/adapter  the peft adapter;  model/  the merged, servable model
    <stage dir>/<sft|dpo>/result.json   final metrics (its presence means "done")

Resume: a worker failure restarts the worker group (``FailureConfig``) and a killed run,
started again with the same command, makes Ray Train V2 restore its checkpoint manager from
``ray/``; either way ``ray.train.get_checkpoint()`` gives the latest checkpoint and the
trainer resumes from it (optimizer, scheduler, RNG and step). gloo on CPU, nccl + bf16 on GPU.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from alignment.training import DPOSettings, SFTSettings, TrainSettings

log = logging.getLogger(__name__)
Kind = Literal["sft", "dpo"]


def _resume_path(local: Path) -> str | None:
    """The latest reported checkpoint, copied to ``local`` (``None`` on a fresh start)."""
    import ray.train
    from ray.train.huggingface.transformers import RayTrainReportCallback

    checkpoint = ray.train.get_checkpoint()
    if checkpoint is None:
        return None
    shutil.rmtree(local, ignore_errors=True)
    checkpoint.to_directory(str(local))  # works for remote storage too
    return str(local / RayTrainReportCallback.CHECKPOINT_NAME)


def _crash_once(step: int, marker: Path):
    """Test hook: a callback that kills one worker once, after the checkpoint of ``step``
    (``marker`` records that it fired, so the restarted group trains on)."""
    from transformers import TrainerCallback

    class CrashOnce(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.global_step >= step and not marker.exists():
                marker.write_text("crashed")
                raise RuntimeError(f"injected worker failure after step {state.global_step}")

    return CrashOnce()


def train_loop_per_worker(cfg: dict[str, Any]) -> None:
    """What each Ray Train worker runs (``cfg`` from :func:`fit`)."""
    import ray.train
    from ray.train.huggingface.transformers import RayTrainReportCallback, prepare_trainer

    from alignment import training
    from serving.cluster import pin_threads

    settings = TrainSettings(**cfg["train"])
    pin_threads(settings.cpus_per_worker)
    out = Path(cfg["out_dir"])
    callbacks: list = [RayTrainReportCallback()]
    if cfg.get("crash_after_step") is not None:
        callbacks.append(_crash_once(cfg["crash_after_step"], out / ".crashed"))
    if cfg["kind"] == "sft":
        trainer = training.build_sft_trainer(cfg["model"], cfg["rows"], settings,
                                             SFTSettings(**cfg["sft"]), out / "hf", callbacks)
    else:
        trainer = training.build_dpo_trainer(cfg["model"], cfg["rows"], cfg["eval_rows"], settings,
                                             DPOSettings(**cfg["dpo"]), out / "hf", callbacks)
    trainer = prepare_trainer(trainer)
    rank = ray.train.get_context().get_world_rank()
    resume = _resume_path(out / f".resume-rank{rank}")
    if resume:
        log.info("rank %d resumes from %s", rank, resume)
    result = trainer.train(resume_from_checkpoint=resume)
    metrics = {"train_loss": result.training_loss, "steps": result.global_step,
               "resumed_from": resume, "world_size": ray.train.get_context().get_world_size(),
               **{k: v for k, v in result.metrics.items() if isinstance(v, int | float)}}
    metrics["peak_memory_mb"] = _peak_memory_mb(settings.use_gpu)
    if cfg["kind"] == "dpo" and cfg["eval_rows"]:
        metrics.update(trainer.evaluate())
    if rank == 0:
        if cfg["save_model"]:
            training.save_result(trainer, out, settings)
        (out / "result.json").write_text(json.dumps(metrics, indent=2, default=str))
    ray.train.report({k: v for k, v in metrics.items() if isinstance(v, int | float)})


def _peak_memory_mb(gpu: bool) -> float:
    """Peak GPU memory allocated (GPU) or peak resident set size of this worker (CPU)."""
    if gpu:
        import torch

        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def fit(kind: Kind, model: str, rows: list[dict[str, Any]], out_dir: Path, settings: TrainSettings,
        sft: SFTSettings | None = None, dpo: DPOSettings | None = None,
        eval_rows: list[dict[str, Any]] | None = None,
        crash_after_step: int | None = None, save_model: bool = True) -> dict[str, Any]:
    """Train (or finish training) one SFT or DPO step under Ray Train.

    Args:
        kind: ``sft`` or ``dpo``.
        model: the model folder to start from.
        rows: training rows (:func:`~alignment.training.sft_rows` / ``dpo_rows``).
        out_dir: this step's folder (resume key: the same folder continues the same training).
        settings: tuning and scaling.
        sft, dpo: the step's own settings.
        eval_rows: held-out DPO rows (reward accuracy / margins after training).
        crash_after_step: test hook; one worker raises once after this step's checkpoint.
        save_model: write ``adapter/`` and the merged ``model/`` (benchmarks skip it).

    Returns:
        The final metrics (also in ``out_dir/result.json``); a finished step is not rerun.

    Raises:
        ValueError: no rows to train on.
        ray.train.TrainingFailedError: the workers failed more than ``max_failures`` times.
    """
    done = out_dir / "result.json"
    if done.is_file():
        log.info("%s already trained (%s); skipping", kind, done)
        return json.loads(done.read_text())
    if not rows:
        raise ValueError(f"no {kind} rows to train on: the stage made no usable data "
                         "(see its stage report for what was skipped).")
    from ray.train import CheckpointConfig

    from serving.cluster import torch_trainer

    out_dir.mkdir(parents=True, exist_ok=True)
    cfg = {"kind": kind, "model": model, "rows": rows, "eval_rows": eval_rows or [],
           "out_dir": str(out_dir.resolve()), "train": asdict(settings),
           "sft": asdict(sft or SFTSettings()), "dpo": asdict(dpo or DPOSettings()),
           "crash_after_step": crash_after_step, "save_model": save_model}
    env = {"HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
           "OMP_NUM_THREADS": str(max(1, int(settings.cpus_per_worker)))}
    trainer = torch_trainer(
        train_loop_per_worker, cfg, num_workers=settings.num_workers,
        cpus_per_worker=settings.cpus_per_worker, use_gpu=settings.use_gpu, storage_path=out_dir,
        name="ray", max_failures=settings.max_failures,
        checkpoint_config=CheckpointConfig(num_to_keep=2), env_vars=env)
    trainer.fit()
    return json.loads(done.read_text())
