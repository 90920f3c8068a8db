from dataclasses import dataclass, field
from typing import Literal

import pytest

from serving.config import ConfigError, dump_config, load_config
from serving.settings import ServingConfig


@dataclass
class Inner:
    rate: float = 0.1
    names: list[str] = field(default_factory=list)


@dataclass
class Outer:
    steps: int = 3
    mode: Literal["a", "b"] = "a"
    inner: Inner = field(default_factory=Inner)
    note: str | None = None


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("steps: 5\ninner:\n  rate: 1\n  names: [x, y]\n")
    cfg = load_config(Outer, path, ["inner.rate=0.25", "mode=b", "note=hi"])
    assert cfg == Outer(steps=5, mode="b", inner=Inner(rate=0.25, names=["x", "y"]), note="hi")
    assert isinstance(cfg.inner.rate, float)


def test_round_trip(tmp_path):
    cfg = load_config(Outer, None, ["steps=7", "inner.names=[a]"])
    dump_config(cfg, tmp_path / "out.yaml")
    assert load_config(Outer, tmp_path / "out.yaml") == cfg


@pytest.mark.parametrize("overrides, fragment", [
    (["stepz=1"], "unknown config key `stepz`"),
    (["inner.ratio=1"], "unknown config key `inner.ratio`"),
    (["steps=many"], "`steps` must be a int"),
    (["steps=true"], "`steps` must be a int"),
    (["mode=c"], "`mode` must be one of ['a', 'b']"),
    (["inner=3"], "`inner` must be a mapping"),
    (["inner.names=abc"], "`inner.names` must be a list"),
    (["novalue"], "is not `key=value`"),
])
def test_bad_overrides_name_the_key(overrides, fragment):
    with pytest.raises(ConfigError) as err:
        load_config(Outer, None, overrides)
    assert fragment in str(err.value)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(Outer, tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Outer, bad)
    bad.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match="mapping at the top level"):
        load_config(Outer, bad)


def test_serving_config_defaults_and_validation():
    cfg = load_config(ServingConfig, None, ["llm.max_batch_size=16", "llm.max_ongoing_requests=4"])
    assert cfg.llm.max_ongoing_requests == 16  # raised to a whole batch
    assert cfg.host == "127.0.0.1"
    with pytest.raises(ConfigError, match="max_batch_size"):
        load_config(ServingConfig, None, ["llm.max_batch_size=0"])
    with pytest.raises(ConfigError, match="`llm.engine` must be one of"):
        load_config(ServingConfig, None, ["llm.engine=tgi"])
