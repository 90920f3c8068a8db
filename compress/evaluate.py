"""``python -m compress evaluate``: compress and measure one config, no search, no Ray."""

from __future__ import annotations

from typing import Any

from compress.config import CompressConfig
from compress.experiment import trial_event, write_results_csv
from compress.trial import run_trial, space_for
from serving.cluster import pin_threads
from serving.runs import RunDir


def run_evaluate(cfg: CompressConfig) -> dict[str, Any]:
    """Measure ``cfg.evaluate``; append it to ``results/compress/<name>/events.jsonl``.

    Raises:
        InvalidConfigError: If the space rejects the config (before any model is loaded).
    """
    space = space_for(cfg)
    spec = space.check(cfg.evaluate)
    run = RunDir("compress", cfg.name)
    threads = pin_threads(cfg.search.trial_cpus)
    trial_id = "evaluate-" + spec.label.replace(" ", "_").replace(":", "").replace("+", "")
    result = run_trial(spec.params(), cfg, run.path / "trials" / trial_id, threads=threads,
                       space=space)
    run.append(trial_event(trial_id, "ok", spec.params(), result))
    write_results_csv(run.path)
    return result
