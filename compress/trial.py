"""One trial: compress the model per a config, save it, measure it, return one flat dict.

Used by Tune trials (:mod:`compress.ray_search`) and by ``python -m compress evaluate``. No
``ray`` here.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

from compress.config import CompressConfig
from compress.measure.run import measure_in_subprocess, resolve_device
from compress.methods.apply import compress_model, dir_size_mb, remove_model
from compress.methods.calibration import calibration_texts
from compress.space import CompressionSpace, build_space
from serving.models import resolve_model

logger = logging.getLogger(__name__)

BASELINE = {"method": "none"}  #: the uncompressed model (no pruning: the default)


def space_for(cfg: CompressConfig) -> CompressionSpace:
    """The search space the config describes (unavailable methods excluded, logged)."""
    s = cfg.space
    return build_space(s.methods, s.pruning, s.bits, s.group_sizes, s.max_sparsity)


def derive(result: dict[str, Any], accuracy_metric: str,
           baseline_accuracy: float | None) -> dict[str, Any]:
    """Add ``accuracy`` (the configured metric) and ``accuracy_drop`` (vs. the baseline).

    Raises:
        KeyError: If the measurements lack ``accuracy_metric`` (a task is not enabled).
    """
    if accuracy_metric not in result:
        raise KeyError(f"`search.accuracy_metric`={accuracy_metric!r} was not measured; "
                       f"measured: {sorted(k for k in result if not k.endswith('_stderr'))}.")
    out = dict(result)
    out["accuracy"] = float(result[accuracy_metric])
    out["accuracy_stderr"] = result.get(f"{accuracy_metric}_stderr")
    if baseline_accuracy is not None:
        out["accuracy_drop"] = float(baseline_accuracy) - out["accuracy"]
    return out


def run_trial(params: dict[str, Any], cfg: CompressConfig, workdir: Path,
              threads: int | None = None, baseline_accuracy: float | None = None,
              space: CompressionSpace | None = None) -> dict[str, Any]:
    """Compress, save, measure; return the config, the measurements and derived metrics.

    Args:
        params: A compression config (checked against the space).
        cfg: The experiment config.
        workdir: The trial's folder (the model is saved under ``model/`` and deleted
            afterwards unless ``cfg.keep_models``).
        threads: Torch threads for the measuring process (default: this process's).
        baseline_accuracy: The uncompressed model's accuracy, for ``accuracy_drop``.
        space: The space to check against (default :func:`space_for`).

    Raises:
        InvalidConfigError: If the space rejects ``params``.
    """
    import torch

    spec = (space or space_for(cfg)).check(params)
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    model_dir = workdir / "model"
    remove_model(model_dir)  # a rerun of a killed trial starts clean
    device = resolve_device(cfg.device)
    texts: list[str] = []
    if spec.pruning == "wanda" or spec.method in ("gptq", "awq"):
        texts = calibration_texts(cfg.eval.resolved_gsm8k_dir(), cfg.calib_samples)
    logger.info("trial %s: compressing (%s)", workdir.name, spec.label)
    start = time.perf_counter()
    info = compress_model(spec, resolve_model(cfg.model), model_dir, texts, device,
                          cfg.calib_seq_len)
    compress_s = time.perf_counter() - start
    disk_mb = dir_size_mb(model_dir)
    threads = threads or torch.get_num_threads() or int(os.environ.get("OMP_NUM_THREADS", 1))
    try:
        measured = measure_in_subprocess(model_dir, cfg, workdir, threads)
    finally:
        if not cfg.keep_models:
            remove_model(model_dir)
    result = {**spec.params(), "label": spec.label, **info, "compress_s": compress_s,
              "disk_mb": disk_mb, **measured}
    return derive(result, cfg.search.accuracy_metric, baseline_accuracy)
