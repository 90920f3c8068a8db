"""DPO training speed and memory: LoRA vs QLoRA vs full fine-tuning, 1 vs 2 Ray Train workers.

Every case runs TRL's DPOTrainer on the same synthetic pairs (the embedded SmolLM2-135M, same
prompts, same per-worker batch and length), under Ray Train's ``TorchTrainer``, in one run:

- ``lora`` / ``qlora`` (bitsandbytes nf4 base) / ``full``: 1 worker with all the CPUs
  (its torch threads follow);
- ``lora_1cpu``: 1 worker with half the CPUs, the per-worker reference for DDP;
- ``lora_2workers``: 2 DDP workers (gloo) with one CPU each, so twice the pairs per step.

The summary splits the 2-worker speedup over ``lora`` into ``thread_scaling_1_to_2`` (one
worker given the second core) and ``ddp_efficiency`` (2 workers vs twice ``lora_1cpu``).

Steps/s and pairs/s are TRL's training-loop throughput (``train_steps_per_second``, model
loading excluded); peak memory is the worker's peak RSS on CPU (``torch.cuda`` peak on GPU).

    python benchmarks/train_bench.py [--steps 6] [--batch 2] [--gpu]

Prints one JSON object per case; the last line holds them all side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from alignment.ray_train import fit
from alignment.training import DPOSettings, TrainSettings, dpo_rows
from serving.models import resolve_model

TOPICS = ["rain", "volcanoes", "bicycles", "tea", "chess", "rivers", "owls", "bread"]


def pairs(n: int) -> list[dict]:
    """``n`` fixed preference pairs of realistic length (chosen: on topic; rejected: a refusal)."""
    out = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        out.append({"prompt": f"Explain {topic} to a child in three sentences. ({i})",
                    "chosen": f"{topic.capitalize()} is something you can see in everyday life. "
                              f"People have studied {topic} for a long time. It is fun to learn about.",
                    "rejected": "I cannot help with that request because it is not something I "
                                "am able to talk about.", "confidence": 0.8})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=6, help="DPO optimizer steps per case")
    parser.add_argument("--batch", type=int, default=2, help="pairs per worker per step")
    parser.add_argument("--gpu", action="store_true", help="one GPU per worker (nccl, bf16)")
    parser.add_argument("--cases", default="lora,qlora,full,lora_1cpu,lora_2workers")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    model = resolve_model("smollm2-135m-instruct")
    cpus = float(min(2, os.cpu_count() or 1))
    cases = {
        "lora": ("lora", 1, cpus), "qlora": ("qlora", 1, cpus), "full": ("full", 1, cpus),
        "lora_1cpu": ("lora", 1, cpus / 2), "lora_2workers": ("lora", 2, cpus / 2),
    }
    dpo = DPOSettings(loss_type="robust", smoothing="confidence")
    rows = dpo_rows(pairs(args.steps * args.batch * 2), chat=True, max_smoothing=dpo.max_smoothing)
    results = {}
    with tempfile.TemporaryDirectory(prefix="train_bench-") as tmp:
        for name in args.cases.split(","):
            tuning, workers, per_worker = cases[name]
            settings = TrainSettings(tuning=tuning, max_steps=args.steps, batch_size=args.batch,
                                     num_workers=workers, cpus_per_worker=per_worker,
                                     use_gpu=args.gpu, max_length=160, save_steps=10_000,
                                     max_failures=0)
            start = time.perf_counter()
            out = fit("dpo", model, rows, Path(tmp) / name, settings, dpo=dpo, save_model=False)
            steps_s = out["train_steps_per_second"]
            results[name] = {
                "tuning": tuning, "workers": workers, "steps": out["steps"],
                "steps_per_s": round(steps_s, 3),
                "pairs_per_s": round(steps_s * args.batch * workers, 3),
                "peak_memory_mb": round(out["peak_memory_mb"], 1),
                "final_loss": round(out["train_loss"], 4),
                "wall_s": round(time.perf_counter() - start, 1),
            }
            print(json.dumps({"case": name, **results[name]}), flush=True)
    base = results.get("lora", {}).get("steps_per_s")
    summary = {"device": "gpu" if args.gpu else f"cpu x{int(cpus)}", "steps": args.steps,
               "batch_per_worker": args.batch, "cases": results}
    if base:
        summary["speed_vs_lora"] = {k: round(v["steps_per_s"] / base, 2) for k, v in results.items()}
    two, one_cpu = results.get("lora_2workers"), results.get("lora_1cpu")
    if two and base:  # the target: 2 workers vs 1 worker on the whole machine
        summary["pairs_per_s_2workers_vs_1worker"] = round(
            two["pairs_per_s"] / results["lora"]["pairs_per_s"], 2)
    if two and one_cpu:  # what DDP itself costs: 2 workers vs twice one worker on one core
        summary["ddp_efficiency"] = round(two["pairs_per_s"] / (2 * one_cpu["pairs_per_s"]), 2)
        if base:  # how well one worker uses the second core (its torch threads)
            summary["thread_scaling_1_to_2"] = round(results["lora"]["pairs_per_s"]
                                                     / one_cpu["pairs_per_s"], 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
