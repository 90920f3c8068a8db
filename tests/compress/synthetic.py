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
