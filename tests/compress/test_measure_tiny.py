"""The measuring process on a tiny random Llama quantized with bitsandbytes (no real model):
every measurement lands in the result, in a fresh process, in seconds."""

from __future__ import annotations

import math
from pathlib import Path

from compress.config import load
from compress.measure.run import measure_in_subprocess
from compress.methods import CompressionSpec
from compress.methods.apply import compress_model
from tests.compress.test_methods import tiny_llama
from tests.conftest import GSM8K_DIR


def test_measure_in_subprocess_on_tiny_bnb_model(tmp_path: Path) -> None:
    from transformers import AutoTokenizer

    from serving.models import resolve_model

    src = tmp_path / "tiny"
    tiny_llama().save_pretrained(src)
    AutoTokenizer.from_pretrained(resolve_model("smollm2-135m-instruct")).save_pretrained(src)
    compress_model(CompressionSpec("bnb_int8"), str(src), tmp_path / "q", [], "cpu")
    cfg = load(overrides=[
        f"eval.gsm8k_dir={GSM8K_DIR}", "eval.gsm8k_limit=1", "eval.num_fewshot=0",
        "eval.max_gen_toks=4", "eval.match_limit=2", "eval.ppl_limit=1", "eval.batch_size=2",
        "latency.prompt_tokens=8", "latency.new_tokens=3", "latency.repeats=2",
        "device=cpu"])
    out = measure_in_subprocess(tmp_path / "q", cfg, tmp_path / "work", threads=1)
    for key in ("gsm8k_strict", "gsm8k_flexible", "match_acc", "match_acc_norm",
                "ppl_bits_per_byte", "prefill_s_b1", "prefill_s_b8", "decode_tps_b1",
                "decode_tps_b8", "peak_mem_mb", "state_dict_mb", "energy_kwh", "co2_kg"):
        assert isinstance(out[key], float) and math.isfinite(out[key]), key
    assert out["power_source"].startswith(("estimated", "measured"))
    # two repeats: medians with their spread, and each generate call's energy per token
    assert out["prefill_s_b1_n"] == 2 and out["prefill_s_b1_sem"] >= 0
    assert out["energy_j_per_token_b8_n"] == 2 and out["energy_j_per_token_b8"] >= 0
    assert (tmp_path / "work" / "measure.log").read_text()  # the child's full log is kept
