"""The run config: presets load, bad keys and combinations are rejected with the fix named."""

from __future__ import annotations

import pytest

from alignment.config import AlignmentConfig, EvalSettings, load
from serving.config import ConfigError


def test_presets_load_and_bad_overrides_are_rejected():
    demo = load(None, "demo", [])
    assert demo.generate.pair_source == "rules" and demo.eval.ifeval_n == 300
    assert demo.generate.rules.instructions * demo.generate.rules.pairs_per_instruction >= 300
    assert load(None, "default", []).generate.pair_source == "both"
    with pytest.raises(ConfigError, match="needs `dpo.loss_type: robust`"):
        load(None, "demo", ["dpo.loss_type=sigmoid"])
    with pytest.raises(ConfigError, match="unknown config key `train.lora_rank`"):
        load(None, "demo", ["train.lora_rank=4"])
    with pytest.raises(ConfigError, match="unknown constraint kind `tone:polite`"):
        load(None, "demo", ["generate.rules.kinds=[tone:polite]"])
    with pytest.raises(ConfigError, match="must be one of"):
        load(None, "demo", ["generate.pair_source=votes"])
    with pytest.raises(ConfigError, match="samples_per_instruction` must be at least 2"):
        load(None, "demo", ["generate.rules.samples_per_instruction=1"])
    assert load(None, "demo", ["dpo.loss_type=ipo", "dpo.smoothing=none"]).dpo.loss_type == "ipo"


def test_eval_settings_are_checked():
    with pytest.raises(ConfigError, match="`eval.ifeval_n`"):
        AlignmentConfig(eval=EvalSettings(ifeval_n=0))
