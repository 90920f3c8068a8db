"""Calibration text from GSM8K's train split (Wanda's input norms, GPTQ, AWQ)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from serving.gsm8k import read_problems


def calibration_texts(gsm8k_dir: str | Path, n: int, seed: int = 0) -> list[str]:
    """``n`` train problems with their solutions, drawn with ``seed`` (never the test split).

    Raises:
        FileNotFoundError / ValueError: As :func:`serving.gsm8k.read_problems` (missing or
            malformed ``train.jsonl``); ValueError if the split is empty.
    """
    examples = read_problems(Path(gsm8k_dir) / "train.jsonl")
    if not examples:
        raise ValueError(f"{gsm8k_dir}/train.jsonl has no problems to calibrate on.")
    picks = random.Random(seed).sample(examples, min(n, len(examples)))
    return [f"Question: {e.question}\nAnswer: {e.answer_text}" for e in picks]


def calibration_batches(tokenizer: Any, texts: list[str], seq_len: int,
                        batch_size: int = 4) -> list[Any]:
    """Token-id tensors ``batch x seq_len``: the texts concatenated and cut into windows."""
    import torch

    ids: list[int] = []
    for text in texts:
        ids += tokenizer(text, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    windows = [ids[i:i + seq_len] for i in range(0, len(ids) - seq_len + 1, seq_len)]
    if not windows:
        raise ValueError(f"calibration text has {len(ids)} tokens, fewer than one window of "
                         f"{seq_len}; use more samples or a shorter `calib_seq_len`.")
    t = torch.tensor(windows)
    return list(t.split(batch_size))
