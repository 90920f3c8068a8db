"""``python -m compress grid``: the design, the resume rule, the files and the CLI (no Ray;
the measured run is a slow test in test_search_resume.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from compress.__main__ import main
from compress.config import load
from compress.design import all_targets, grid_design, targets_of
from compress.ray_grid import DesignSearcher, grid_document, remaining, write_grid_files
from compress.ray_search import search_problem
from compress.space import build_space
from tests.conftest import GSM8K_DIR


def demo_space() -> Any:
    cfg = load(preset="grid")
    return cfg, build_space(cfg.space.methods, cfg.space.pruning, cfg.space.bits,
                            cfg.space.group_sizes, cfg.space.max_sparsity, cuda=False)


def test_grid_preset_design_covers_the_space() -> None:
    cfg, space = demo_space()
    g = cfg.grid
    design = grid_design(space, cfg.search.warm_start, g.samples, g.seed, g.steps, g.cover,
                         baseline={"method": "none"})
    assert len(design.configs) >= 40 and not design.missing
    n_std = design.sources.count("standard")
    assert n_std == len(cfg.search.warm_start) and design.sources[:n_std] == ["standard"] * n_std
    assert design.sources.count("sobol") == g.samples
    covered = set().union(*(targets_of(space.params, c) for c in design.configs))
    assert covered == all_targets(space.params)  # every method, bits, group, dq, pruning...
    assert {"double_quant=False", "double_quant=True", "pruning='nm_2_4'",
            "sparsity in Q4", "bits=2", "group_size=32"} <= covered
    keys = [json.dumps(c, sort_keys=True) for c in design.configs]
    assert len(keys) == len(set(keys))
    assert {"method": "none", "pruning": "none"} not in design.configs  # the baseline
    assert all(d["reason"].startswith("duplicate of") for d in design.dropped)
    for c in design.configs:
        space.check(c)
        if "sparsity" in c:
            assert round(c["sparsity"] / 0.05, 9).is_integer()
    again = grid_design(space, cfg.search.warm_start, g.samples, g.seed, g.steps, g.cover,
                        baseline={"method": "none"})
    assert again.configs == design.configs  # seeded


def test_invalid_standard_configs_are_dropped_with_the_reason() -> None:
    _, space = demo_space()
    design = grid_design(space, [{"method": "bnb_int8", "double_quant": True},
                                 {"method": "bnb_int8"}, {"method": "bnb_int8"}], 0, cover=False)
    assert design.configs == [{"method": "bnb_int8", "pruning": "none"}]
    assert "bnb_nf4 / bnb_fp4 only" in design.dropped[0]["reason"]
    assert design.dropped[1]["reason"] == "duplicate of standard #0"


def test_design_searcher_hands_out_the_configs_then_finishes() -> None:
    searcher = DesignSearcher([{"method": "rtn"}, {"method": "none"}], ["a"], ["max"])
    assert searcher.suggest("t0") == {"method": "rtn"}
    restored = DesignSearcher([], ["a"], ["max"])
    restored.set_state(json.loads(json.dumps(searcher.get_state())))
    assert restored.suggest("t1") == {"method": "none"} and restored.suggest("t2") == "FINISHED"


def test_resume_skips_measured_configs_and_files_hold_the_table(tmp_path: Path) -> None:
    cfg, space = demo_space()
    problem = search_problem(cfg, space)
    design = grid_design(space, cfg.search.warm_start[:3], 0, cover=False)
    events = [
        {"event": "trial", "trial_id": "baseline", "status": "ok",
         "params": {"method": "none", "pruning": "none"}, "metrics": {"disk_mb": 540.0}},
        {"event": "trial", "trial_id": "x1", "status": "ok",
         "params": {"method": "bnb_int8", "pruning": "none"}, "metrics": {"disk_mb": 160.0}},
        {"event": "trial", "trial_id": "x2", "status": "error",
         "params": {"method": "bnb_nf4", "double_quant": False, "pruning": "none"},
         "metrics": {}, "error": "boom"},
    ]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    p = SimpleNamespace(problem=problem, run=SimpleNamespace(path=tmp_path))
    todo = remaining(design, tmp_path, p)  # type: ignore[arg-type]
    assert todo == design.configs[1:]  # bnb_int8 is done; the failed nf4 runs again
    doc = grid_document(cfg, p, design)  # type: ignore[arg-type]
    assert doc["baseline"]["metrics"] == {"disk_mb": 540.0}
    assert [r["trial_id"] for r in doc["rows"]] == ["x1"] and doc["rows"][0]["source"] == "standard"
    assert doc["problem"] == problem.to_dict() and len(doc["commit"]) == 40
    assert doc["machine"]["cores"] and doc["standard"] == design.configs
    json_path, csv_path = write_grid_files(tmp_path, doc)
    assert json.loads(json_path.read_text())["rows"][0]["metrics"]["disk_mb"] == 160.0
    rows = list(csv.DictReader(csv_path.open()))
    assert rows == [{"trial_id": "x1", "source": "standard", "method": "bnb_int8",
                     "pruning": "none", "disk_mb": "160.0"}]


def test_cli_grid_copy_to(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture,
                          tmp_path: Path) -> None:
    seen = {}

    def fake_run_grid(cfg: Any) -> dict[str, Any]:
        seen["cfg"] = cfg
        return {"name": cfg.name, "copy_to": cfg.grid.copy_to}

    monkeypatch.setattr("compress.ray_grid.run_grid", fake_run_grid)
    assert main(["grid", "--preset", "grid", "--copy-to", str(tmp_path), "grid.samples=41",
                 f"eval.gsm8k_dir={GSM8K_DIR}"]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {"name": "grid", "copy_to": str(tmp_path)} and seen["cfg"].grid.samples == 41
    assert main(["grid", "--preset", "grid", "grid.samples=-1",
                 f"eval.gsm8k_dir={GSM8K_DIR}"]) == 2
    assert "`grid.samples` must be >= 0" in capsys.readouterr().err
