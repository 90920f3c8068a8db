"""Prefill time, decode throughput and decode energy of a causal LM with ``transformers``.

Every batch row is the same prompt (no padding, so each row does the same work); greedy
decoding is forced to ``new_tokens`` tokens (EOS ignored). Each repeat times one forward
pass over the prompt (prefill) and one ``generate`` call; that repeat's decode time is its
generate time minus its prefill time, over the tokens after the first. Every metric is the
median over repeats, with ``_min``, ``_max``, ``_sem`` (standard error of the mean, from 2+
repeats) and ``_n`` beside it (:func:`compress.measure.stats.repeat_stats`). With an
:class:`EnergyMeter`, each generate call's energy gives ``energy_j_per_token_b{n}`` the same
way.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from compress.measure.stats import repeat_stats

logger = logging.getLogger(__name__)

Clock = Callable[[], float]


class EnergyMeter(Protocol):
    """Energy of an interval: ``start()``, then ``stop()`` returns its kWh (NaN if unknown)."""

    def start(self) -> None: ...

    def stop(self) -> float: ...


def prompt_ids(tokenizer: Any, text: str, length: int) -> list[int]:
    """``length`` token ids: ``text`` tokenized and repeated as needed."""
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ValueError("the latency prompt text tokenizes to nothing; give some text.")
    return (ids * (length // len(ids) + 1))[:length]


def _timed(fn: Callable[[], Any], sync: Callable[[], None], clock: Clock) -> float:
    sync()
    start = clock()
    fn()
    sync()
    return clock() - start


def measure_latency(model: Any, tokenizer: Any, text: str, batch_sizes: Sequence[int] = (1, 8),
                    prompt_tokens: int = 64, new_tokens: int = 32, repeats: int = 1,
                    meter: EnergyMeter | None = None,
                    clock: Clock = time.perf_counter) -> dict[str, float | int | None]:
    """Per batch size ``n``: ``prefill_s_b{n}``, ``decode_tps_b{n}``, ``ms_per_token_b{n}``
    (decode, per sequence) and, with a meter, ``energy_j_per_token_b{n}`` (per generated
    token of the generate call), each a median with ``_min/_max/_sem/_n``.

    Args:
        model: A causal LM (``__call__`` and ``generate``).
        tokenizer: Its tokenizer.
        text: Prompt text (repeated to ``prompt_tokens``).
        batch_sizes: Batch sizes timed.
        prompt_tokens: Prompt length.
        new_tokens: Tokens generated per repeat (>= 2).
        repeats: Timed repeats per batch size (3+ for a standard error).
        meter: Measures each generate call's energy (codecarbon's tasks in real runs).
        clock: Seconds (tests pass a scripted one).
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
    out: dict[str, float | int | None] = {}
    with torch.inference_mode():
        warm = torch.tensor([ids[:8]], device=device)
        model.generate(warm, attention_mask=torch.ones_like(warm), **{**gen, "max_new_tokens": 2,
                                                                       "min_new_tokens": 2})
        for n in batch_sizes:
            x = torch.tensor([ids] * n, device=device)
            mask = torch.ones_like(x)
            prefill, decode, joules = [], [], []
            for _ in range(repeats):
                p = _timed(lambda x=x, m=mask: model(input_ids=x, attention_mask=m), sync, clock)
                if meter is not None:
                    meter.start()
                t = _timed(lambda x=x, m=mask: model.generate(x, attention_mask=m, **gen), sync,
                           clock)
                if meter is not None:
                    joules.append(meter.stop() * 3.6e6 / (n * new_tokens))
                prefill.append(p)
                decode.append(t - p if t > p else math.nan)
            if any(math.isnan(d) for d in decode):  # noise swamped the decode: no fake number
                logger.warning("batch %d: %d of %d generate calls took no longer than prefill; "
                               "those repeats have no decode speed", n,
                               sum(math.isnan(d) for d in decode), repeats)
            out.update(repeat_stats(f"prefill_s_b{n}", prefill))
            out.update(repeat_stats(f"decode_tps_b{n}", [n * (new_tokens - 1) / d for d in decode]))
            out.update(repeat_stats(f"ms_per_token_b{n}",
                                    [1000 * d / (new_tokens - 1) for d in decode]))
            if meter is not None:
                out.update(repeat_stats(f"energy_j_per_token_b{n}", joules))
    return out
