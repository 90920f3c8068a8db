"""Measure one saved (compressed) model: accuracy, latency, memory, size, energy.

The measurement runs in a fresh process (``python -m compress.measure.run``) so that its peak
memory is the compressed model's own, not the float model the trial loaded to compress it:
RSS on CPU (the growth over the process's footprint before loading, and the raw peak), the
allocator's peak on GPU.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from compress.config import CompressConfig
from compress.measure.energy import track_energy
from compress.measure.latency import measure_latency
from compress.measure.lmeval import build_task_dir, evaluate
from serving.config import from_dict, to_dict

logger = logging.getLogger(__name__)

LATENCY_TEXT = ("Natalia sold clips to 48 of her friends in April, and then she sold half as "
                "many clips in May. How many clips did Natalia sell altogether in April and May?")


def resolve_device(device: str) -> str:
    """``auto`` → ``cuda`` when torch sees a GPU, else ``cpu``."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("`device: cuda` but torch sees no CUDA GPU; use `device: auto`.")
    return device


def state_dict_mb(model: Any) -> float:
    """Bytes of the model's state dict (quantized storage for bitsandbytes), tied tensors
    (SmolLM2's embedding and head) counted once."""
    seen: dict[tuple[int, int], int] = {}
    for t in model.state_dict().values():
        if hasattr(t, "untyped_storage"):
            seen[(t.untyped_storage().data_ptr(), t.storage_offset())] = t.numel() * t.element_size()
    return sum(seen.values()) / 1e6


def measure_model(model_dir: Path, cfg: CompressConfig, task_dir: Path) -> dict[str, Any]:
    """Load ``model_dir`` and measure it (call in a fresh process; see module doc)."""
    import lm_eval.models.huggingface  # noqa: F401  (imported before the RSS baseline)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = resolve_device(cfg.device)
    rss_before = psutil.Process().memory_info().rss
    out: dict[str, Any] = {"device": device}
    with track_energy(cfg.energy.country_iso_code, out, cfg.energy.measure_power_secs) as meter:
        start = time.perf_counter()
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, device_map=device).eval()
        out["load_s"] = time.perf_counter() - start
        out["state_dict_mb"] = state_dict_mb(model)
        lat = cfg.latency
        out.update(measure_latency(model, tokenizer, LATENCY_TEXT, lat.batch_sizes,
                                   lat.prompt_tokens, lat.new_tokens, lat.repeats, meter))
        start = time.perf_counter()
        out.update(evaluate(model, tokenizer, task_dir, cfg.eval.tasks, cfg.eval.limits(),
                            cfg.eval.batch_size))
        out["eval_s"] = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    out["peak_rss_mb"] = peak_rss / 1e6
    if device == "cuda":
        out["peak_mem_mb"] = torch.cuda.max_memory_allocated() / 1e6
        out["peak_mem_kind"] = "cuda_max_allocated"
    else:
        out["peak_mem_mb"] = (peak_rss - rss_before) / 1e6
        out["peak_mem_kind"] = "cpu_rss_growth"
    return out


def measure_in_subprocess(model_dir: Path, cfg: CompressConfig, workdir: Path,
                          threads: int, timeout_s: float | None = None) -> dict[str, Any]:
    """Run :func:`measure_model` in a fresh Python process with ``threads`` threads.

    Raises:
        RuntimeError: If the child fails (its stderr tail is in the message).
    """
    workdir.mkdir(parents=True, exist_ok=True)
    cfg_path, out_path = workdir / "measure_config.json", workdir / "measurements.json"
    cfg_path.write_text(json.dumps(to_dict(cfg)))
    task_dir = build_task_dir(cfg.eval.resolved_gsm8k_dir(), workdir / "lmeval_tasks",
                              cfg.eval.num_fewshot, cfg.eval.max_gen_toks)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
           "HF_DATASETS_OFFLINE": os.environ.get("HF_DATASETS_OFFLINE", "1"),
           "TOKENIZERS_PARALLELISM": "false"}
    cmd = [sys.executable, "-m", "compress.measure.run", str(model_dir), str(cfg_path),
           str(task_dir), str(out_path), "--threads", str(threads)]
    logger.info("measuring %s: %s", model_dir, " ".join(cmd))
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout_s)
    (workdir / "measure.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not out_path.is_file():
        raise RuntimeError(f"measuring {model_dir} failed (exit {proc.returncode}); log "
                           f"{workdir / 'measure.log'}:\n{proc.stderr[-3000:]}")
    return json.loads(out_path.read_text())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure one saved model (used by trials).")
    parser.add_argument("model_dir")
    parser.add_argument("config_json")
    parser.add_argument("task_dir")
    parser.add_argument("out_json")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    from serving.cli import setup_logging
    from serving.cluster import pin_threads

    setup_logging()

    pin_threads(args.threads)
    cfg = from_dict(CompressConfig, json.loads(Path(args.config_json).read_text()))
    result = measure_model(Path(args.model_dir), cfg, Path(args.task_dir))
    Path(args.out_json).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
