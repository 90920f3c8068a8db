"""Pareto report of an experiment folder: exact front, crowding and hypervolume curve."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from moo.report import load_experiment, parse_objectives, trial_rows, write_pareto_artifacts
from tests.moo.synthetic import write_experiment


def test_summary_is_exact_on_hand_made_points(tmp_path: Path) -> None:
    summary = load_experiment(write_experiment(tmp_path / "exp", torn=True))
    assert summary["n_trials"] == 6 and summary["n_failed"] == 1
    assert [summary["trials"][i]["trial_id"] for i in summary["front"]] == ["t0", "t4", "t5"]
    # Front sorted by acc: t4 (0.1, 0.5), t0 (0.2, 1.0), t5 (0.4, 1.2); t0 is interior:
    # (0.4 - 0.1) / 0.3 + (1.2 - 0.5) / 0.7 = 2.
    assert summary["crowding_distance"] == [pytest.approx(2.0), None, None]
    # Hypervolume against (0, 2) after each trial (maximize acc, minimize lat):
    # t0: 0.2*1.0; t1: 0.4*0.5 + 0.2*0.5 = 0.3; t2 failed; t3 dominated by t1;
    # t4 adds 0.1*0.5; t5: 0.4*0.8 + (0.2-0)*0.2 + 0.1*0.5 = 0.41.
    assert summary["hypervolume_curve"] == pytest.approx([0.2, 0.3, 0.3, 0.3, 0.35, 0.41])
    assert summary["ref_point"] == {"acc": 0.0, "lat": 2.0}
    assert summary["trials"][2]["error"] == "simulated failure"


def test_write_artifacts_and_reuse_pareto_json(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path / "exp")
    write_pareto_artifacts(folder)
    for name in ("pareto.json", "pareto.html", "pareto.png"):
        assert (folder / name).stat().st_size > 1000, name
    data = json.loads((folder / "pareto.json").read_text())
    assert data["front"] == [0, 4, 5] and data["hypervolume"] == pytest.approx(0.41)
    assert "plotly" in (folder / "pareto.html").read_text()[:200_000]
    # Without config.yaml the objectives (and the configured reference) come from pareto.json.
    (folder / "config.yaml").unlink()
    assert load_experiment(folder)["hypervolume"] == pytest.approx(0.41)


def test_missing_reference_uses_worst_observed_and_says_so() -> None:
    rows = trial_rows(
        [{"event": "trial", "params": {"m": "a"}, "acc": 0.5, "tok": 10.0},
         {"event": "trial", "params": {"m": "b"}, "acc": 0.2, "tok": 30.0}],
        ["acc", "tok"],
    )  # fmt: skip
    from moo.report import experiment_summary

    summary = experiment_summary(rows, parse_objectives({"acc": "max", "tok": "min"}))
    assert summary["ref_point"] == {"acc": 0.2, "tok": 30.0}
    assert summary["ref_point_source"]["tok"].startswith("worst observed")
    assert summary["front"] == [0] and summary["hypervolume"] == pytest.approx(0.3 * 20)


def test_bad_inputs_give_clear_errors(tmp_path: Path) -> None:
    folder = write_experiment(tmp_path / "noconf", config=False)
    with pytest.raises(ValueError, match="no `objectives`"):
        load_experiment(folder)
    bad = write_experiment(tmp_path / "bad")
    lines = (bad / "events.jsonl").read_text().splitlines()
    (bad / "events.jsonl").write_text("\n".join([lines[0], "{oops", *lines[1:]]) + "\n")
    with pytest.raises(ValueError, match="events.jsonl:2 is not valid JSON"):
        load_experiment(bad)
    with pytest.raises(ValueError, match="'max' or 'min'"):
        parse_objectives({"acc": "up"})


def test_three_objectives_get_every_pair_and_a_3d_view() -> None:
    from moo.figures import figures
    from moo.report import experiment_summary

    events = [{"trial_id": str(i), "config": {"k": i}, "metrics": m} for i, m in enumerate(
        [{"a": 1.0, "b": 2.0, "c": 2.0}, {"a": 2.0, "b": 1.0, "c": 3.0}, {"a": 0.5, "b": 3.0, "c": 4.0}]
    )]  # fmt: skip
    objectives = parse_objectives({"a": {"mode": "max", "ref": 0.0}, "b": "min", "c": "min"})
    summary = experiment_summary(trial_rows(events, ["a", "b", "c"]), objectives)
    assert summary["front"] == [0, 1]  # trial 2 is dominated by trial 0
    pairs, view3d, curve = figures(summary)
    assert {t.xaxis for t in pairs.data} == {"x", "x2", "x3"}  # (a,b) (a,c) (b,c)
    assert [t.type for t in view3d.data] == ["scatter3d", "scatter3d"]
    assert "trial 0<br>k=0" in pairs.data[1].text[0]  # hover shows the config
    assert list(curve.data[0].y) == summary["hypervolume_curve"]


def test_infeasible_trials_are_shown_but_not_on_the_front(tmp_path: Path) -> None:
    """A trial breaking an outcome constraint (``feasible: 0``) would dominate everything."""
    folder = write_experiment(tmp_path / "exp")
    with (folder / "events.jsonl").open("a") as f:
        # as a Tune trial reports it: the broken constraints joined into one string
        metrics = {"acc": 0.9, "lat": 0.1, "feasible": 0, "violated": "drop <= 0.1"}
        f.write(json.dumps({"event": "trial", "trial_id": "t6", "params": {}, "metrics": metrics}))
        f.write("\n")
    summary = write_pareto_artifacts(folder)
    assert summary["n_infeasible"] == 1 and summary["front"] == [0, 4, 5]
    assert summary["trials"][-1]["violated"] == ["drop <= 0.1"]
    assert summary["hypervolume_curve"][-2:] == pytest.approx([0.41, 0.41])
    from moo.figures import figures

    infeasible = figures(summary)[0].data[0]
    assert infeasible.name == "infeasible" and infeasible.marker.symbol == "x"
    assert "violates drop <= 0.1" in infeasible.text[0]


def test_front_within_noise_and_error_bars(tmp_path: Path) -> None:
    """The synthetic front t0 (0.2, 1.0), t4 (0.1, 0.5), t5 (0.4, 1.2) with SEMs: t5 gets
    acc_sem 0.05 and lat_sem 0.2, t0 acc_stderr 0.02 and lat_sem 0.1, t4 none. t5 vs t0: +0.2
    accuracy > 2 * sqrt(0.05^2 + 0.02^2) = 0.108 (real), 0.2 slower < 2 * sqrt(0.1^2 + 0.2^2)
    = 0.447 (noise): t0 is on the front only within noise of t5. t4 is 0.1 less accurate
    than t0, more than 2 * 0.02: a real advantage of t0, so t4 does not mark it."""
    folder = write_experiment(tmp_path / "exp")
    lines = [json.loads(x) for x in (folder / "events.jsonl").read_text().splitlines()]
    for line in lines:
        if line.get("trial_id") == "t5":
            line["metrics"].update({"acc_sem": 0.05, "lat_sem": 0.2})
        if line.get("trial_id") == "t0":
            line["metrics"].update({"acc_stderr": 0.02, "lat_sem": 0.1})
    (folder / "events.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    summary = write_pareto_artifacts(folder)
    assert summary["front"] == [0, 4, 5] and summary["front_within_noise"] == [0]
    assert summary["trials"][0]["within_noise_of"] == ["t5"]
    assert summary["trials"][0]["sems"] == [0.02, 0.1] and summary["trials"][4]["sems"] == [None, None]
    assert summary["hypervolume"] == pytest.approx(0.41)  # from the means, as before
    from moo.figures import figures

    traces = {t.name: t for t in figures(summary)[0].data}
    assert set(traces) == {"dominated", "Pareto front", "front (within noise)"}
    noisy = traces["front (within noise)"]
    assert noisy.marker.symbol == "circle-open" and list(noisy.error_y.array) == [0.2]
    assert list(traces["Pareto front"].error_x.array) == pytest.approx([0.0, 0.1])  # t4, t5
    assert (folder / "pareto.png").stat().st_size > 1000
