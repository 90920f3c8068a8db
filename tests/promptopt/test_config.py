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
        text = path.read_text()
        assert text.startswith(("# python -m promptopt ", "# python benchmarks/")), path


def test_overrides_apply_last() -> None:
    config = load("opro", preset="demo", overrides=["opro.steps=5", "budget.max_calls=null"])
    assert config.opro.steps == 5 and config.budget.max_calls is None
    assert config.task.train_size == 20 and config.task.name == "sentiment"  # from the preset


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (["opro.stepz=3"], "opro.stepz"),
        (["opro.steps=many"], "opro.steps"),
        (["task.position=middle"], "task.position"),
        (["protegi.selector=greedy"], "protegi.selector"),
        (["tune.methods=[opro, dspy]"], "tune.methods"),
        (["budget.max_calls=1.5"], "budget.max_calls"),
        (["tune.protegi_c=[2.0, 0.5]"], "tune.protegi_c"),
        (["tune.opro_num_buckets=[10]"], "tune.opro_num_buckets"),
        (["tune.sampler=cmaes"], "tune.sampler"),
        (["editor.modle=x"], "editor.modle"),
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


def test_tune_ranges_and_the_editor_endpoint_come_from_the_config() -> None:
    from promptopt.ray_tune import search_problem

    config = load("tune", preset="demo", overrides=[
        "tune.protegi_beam_width=[2, 5]", "tune.opro_num_buckets=[5, 20, 50]",
        "editor.base_url=http://127.0.0.1:9/v1", "editor.model=edit-model",
    ])  # fmt: skip
    params = {p.name: p for p in search_problem(config.tune).params}
    assert (params["beam_width"].low, params["beam_width"].high) == (2, 5)
    assert params["num_buckets"].choices == (5, 20, 50)
    assert config.editor.model == "edit-model" and config.optimizer.model is None
    assert load("protegi", preset="demo").editor is None  # default: the optimizer's endpoint


def test_an_endpoint_that_is_down_is_a_clear_error_and_the_run_resumes_later(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from tests.conftest import INDUCTION_DIR, free_port

    monkeypatch.setenv("RAYOPT_RESULTS_DIR", str(tmp_path))
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    args = ["opro", "--preset", "demo", "deploy=false", f"scorer.base_url={url}",
            f"optimizer.base_url={url}", "scorer.model=m", "optimizer.model=m",
            "scorer.max_retries=1", "scorer.timeout_s=5", f"task.data_dir={INDUCTION_DIR}",
            f"scorer.cache_path={tmp_path / 'c.sqlite'}", "progress=false"]  # fmt: skip
    assert cli.main(args) == 3
    err = capsys.readouterr().err
    assert "endpoint unavailable" in err and url in err and "resume" in err
    assert (tmp_path / "promptopt" / "opro-demo" / "config.yaml").is_file()
