"""Typed config of ``python -m compress`` (YAML + ``key=value`` overrides).

Presets: ``configs/compress/<preset>.yaml`` (``--preset demo``). Unknown keys and wrong types
are rejected by :func:`serving.config.load_config` before any work starts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from compress.methods import PRUNING_METHODS, QUANT_METHODS
from compress.space import BITS, GROUP_SIZES
from serving.config import ConfigError, config_file, load_config

PRESET_DIR = Path(__file__).resolve().parents[1] / "configs" / "compress"
COMMANDS = ("search", "grid", "evaluate", "report", "dashboard")


@dataclass
class EvalConfig:
    """lm-eval on the local GSM8K tasks (see :mod:`compress.measure.lmeval`).

    Attributes:
        gsm8k_dir: Folder with ``train.jsonl``/``test.jsonl`` (default ``$GSM8K_DIR``).
        tasks: Any of ``rayopt_gsm8k``, ``rayopt_gsm8k_match``, ``rayopt_gsm8k_ppl``.
        gsm8k_limit: Test problems for the generative GSM8K task (null = all 1319).
        match_limit: Items for the solution-matching task.
        ppl_limit: Solutions for the perplexity task.
        num_fewshot: GSM8K few-shot examples (lm-eval's gsm8k uses 5).
        max_gen_toks: GSM8K answer length cap.
        batch_size: lm-eval batch size.
    """

    gsm8k_dir: str | None = None
    tasks: list[str] = field(default_factory=lambda: [
        "rayopt_gsm8k", "rayopt_gsm8k_match", "rayopt_gsm8k_ppl"])
    gsm8k_limit: int | None = 100
    match_limit: int | None = 200
    ppl_limit: int | None = 100
    num_fewshot: int = 5
    max_gen_toks: int = 256
    batch_size: int = 8

    def resolved_gsm8k_dir(self) -> str:
        """``gsm8k_dir`` or ``$GSM8K_DIR``; raises :class:`ConfigError` naming the fix."""
        path = self.gsm8k_dir or os.environ.get("GSM8K_DIR")
        if not path:
            raise ConfigError("set `eval.gsm8k_dir` or GSM8K_DIR to a folder with GSM8K's "
                              "train.jsonl and test.jsonl.")
        if not (Path(path) / "test.jsonl").is_file() or not (Path(path) / "train.jsonl").is_file():
            raise ConfigError(f"GSM8K folder `{path}` (eval.gsm8k_dir / GSM8K_DIR) has no "
                              "train.jsonl and test.jsonl.")
        return path

    def limits(self) -> dict[str, int | None]:
        """Samples per task name."""
        return {"rayopt_gsm8k": self.gsm8k_limit, "rayopt_gsm8k_match": self.match_limit,
                "rayopt_gsm8k_ppl": self.ppl_limit}


@dataclass
class LatencyConfig:
    """Prefill and decode timing (see :mod:`compress.measure.latency`).

    Attributes:
        batch_sizes: Batch sizes timed (``decode_tps_b{n}`` per size).
        prompt_tokens: Prompt length.
        new_tokens: Tokens generated per repeat.
        repeats: Timed repeats per batch size: each metric is their median, with
            ``_min``/``_max``/``_sem`` beside it (the SEM needs 2 or more; use 3+).
    """

    batch_sizes: list[int] = field(default_factory=lambda: [1, 8])
    prompt_tokens: int = 128
    new_tokens: int = 32
    repeats: int = 3

    def __post_init__(self) -> None:
        if self.repeats < 1:
            raise ConfigError("`latency.repeats` must be >= 1 (3 or more give a standard "
                              "error: `<metric>_sem`).")


@dataclass
class EnergyConfig:
    """codecarbon ``OfflineEmissionsTracker`` settings."""

    country_iso_code: str = "USA"
    measure_power_secs: float = 1.0


@dataclass
class SpaceConfig:
    """What the search may choose from (see :func:`compress.space.build_space`)."""

    methods: list[str] = field(default_factory=lambda: list(QUANT_METHODS))
    pruning: list[str] = field(default_factory=lambda: list(PRUNING_METHODS))
    bits: list[int] = field(default_factory=lambda: list(BITS))
    group_sizes: list[int] = field(default_factory=lambda: list(GROUP_SIZES))
    max_sparsity: float = 0.7


@dataclass
class ObjectiveConfig:
    """One objective: a result metric, its direction and its reference-point value."""

    name: str
    mode: Literal["max", "min"]
    ref: float


@dataclass
class SearchConfig:
    """The Tune search.

    Attributes:
        searcher: A name in :data:`moo.searchers.registry.SEARCHERS` (ax, nsga2, tpe,
            gp, random, and llm where the coordinator is installed).
        searcher_options: Extra keyword arguments for that searcher's factory.
        num_samples: Trials (the baseline measurement is extra).
        seed: Seeds the searcher.
        objectives: At most 4 for Ax; ``ref`` values form the hypervolume reference point.
        constraints: Outcome constraints like ``accuracy_drop <= 0.1``.
        accuracy_metric: The result metric reported as ``accuracy`` (``accuracy_drop`` is
            the baseline's minus this trial's).
        warm_start: Configs evaluated first (checked against the space).
        trial_cpus: Logical CPUs per trial (threads are pinned to the physical share).
        trial_gpus: GPUs per trial.
        max_concurrent: Cap on concurrent trials (null: as many as resources allow).
        initialization_budget: Ax's Sobol trials before modelling, for ``ax`` and ``llm``
            (null: Ax's default).
        repeats: Times one config may be measured (1: a config already measured, the
            baseline included, is never measured again; the searcher proposes the nearest
            new config instead). Failed trials count.
    """

    searcher: str = "ax"
    searcher_options: dict[str, Any] = field(default_factory=dict)
    num_samples: int = 24
    seed: int = 0
    objectives: list[ObjectiveConfig] = field(default_factory=lambda: [
        ObjectiveConfig("accuracy", "max", 0.3),
        ObjectiveConfig("decode_tps_b1", "max", 1.0),
        ObjectiveConfig("peak_mem_mb", "min", 2000.0),
        ObjectiveConfig("disk_mb", "min", 1000.0),
    ])
    constraints: list[str] = field(default_factory=lambda: ["accuracy_drop <= 0.1"])
    accuracy_metric: str = "match_acc_norm"
    warm_start: list[dict[str, Any]] = field(default_factory=lambda: [
        {"method": "bnb_int8"}, {"method": "bnb_nf4", "double_quant": False},
        {"method": "rtn", "bits": 8, "group_size": 128}])
    trial_cpus: float | None = None
    trial_gpus: float = 0.0
    max_concurrent: int | None = None
    initialization_budget: int | None = None
    repeats: int = 1

    def __post_init__(self) -> None:
        if self.num_samples < 1:
            raise ConfigError("`search.num_samples` must be >= 1.")
        if self.repeats < 1:
            raise ConfigError("`search.repeats` must be >= 1 (runs allowed per config).")
        if not self.objectives:
            raise ConfigError("`search.objectives` needs at least one objective.")


@dataclass
class GridConfig:
    """``python -m compress grid``: a fixed design measured like a search.

    The design is ``search.warm_start`` (the standard configs) followed by a scrambled
    Sobol sample over the space's own encoding, then topped up from the same Sobol
    sequence until every choice value and every quarter of each range is covered
    (:func:`compress.design.grid_design`).

    Attributes:
        samples: Sobol configs drawn (duplicates and invalid ones are dropped, logged).
        seed: Seeds the scrambled Sobol sequence.
        steps: Grid steps of range parameters (``{sparsity: 0.05}``: sparsity levels).
        cover: Top up the design until every choice value and range quarter is covered.
        copy_to: Also copy ``grid.json`` and ``grid.csv`` into this folder
            (``benchmarks/data/``); ``--copy-to`` on the command line sets it.
    """

    samples: int = 40
    seed: int = 0
    steps: dict[str, float] = field(default_factory=lambda: {"sparsity": 0.05})
    cover: bool = True
    copy_to: str | None = None

    def __post_init__(self) -> None:
        if self.samples < 0:
            raise ConfigError("`grid.samples` must be >= 0.")
        for name, step in self.steps.items():
            if not step > 0:
                raise ConfigError(f"`grid.steps.{name}` must be > 0, got {step}.")


@dataclass
class CompressConfig:
    """Everything ``python -m compress`` reads.

    Attributes:
        name: Experiment name: ``results/compress/<name>/`` (the resume key).
        model: An alias (``smollm2-135m-instruct``), a local folder or a hub id.
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda``.
        calib_samples: GSM8K train problems for Wanda/GPTQ/AWQ calibration.
        calib_seq_len: Tokens per calibration window.
        keep_models: Keep each trial's compressed model folder (they are deleted after
            measuring otherwise: only the measurements are kept).
        grid: ``grid``: the fixed design measured for the replay benchmark.
        evaluate: ``evaluate``: the one compression config to measure.
    """

    name: str = "default"
    model: str = "smollm2-135m-instruct"
    device: Literal["auto", "cpu", "cuda"] = "auto"
    calib_samples: int = 32
    calib_seq_len: int = 256
    keep_models: bool = False
    eval: EvalConfig = field(default_factory=EvalConfig)
    latency: LatencyConfig = field(default_factory=LatencyConfig)
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    space: SpaceConfig = field(default_factory=SpaceConfig)
    search: SearchConfig = field(default_factory=SearchConfig)
    grid: GridConfig = field(default_factory=GridConfig)
    evaluate: dict[str, Any] = field(default_factory=lambda: {"method": "bnb_int8"})


def load(path: str | None = None, preset: str | None = None,
         overrides: list[str] | tuple[str, ...] = ()) -> CompressConfig:
    """Load a config from ``--config``, or ``--preset`` (``configs/compress/<preset>.yaml``).

    Raises:
        ConfigError: Unknown preset, unknown key, wrong type.
    """
    return load_config(CompressConfig, config_file(PRESET_DIR, path, preset), overrides)
