"""Configs: presets load, bad keys and types are rejected (naming the key) before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from promptopt import __main__ as cli
from promptopt.config import COMMANDS, PRESET_DIR, load
from serving.config import ConfigError


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_a_demo_preset_that_opens_with_its_command(command: str) -> None:
    config = load(command, preset="demo")
    assert config.name == f"{command}-demo"
    first = (PRESET_DIR / f"{command}_demo.yaml").read_text().splitlines()[0]
    assert first.startswith(f"# python -m promptopt {command}")


def test_every_yaml_opens_with_the_command_that_runs_it() -> None:
    for path in PRESET_DIR.glob("*.yaml"):
        assert path.read_text().startswith("# python -m promptopt "), path


def test_overrides_apply_last() -> None:
    config = load("opro", preset="demo", overrides=["opro.steps=5", "budget.max_calls=null"])
    assert config.opro.steps == 5 and config.budget.max_calls is None
    assert config.task.train_size == 16  # from the preset


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["opro.stepz=3"], "opro.stepz"),
        (["opro.steps=many"], "opro.steps"),
        (["task.position=middle"], "task.position"),
        (["protegi.selector=greedy"], "protegi.selector"),
        (["tune.methods=[opro, dspy]"], "tune.methods"),
        (["budget.max_calls=1.5"], "budget.max_calls"),
    ],
)
def test_bad_keys_and_types_are_rejected_naming_the_key(overrides, named) -> None:
    with pytest.raises(ConfigError, match=named.replace(".", r"\.")):
        load("opro", overrides=overrides)


def test_cli_rejects_a_bad_config_before_any_work(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path))
    assert cli.main(["opro", "--preset", "demo", "opro.candidates=4"]) == 2
    assert "opro.candidates" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())  # no run folder, no deployment
    assert cli.main(["opro", "--preset", "nope"]) == 2
