"""Prefill time and decode throughput of a causal LM with plain ``transformers`` generate.

Every batch row is the same prompt (no padding, so each row does the same work); greedy
decoding is forced to ``new_tokens`` tokens (EOS ignored). Prefill is one forward pass over
the prompt; decode throughput counts the tokens generated after the first one, over the
generate time minus the prefill time.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

logger = logging.getLogger(__name__)


def prompt_ids(tokenizer: Any, text: str, length: int) -> list[int]:
    """``length`` token ids: ``text`` tokenized and repeated as needed."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError("the latency prompt text tokenizes to nothing; give some text.")
    return (ids * (length // len(ids) + 1))[:length]


def _timed(fn: Callable[[], Any], sync: Callable[[], None]) -> float:
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def measure_latency(model: Any, tokenizer: Any, text: str, batch_sizes: Sequence[int] = (1, 8),
                    prompt_tokens: int = 64, new_tokens: int = 32,
                    repeats: int = 1) -> dict[str, float]:
    """Median prefill seconds and decode tokens/s per batch size.

    Returns:
        ``prefill_s_b{n}``, ``decode_tps_b{n}`` and ``ms_per_token_b{n}`` (decode, per
        sequence) for each batch size ``n``.
    """
    import torch

    if new_tokens < 2:
        raise ValueError("`latency.new_tokens` must be >= 2 (the first token is prefill).")
    device = next(model.parameters()).device
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    ids = prompt_ids(tokenizer, text, prompt_tokens)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    gen = {"do_sample": False, "max_new_tokens": new_tokens, "min_new_tokens": new_tokens,
           "pad_token_id": pad}
    out: dict[str, float] = {}
    with torch.inference_mode():
        warm = torch.tensor([ids[:8]], device=device)
        model.generate(warm, attention_mask=torch.ones_like(warm), **{**gen, "max_new_tokens": 2,
                                                                       "min_new_tokens": 2})
        for n in batch_sizes:
            x = torch.tensor([ids] * n, device=device)
            mask = torch.ones_like(x)
            prefill, total = [], []
            for _ in range(repeats):
                prefill.append(_timed(lambda x=x, m=mask: model(input_ids=x, attention_mask=m),
                                      sync))
                total.append(_timed(lambda x=x, m=mask: model.generate(x, attention_mask=m, **gen),
                                    sync))
            p, t = sorted(prefill)[len(prefill) // 2], sorted(total)[len(total) // 2]
            decode_s = t - p
            if decode_s <= 0.0:  # timing noise swamped the decode: no number, not a fake one
                logger.warning("batch %d: generate (%.4f s) took no longer than prefill (%.4f s); "
                               "decode speed unmeasured", n, t, p)
                decode_s = math.nan
            out[f"prefill_s_b{n}"] = p
            out[f"decode_tps_b{n}"] = n * (new_tokens - 1) / decode_s
            out[f"ms_per_token_b{n}"] = 1000 * decode_s / (new_tokens - 1)
    return out
