"""Synthetic experiment folders (test data written by the tests, not results).

Two objectives, maximize ``acc`` and minimize ``lat``, reference point (0, 2). The five
successful trials are hand-made: (0.2, 1.0) (0.4, 1.5) (0.3, 1.8) (0.1, 0.5) (0.4, 1.2);
the front is trials 0, 3 and 5 (t5 beats t1), trial 2 failed.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

OBJECTIVES = {"acc": {"mode": "max", "ref": 0.0}, "lat": {"mode": "min", "ref": 2.0}}
POINTS = {"t0": (0.2, 1.0), "t1": (0.4, 1.5), "t3": (0.3, 1.8), "t4": (0.1, 0.5), "t5": (0.4, 1.2)}


def write_experiment(folder: Path, torn: bool = False, config: bool = True) -> Path:
    """``config.yaml`` (objectives one section down) and ``events.jsonl``; returns folder."""
    folder.mkdir(parents=True, exist_ok=True)
    if config:
        (folder / "config.yaml").write_text(yaml.safe_dump({"search": {"objectives": OBJECTIVES}}))
    lines = [{"event": "start"}]
    for i in range(6):
        tid = f"t{i}"
        cfg = {"method": "nf4" if i % 2 else "int8", "sparsity": i / 10}
        if tid == "t2":
            lines.append({"trial_id": tid, "config": cfg, "error": "simulated failure"})
        else:
            acc, lat = POINTS[tid]
            lines.append({"trial_id": tid, "config": cfg, "metrics": {"acc": acc, "lat": lat}})
    text = "".join(json.dumps(line) + "\n" for line in lines)
    (folder / "events.jsonl").write_text(text + ('{"trial_id": "t6", "conf' if torn else ""))
    return folder


# A replay table (grid.json format) over a small conditional space: kind a (level 1-3), b
# (flag), c, d (the baseline). Maximize f1, minimize f2, reference (0, 10), drop <= 0.5.
# Gains over the reference (f1, 10 - f2): d (1, 1), a/1 (2, 2), a/3 (4, 5), b/False (5, 3),
# b/True (6, 0.5) but infeasible (drop 0.9), c (2, 8); a/2 is not in the table. The front is
# c, a/3, b/False: hypervolume 2*8 + (4-2)*5 + (5-4)*3 = 16 + 10 + 3 = 29.
REPLAY_PROBLEM = {
    "params": {"kind": {"choices": ["a", "b", "c", "d"]},
               "level": {"choices": [1, 2, 3], "when": {"kind": ["a"]}},
               "flag": {"choices": [False, True], "when": {"kind": ["b"]}}},
    "objectives": {"f1": {"mode": "max", "ref": 0.0}, "f2": {"mode": "min", "ref": 10.0}},
    "constraints": ["drop <= 0.5"],
}
REPLAY_ROWS = [
    ({"kind": "a", "level": 1}, 2.0, 8.0, 0.1),
    ({"kind": "a", "level": 3}, 4.0, 5.0, 0.2),
    ({"kind": "b", "flag": False}, 5.0, 7.0, 0.3),
    ({"kind": "b", "flag": True}, 6.0, 9.5, 0.9),
    ({"kind": "c"}, 2.0, 2.0, 0.0),
]


def replay_table() -> dict:
    """The table above as ``python -m compress grid`` writes it (grid.json)."""
    return {
        "format": "rayopt-compress-grid/1", "name": "synthetic", "problem": REPLAY_PROBLEM,
        "baseline": {"params": {"kind": "d"}, "metrics": {"f1": 1.0, "f2": 9.0, "drop": 0.0}},
        "standard": [{"kind": "c"}],
        "rows": [{"trial_id": f"r{i}", "status": "ok", "source": "sobol", "params": p,
                  "metrics": {"f1": f1, "f2": f2, "drop": drop, "f1_sem": 0.1}}
                 for i, (p, f1, f2, drop) in enumerate(REPLAY_ROWS)],
    }


def write_replay_table(path: Path) -> Path:
    path.write_text(json.dumps(replay_table()))
    return path
