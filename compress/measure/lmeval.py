"""Accuracy with lm-eval on local tasks built from ``GSM8K_DIR`` (no hub needed).

The YAML templates in :mod:`compress.lmeval_tasks` name their data files with
``__PLACEHOLDERS__``; :func:`build_task_dir` writes filled-in copies (and the derived
solution-matching data) into a folder that ``TaskManager(include_path=...)`` reads:

- ``rayopt_gsm8k``: lm-eval's own gsm8k.yaml (generative, few-shot, strict-match and
  flexible-extract), reading the local ``train.jsonl`` / ``test.jsonl``.
- ``rayopt_gsm8k_match``: loglikelihood multiple choice, the reference solution against three
  other problems' solutions (acc, acc_norm; chance 0.25).
- ``rayopt_gsm8k_ppl``: bits per byte of the reference solutions (loglikelihood_rolling).
"""

from __future__ import annotations

import json
import logging
import math
import random
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from serving.gsm8k import read_problems

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "lmeval_tasks"
TASKS = ("rayopt_gsm8k", "rayopt_gsm8k_match", "rayopt_gsm8k_ppl")
#: lm-eval result key → our metric name (``<metric>_stderr`` is recorded beside each).
METRICS = {
    ("rayopt_gsm8k", "exact_match,strict-match"): "gsm8k_strict",
    ("rayopt_gsm8k", "exact_match,flexible-extract"): "gsm8k_flexible",
    ("rayopt_gsm8k_match", "acc,none"): "match_acc",
    ("rayopt_gsm8k_match", "acc_norm,none"): "match_acc_norm",
    ("rayopt_gsm8k_ppl", "bits_per_byte,none"): "ppl_bits_per_byte",
    ("rayopt_gsm8k_ppl", "word_perplexity,none"): "ppl_word_perplexity",
}
_CALC = re.compile(r"<<[^>]*>>")


def match_examples(test_path: Path, seed: int = 0, n_choices: int = 4) -> list[dict[str, Any]]:
    """Solution-matching items: each test question with its solution and three others.

    Raises:
        ValueError: If the split has fewer than ``n_choices`` problems.
    """
    examples = read_problems(test_path)
    if len(examples) < n_choices:
        raise ValueError(
            f"{test_path} has {len(examples)} problems; the match task needs at least {n_choices}."
        )
    rng = random.Random(seed)
    items = []
    for i, ex in enumerate(examples):
        others = rng.sample([j for j in range(len(examples)) if j != i], n_choices - 1)
        label = rng.randrange(n_choices)
        picks = others[:label] + [i] + others[label:]
        choices = [" " + _CALC.sub("", examples[j].answer_text).strip() for j in picks]
        items.append({"question": ex.question, "choices": choices, "label": label})
    return items


def build_task_dir(
    gsm8k_dir: str | Path, out_dir: str | Path, num_fewshot: int, max_gen_toks: int
) -> Path:
    """Write the three task YAMLs (and the match data) into ``out_dir``; return it.

    Raises:
        FileNotFoundError: If ``gsm8k_dir`` lacks ``train.jsonl`` or ``test.jsonl``.
    """
    src, out = Path(gsm8k_dir).expanduser().resolve(), Path(out_dir)
    for split in ("train", "test"):
        if not (src / f"{split}.jsonl").is_file():
            raise FileNotFoundError(
                f"GSM8K folder `{src}` has no {split}.jsonl: set `eval.gsm8k_dir` (or "
                "GSM8K_DIR) to a folder with train.jsonl and test.jsonl."
            )
    out.mkdir(parents=True, exist_ok=True)
    match = out / "gsm8k_match_test.jsonl"
    match.write_text("".join(json.dumps(r) + "\n" for r in match_examples(src / "test.jsonl")))
    paths = {"__TRAIN__": src / "train.jsonl", "__TEST__": src / "test.jsonl", "__MATCH__": match}
    fill = {k: json.dumps(str(v)) for k, v in paths.items()}  # a quoted YAML scalar
    fill.update(
        {"__NUM_FEWSHOT__": str(int(num_fewshot)), "__MAX_GEN_TOKS__": str(int(max_gen_toks))}
    )
    for name in TASKS:
        text = (TEMPLATE_DIR / f"{name}.yaml").read_text()
        for key, value in fill.items():
            text = text.replace(key, value)
        (out / f"{name}.yaml").write_text(text)
    return out


def flatten(results: dict[str, dict[str, Any]]) -> dict[str, float | None]:
    """lm-eval's ``results`` section → ``{metric: value, metric_stderr: value}``.

    A stderr lm-eval could not compute ("N/A", one sample) becomes None, never a number.
    """
    out: dict[str, float | None] = {}
    for (task, key), name in METRICS.items():
        row = results.get(task)
        if row is None or key not in row:
            continue
        out[name] = float(row[key])
        metric, filt = key.split(",")
        stderr = row.get(f"{metric}_stderr,{filt}")
        ok = isinstance(stderr, int | float) and math.isfinite(stderr)
        out[f"{name}_stderr"] = float(stderr) if ok else None
    return out


def evaluate(
    model: Any,
    tokenizer: Any,
    task_dir: Path,
    tasks: Sequence[str],
    limits: dict[str, int | None],
    batch_size: int = 8,
) -> dict[str, float]:
    """Run lm-eval on an in-memory model; one ``simple_evaluate`` call per distinct limit.

    Args:
        model: A loaded ``transformers`` causal LM (compressed or not).
        tokenizer: Its tokenizer.
        task_dir: From :func:`build_task_dir`.
        tasks: Task names (a subset of :data:`TASKS`).
        limits: Samples per task (None = the whole split).
        batch_size: lm-eval's batch size.

    Returns:
        Flat metrics (see :data:`METRICS`) with ``_stderr`` companions.
    """
    from lm_eval import simple_evaluate
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    unknown = sorted(set(tasks) - set(TASKS))
    if unknown:
        raise ValueError(f"unknown lm-eval task(s) {unknown}; choose from {list(TASKS)}.")
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size)
    manager = TaskManager(include_path=str(task_dir), include_defaults=False)
    groups: dict[int | None, list[str]] = {}
    for task in tasks:
        groups.setdefault(limits.get(task), []).append(task)
    out: dict[str, float | None] = {}
    for limit, names in groups.items():
        logger.info("lm-eval %s (limit %s)", names, limit)
        res = simple_evaluate(
            model=lm,
            tasks=names,
            task_manager=manager,
            limit=limit,
            log_samples=False,
            bootstrap_iters=1000,
        )
        out.update(flatten(res["results"]))
    return out
