"""``python -m ecoflow demo``: embed → train → validate, each skipped when done, then optimize.

Its own module because it chains :mod:`ecoflow.jobs` and :mod:`ecoflow.optimize`, which
imports ``jobs`` (so ``jobs`` cannot import ``optimize`` back).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ecoflow.config import EcoflowConfig
from ecoflow.jobs import run_embed, run_train, run_validate
from ecoflow.optimize import run_optimize
from serving.runs import RunDir

log = logging.getLogger(__name__)

STAGES = (("embed", "corpus.pt"), ("train", "model.pt"), ("validate", "validation.json"))


def run_demo(config: EcoflowConfig) -> dict[str, Any]:
    """The whole chain: each of embed → train → validate that has not written its output yet,
    then ``optimize`` (which resumes, so the same command continues a killed demo)."""
    run = RunDir("ecoflow", config.name)
    run.save_config(config)
    stages = {"embed": run_embed, "train": run_train, "validate": run_validate}
    out: dict[str, Any] = {"stages_s": {}}
    for stage, output in STAGES:
        if (run.path / output).is_file():
            log.info("demo: %s already done (%s exists); skipping it", stage, output)
            continue
        t0 = time.perf_counter()
        out[stage] = stages[stage](config)
        out["stages_s"][stage] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    out["optimize"] = run_optimize(config)
    out["stages_s"]["optimize"] = round(time.perf_counter() - t0, 1)
    run.write_json("demo.json", out)
    return out
