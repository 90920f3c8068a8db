"""The replay benchmark's core on a tiny synthetic table (no real grid, no Ray)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import compress_replay
from compress.replay import ReplayTable, at_budget, distinct_counts, hv_fractions
from tests.moo.synthetic import replay_table, write_replay_table


def test_lookup_is_exact_or_the_nearest_row() -> None:
    table = ReplayTable.from_dict(replay_table())
    exact = table.lookup({"kind": "a", "level": 3, "flag": True})  # flag inactive for a
    assert (exact.row, exact.exact, exact.distance) == (1, True, 0.0)
    # a/2 is missing: a/1 and a/3 are both |2-1|/(3-1) = 0.5 away; the first row wins
    near = table.lookup({"kind": "a", "level": 2})
    assert (near.row, near.exact, near.distance) == (0, False, 0.5)
    result = table.result(near)
    assert result["f1"] == 2.0 and result["replay_exact"] == 0 and result["replay_row"] == 0


def test_hypervolume_fractions_by_hand() -> None:
    """Max hypervolume 29 (see synthetic.py; b/True is infeasible). After a/1: a/1 dominates
    the baseline, 2*2 = 4. After a/3: 4*5 = 20. After c: 20 + 2*(8-5) = 26."""
    table = ReplayTable.from_dict(replay_table())
    assert table.max_hypervolume() == pytest.approx(29.0)
    assert hv_fractions(table, [0, 1, 4], 29.0) == pytest.approx([4 / 29, 20 / 29, 26 / 29])
    assert hv_fractions(table, [3], 29.0) == pytest.approx([1 / 29])  # infeasible: baseline only
    assert at_budget([0.1, 0.5], 5) == 0.5 and at_budget([], 5) == 0.0
    assert distinct_counts(table.problem, [{"kind": "c"}, {"kind": "a", "level": 1},
                                           {"kind": "c"}]) == [1, 2, 2]


def test_missing_table_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="python -m compress grid --preset grid"):
        ReplayTable.load(tmp_path / "grid.json")
    with pytest.raises(ValueError, match="no `rows`"):
        ReplayTable.from_dict({"problem": replay_table()["problem"]})


def test_benchmark_runs_the_real_searchers_on_the_synthetic_table(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture
                                                                  ) -> None:
    """The benchmark's own code, searchers driven directly (the Tune run is a slow test):
    warm start c, the baseline d known, so at most 5 new configs (a/2 answered by a/1's row)."""
    table = write_replay_table(tmp_path / "grid.json")
    report = compress_replay.main(["--table", str(table), "--driver", "direct", "--methods",
                                   "random,tpe", "--seeds", "3", "--budgets", "2,4,8",
                                   "--out", str(tmp_path / "out")])
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == report
    assert report["max_hv"] == pytest.approx(29.0) and set(report["methods"]) == {"random", "tpe"}
    for row in report["methods"].values():
        assert row["hv_frac"]["2"]["min"] >= 16 / 29  # c (warm start) alone: 2*8 = 16
        assert row["distinct"]["8"] == {"mean": 6.0, "min": 6.0, "max": 6.0}  # then FINISHED
        assert 0 <= row["hv_frac"]["8"]["max"] <= 1.0
    assert (tmp_path / "out" / "replay_hv.png").stat().st_size > 1000
    assert json.loads((tmp_path / "out" / "replay.json").read_text())["rows"] == 5
