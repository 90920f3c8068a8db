"""Latency and energy repeats: median, spread and standard error, on a scripted fake model."""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from compress.measure.energy import FixedPowerMeter
from compress.measure.latency import measure_latency
from compress.measure.stats import repeat_stats


def test_repeat_stats_by_hand() -> None:
    """[1, 2, 4]: mean 7/3, squared deviations 16/9 + 1/9 + 25/9 = 42/9, sample variance
    21/9 = 7/3, SEM sqrt(7/3) / sqrt(3)."""
    assert repeat_stats("x", [1.0, 2.0, 4.0]) == pytest.approx(
        {"x": 2.0, "x_min": 1.0, "x_max": 4.0, "x_sem": math.sqrt(7 / 3) / math.sqrt(3), "x_n": 3})
    assert repeat_stats("x", [5.0, math.nan]) == {"x": 5.0, "x_min": 5.0, "x_max": 5.0,
                                                  "x_sem": None, "x_n": 1}
    empty = repeat_stats("x", [math.nan])
    assert math.isnan(empty["x"]) and empty["x_sem"] is None and empty["x_n"] == 0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeTokenizer:
    pad_token_id = 0

    def __call__(self, text: str, add_special_tokens: bool = False) -> dict[str, list[int]]:
        return {"input_ids": [1, 2, 3]}


class FakeModel:
    """Advances the clock by scripted durations: prefill and generate per repeat."""

    def __init__(self, clock: Clock, prefill: list[float], generate: list[float]) -> None:
        self.clock, self.prefill, self.generate_s = clock, list(prefill), list(generate)
        self.warmed = False

    def parameters(self) -> Any:
        yield torch.zeros(1)

    def __call__(self, input_ids: Any, attention_mask: Any) -> None:
        self.clock.now += self.prefill.pop(0)

    def generate(self, x: Any, attention_mask: Any, **gen: Any) -> None:
        if not self.warmed:  # the untimed warm-up call
            self.warmed = True
            return
        self.clock.now += self.generate_s.pop(0)


def test_measure_latency_reports_per_repeat_median_and_sem() -> None:
    """Batch 1, 5 new tokens (4 decode tokens), 3 repeats: prefill 0.1/0.2/0.1 s, generate
    1.1/1.0/1.3 s, so decode 1.0/0.8/1.2 s: 4/1.0, 4/0.8, 4/1.2 tokens/s = 4, 5, 3.33 and
    250/200/300 ms per token. A 36 W meter over each generate call: 39.6/36/46.8 J over 5
    tokens = 7.92/7.2/9.36 J per token."""
    clock = Clock()
    model = FakeModel(clock, [0.1, 0.2, 0.1], [1.1, 1.0, 1.3])
    out = measure_latency(model, FakeTokenizer(), "text", batch_sizes=(1,), prompt_tokens=4,
                          new_tokens=5, repeats=3, meter=FixedPowerMeter(36.0, clock), clock=clock)
    assert (out["prefill_s_b1"], out["prefill_s_b1_max"]) == pytest.approx((0.1, 0.2))
    assert out["decode_tps_b1"] == pytest.approx(4.0)
    assert (out["decode_tps_b1_min"], out["decode_tps_b1_max"]) == pytest.approx((4 / 1.2, 5.0))
    assert out["decode_tps_b1_sem"] == pytest.approx(
        math.sqrt(((4 - 37 / 9) ** 2 + (5 - 37 / 9) ** 2 + (10 / 3 - 37 / 9) ** 2) / 2) / math.sqrt(3))
    assert out["ms_per_token_b1"] == pytest.approx(250.0)
    assert out["ms_per_token_b1_sem"] == pytest.approx(50 / math.sqrt(3))
    assert out["energy_j_per_token_b1"] == pytest.approx(7.92)
    assert out["energy_j_per_token_b1_n"] == 3
    assert out["energy_j_per_token_b1_sem"] == pytest.approx(
        math.sqrt(((7.92 - 8.16) ** 2 + (7.2 - 8.16) ** 2 + (9.36 - 8.16) ** 2) / 2) / math.sqrt(3))


def test_a_repeat_whose_generate_is_not_longer_than_prefill_has_no_speed() -> None:
    clock = Clock()
    model = FakeModel(clock, [0.5, 0.1], [0.4, 1.1])
    out = measure_latency(model, FakeTokenizer(), "text", batch_sizes=(2,), prompt_tokens=4,
                          new_tokens=3, repeats=2, clock=clock)
    assert out["decode_tps_b2"] == pytest.approx(2 * 2 / 1.0) and out["decode_tps_b2_n"] == 1
    assert out["decode_tps_b2_sem"] is None and "energy_j_per_token_b2" not in out
