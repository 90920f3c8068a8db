"""Config, CLI and bad input: clear errors before any model is loaded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compress.__main__ import main
from compress.config import PRESET_DIR, load
from compress.experiment import parse_constraint, violated, write_results_csv
from compress.ray_search import plan_resources
from compress.space import build_space
from moo.searchers import SEARCHERS, Objective, make_searcher
from serving.config import ConfigError
from tests.conftest import GSM8K_DIR

GSM8K = GSM8K_DIR


@pytest.mark.parametrize("preset", sorted(p.stem for p in PRESET_DIR.glob("*.yaml")))
def test_presets_load_and_open_with_their_command(preset: str) -> None:
    cfg = load(preset=preset)
    assert cfg.search.searcher in SEARCHERS
    assert len(cfg.search.objectives) <= 4
    assert (PRESET_DIR / f"{preset}.yaml").read_text().startswith("# python -m compress")


def test_malformed_config_named(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("search: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load(str(bad))
    with pytest.raises(ConfigError, match="unknown config key `search.num_sample`"):
        load(overrides=["search.num_sample=3"])
    with pytest.raises(ConfigError, match="`search.objectives\\[0\\].mode` must be one of"):
        load(overrides=["search.objectives=[{name: a, mode: up, ref: 1}]"])
    assert main(["search", "--config", str(bad)]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_missing_gsm8k_is_a_config_error(monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    monkeypatch.delenv("GSM8K_DIR", raising=False)
    assert main(["evaluate"]) == 2
    assert "GSM8K_DIR" in capsys.readouterr().err
    assert main(["evaluate", f"eval.gsm8k_dir={tmp_path}"]) == 2
    assert "has no train.jsonl" in capsys.readouterr().err


def test_evaluate_rejects_invalid_and_excluded_configs(capsys: pytest.CaptureFixture) -> None:
    assert main(["evaluate", f"eval.gsm8k_dir={GSM8K}",
                 "evaluate={method: gptq, bits: 4, group_size: 64}"]) == 2
    assert "excluded here" in capsys.readouterr().err
    assert main(["evaluate", f"eval.gsm8k_dir={GSM8K}",
                 "evaluate={method: bnb_int8, double_quant: true}"]) == 2
    assert "bnb_nf4 / bnb_fp4 only" in capsys.readouterr().err


def test_report_needs_an_experiment(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["report", str(tmp_path)]) == 2
    assert "no events.jsonl" in capsys.readouterr().err


def test_plan_resources_one_trial_per_gpu_or_per_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    cfg = load()
    # local Ray on 2 cores advertises 4 logical CPUs: one trial, 2 threads
    assert plan_resources(cfg, {"CPU": 4.0}, cores=2) == ({"cpu": 2.0, "gpu": 0.0}, 1, 2)
    # a cluster: 64 CPUs, 8 GPUs → one trial per GPU with 8 CPUs each
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.1:6379")
    assert plan_resources(cfg, {"CPU": 64.0, "GPU": 8.0}, cores=16) == (
        {"cpu": 8.0, "gpu": 1.0}, 8, 8)
    cfg.search.max_concurrent = 3
    assert plan_resources(cfg, {"CPU": 64.0, "GPU": 8.0}, cores=16)[1] == 3


def test_constraints_and_results_csv(tmp_path: Path) -> None:
    c = parse_constraint("accuracy_drop <= 0.1")
    assert violated({"accuracy_drop": 0.05}, [c]) == []
    assert violated({"accuracy_drop": 0.2}, [c]) == ["accuracy_drop <= 0.1"]
    assert violated({}, [c]) == ["accuracy_drop <= 0.1"]
    with pytest.raises(ValueError, match="metric <= bound"):
        parse_constraint("accuracy_drop < 0.1")
    events = [
        {"event": "trial", "trial_id": "a", "status": "ok", "params": {"method": "none"},
         "metrics": {"accuracy": 0.5}},
        {"event": "trial", "trial_id": "b", "status": "error", "params": {"method": "rtn"},
         "metrics": {}, "error": "boom"},
        {"event": "trial", "trial_id": "a", "status": "ok", "params": {"method": "none"},
         "metrics": {"accuracy": 0.6, "disk_mb": 3.0}},
    ]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    rows = write_results_csv(tmp_path).read_text().splitlines()
    assert rows == ["trial_id,status,error,method,accuracy,disk_mb", "b,error,boom,rtn,,",
                    "a,ok,,none,0.6,3.0"]


def test_searcher_registry() -> None:
    assert {"ax", "nsga2", "tpe", "gp", "random"} <= set(SEARCHERS)
    problem = build_space(cuda=False).problem([Objective("accuracy", "max", 0.0)])
    with pytest.raises(ValueError, match="unknown searcher `cmaes`"):
        make_searcher("cmaes", problem)
    assert make_searcher("random", problem, seed=0).suggest("t0")["method"] in (
        "none", "bnb_int8", "bnb_nf4", "bnb_fp4", "rtn")


def test_report_rewrites_tables_and_front(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from serving.config import dump_config

    cfg = load(overrides=["search.objectives=[{name: accuracy, mode: max, ref: 0.0}, "
                          "{name: disk_mb, mode: min, ref: 100.0}]"])
    dump_config(cfg, tmp_path / "config.yaml")
    events = [{"event": "trial", "trial_id": t, "status": "ok", "params": {"method": m},
               "metrics": {"accuracy": a, "disk_mb": d}}
              for t, m, a, d in [("baseline", "none", 0.6, 80.0), ("a", "bnb_int8", 0.5, 40.0),
                                 ("b", "rtn", 0.4, 60.0)]]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    assert main(["report", str(tmp_path)]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    # b is dominated by a; hypervolume by hand: 0.6*(100-80) + 0.5*(80-40) = 12 + 20 = 32
    assert out["front"] == [0, 1] and out["hypervolume"] == pytest.approx(32.0)
    assert (tmp_path / "results.csv").exists() and (tmp_path / "pareto.png").exists()
