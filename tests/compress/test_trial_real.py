"""One real trial: bitsandbytes int8 on the embedded SmolLM2-135M, every measurement."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from compress.config import load
from compress.trial import run_trial
from tests.conftest import GSM8K_DIR

GSM8K = GSM8K_DIR
NUMBERS = ["gsm8k_strict", "gsm8k_strict_stderr", "gsm8k_flexible", "gsm8k_flexible_stderr",
           "match_acc", "match_acc_stderr", "match_acc_norm", "ppl_bits_per_byte",
           "prefill_s_b1", "prefill_s_b8", "decode_tps_b1", "decode_tps_b8",
           "ms_per_token_b1", "peak_mem_mb", "peak_rss_mb", "disk_mb", "state_dict_mb",
           "energy_kwh", "co2_kg", "compress_s", "accuracy", "accuracy_drop"]


@pytest.mark.slow
def test_bnb_int8_trial_measures_everything(tmp_path: Path) -> None:
    cfg = load(overrides=[
        f"eval.gsm8k_dir={GSM8K}", "eval.gsm8k_limit=2", "eval.num_fewshot=1",
        "eval.max_gen_toks=32", "eval.match_limit=4", "eval.ppl_limit=2",
        "latency.prompt_tokens=16", "latency.new_tokens=4", "latency.repeats=1",
        "energy.country_iso_code=FRA", "device=cpu",
    ])
    result = run_trial({"method": "bnb_int8"}, cfg, tmp_path / "t", threads=2,
                       baseline_accuracy=0.5)
    for key in NUMBERS:
        assert isinstance(result[key], float) and math.isfinite(result[key]), key
    assert result["method"] == "bnb_int8" and result["label"] == "bnb_int8"
    # accuracies are counts over exactly the configured problems: 2 generative, 4 matching
    assert result["gsm8k_strict"] * 2 in (0, 1, 2) and result["gsm8k_flexible"] * 2 in (0, 1, 2)
    assert result["match_acc"] * 4 in (0, 1, 2, 3, 4)
    assert result["accuracy"] == result["match_acc_norm"]
    assert result["accuracy_drop"] == pytest.approx(0.5 - result["accuracy"])
    # int8 Linear weights: the saved model is well under the 538 MB fp32 checkpoint
    assert 150 < result["disk_mb"] < 300 and result["state_dict_mb"] < 300
    assert result["decode_tps_b8"] > 0 and result["prefill_s_b8"] > 0
    assert result["energy_kwh"] > 0 and result["co2_kg"] > 0
    assert result["country_iso_code"] == "FRA"
    assert result["power_source"].startswith(("estimated:", "measured:"))
    assert result["peak_mem_kind"] == "cpu_rss_growth" and result["peak_mem_mb"] > 100
    assert not (tmp_path / "t" / "model").exists()  # only the measurements are kept
