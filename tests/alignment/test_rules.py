"""Rule checks for instruction following, the held-out file, and the run config."""

from __future__ import annotations

import pytest

from alignment.config import CONFIG_DIR, load
from alignment.rules import Rule, RuleItem, load_rules, score
from serving.config import ConfigError


@pytest.mark.parametrize("kind, value, text, ok", [
    ("max_words", 3, "one two three", True),
    ("max_words", 3, "one two three four", False),
    ("bullets", 2, "- a\n- b", True),
    ("bullets", 2, "1. a\n2. b\n3. c", False),
    ("lowercase", None, "all small here", True),
    ("lowercase", None, "Not all small", False),
    ("uppercase", None, "BLUE.", True),
    ("json", None, '```json\n{"name": "Ana"}\n```', True),
    ("json", None, "name: Ana", False),
    ("ends_with", "see you soon", "Hi Bo, see you soon!", True),
    ("starts_with", "yes", "Yes, it does.", True),
    ("not_contains", "water", "Drops of Water fall.", False),
    ("no_commas", None, "a, b", False),
])
def test_rules(kind, value, text, ok):
    assert Rule(kind, value).passes(text) is ok


def test_score_strict_and_loose():
    items = [RuleItem("x", [Rule("max_words", 2), Rule("lowercase")]), RuleItem("y", [Rule("contains", "b")])]
    result = score(items, ["two words", "A"])
    assert (result.strict, result.loose, result.passed) == (0.5, 2 / 3, [True, False])


def test_bad_rules_and_configs_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match="unknown rule kind `wordcount`"):
        Rule("wordcount", 3)
    with pytest.raises(ConfigError, match="needs a `value`"):
        Rule("max_words")
    bad = tmp_path / "rules.yaml"
    bad.write_text("items:\n  - instruction: hi\n    rules: []\n")
    with pytest.raises(ConfigError, match="at least one rule"):
        load_rules(bad)
    assert len(load_rules(CONFIG_DIR / "heldout.yaml").items) >= 10
    with pytest.raises(ConfigError, match="needs `dpo.loss_type: robust`"):
        load(None, "demo", ["dpo.loss_type=sigmoid"])
    with pytest.raises(ConfigError, match="unknown config key `train.lora_rank`"):
        load(None, "demo", ["train.lora_rank=4"])
    assert load(None, "demo", ["dpo.loss_type=ipo", "dpo.smoothing=none"]).dpo.loss_type == "ipo"
