"""Typed configs of ``python -m ecoflow`` (YAML + ``key=value`` overrides).

One :class:`EcoflowConfig` serves every command, so ``embed``, ``train`` and ``validate`` of
the same run name read and write the same folder ``results/ecoflow/<name>/``. Presets are
``configs/ecoflow/<preset>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ecoflow.training import TrainConfig
from promptopt.config import BudgetConfig, EvalConfig, TaskConfig
from serving.config import ConfigError, config_file, load_config
from serving.settings import ClientConfig, ServingConfig

PRESET_DIR = Path(__file__).resolve().parents[1] / "configs" / "ecoflow"
COMMANDS = ("embed", "train", "validate", "optimize", "demo")


@dataclass
class EmbedConfig:
    """Which texts make the corpus and how they are encoded.

    Attributes:
        include_bank: the project's seed instructions (:mod:`ecoflow.bank`).
        gsm8k_dir: a folder with ``train.jsonl``; default ``$GSM8K_DIR`` (none: no GSM8K).
        gsm8k_max_questions: cap on GSM8K questions split into sentences.
        files: user text files, one text per line.
        encoder: ``serve`` (the shared ``embed`` app, deployed if needed) or ``fake``
            (a hash encoder for smoke tests; never for a real run).
        batch_size: texts per encode request.
    """

    include_bank: bool = True
    gsm8k_dir: str | None = None
    gsm8k_max_questions: int | None = None
    files: list[str] = field(default_factory=list)
    encoder: Literal["serve", "fake"] = "serve"
    batch_size: int = 256


@dataclass
class ValidateConfig:
    """Sampling a trained flow against the held-out split.

    Attributes:
        num_samples: samples drawn.
        steps: solver steps.
        method: ``euler`` or ``heun``.
        seed: sampling seed.
    """

    num_samples: int = 256
    steps: int = 50
    method: Literal["euler", "heun"] = "heun"
    seed: int = 0


@dataclass
class OptimizeConfig:
    """The guided-flow BO loop (:class:`ecoflow.bo.FlowBO`) of ``optimize``.

    Attributes:
        evaluations: budget of prompt evaluations (each scores one text on the
            ``task.train_size`` problems); the LLM-call budget is ``budget.max_calls``.
        batch_size: ``q``, texts sampled and decoded per guided round.
        max_rounds: last guided round (``null``: until a budget or ``patience`` stops it).
        patience: stop after this many rounds that decoded no new text.
        beta: confidence bound ``mu + sqrt(beta) sigma`` (we maximize accuracy).
        scale: guidance weight ``lambda`` (0: the plain flow, i.e. no guidance).
        zero_fraction: unguided first share of the steps (CFG-Zero*).
        steps: solver steps per sample.
        method: ``euler`` or ``heun``.
        seed: seeds each round's noise and the GP fits.
        initial: texts scored in round 0 besides ``task.baseline``.
        bank_initial: how many seed-bank texts (a seeded draw) join round 0.
        warm_start: a promptopt (or ecoflow) ``events.jsonl``: its ``evaluated`` texts train
            the GP for free. Their scores must come from the same task settings.
        decoder: ``retrieve`` (retrieve-and-rewrite here, through the ``llm`` and ``embed``
            apps) or ``serve`` (the ``embed`` app's ``/v1/decode``: SONAR on GPU clusters).
        bank_sources: corpus sources (``bank``, ``gsm8k``, a file path) the retrieve decoder
            draws neighbours from.
        k: neighbours shown to the LLM per target.
        num_candidates: candidates written per target (the closest is kept).
        temperature: candidate sampling temperature (seeded, so cached and reproducible).
        max_tokens: length cap of one candidate.
    """

    evaluations: int = 24
    batch_size: int = 4
    max_rounds: int | None = None
    patience: int = 3
    beta: float = 1.0
    scale: float = 1.0
    zero_fraction: float = 0.04
    steps: int = 50
    method: Literal["euler", "heun"] = "heun"
    seed: int = 0
    initial: list[str] = field(default_factory=list)
    bank_initial: int = 3
    warm_start: str | None = None
    decoder: Literal["retrieve", "serve"] = "retrieve"
    bank_sources: list[str] = field(default_factory=lambda: ["bank"])
    k: int = 4
    num_candidates: int = 4
    temperature: float = 0.8
    max_tokens: int = 64

    def __post_init__(self) -> None:
        if self.evaluations < 1 or self.batch_size < 1 or self.patience < 1:
            raise ConfigError("`optimize.evaluations`, `optimize.batch_size` and "
                              "`optimize.patience` must be >= 1.")
        if self.bank_initial < 0:
            raise ConfigError("`optimize.bank_initial` must be >= 0.")


@dataclass
class EcoflowConfig:
    """Everything one ecoflow run needs.

    Attributes:
        name: the run name (folder ``results/ecoflow/<name>/``; the resume key).
        serving: the shared apps (the ``embed`` app encodes).
        embed: corpus sources.
        train: flow model and Ray Train settings.
        validate: sample-quality report settings.
        optimize: the BO loop.
        task: GSM8K samples and prompt format (promptopt's: the same evaluation, the same
            shared evaluation table).
        budget: LLM calls / tokens of the optimization (decoding and scoring; the held-out
            report is outside it).
        evaluation: the evaluation table, Ray fan-out and the report's bootstrap.
        scorer: the task model's endpoint (default: the ``llm`` app).
        progress: show progress bars.
    """

    name: str = "ecoflow"
    serving: ServingConfig = field(default_factory=ServingConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    validate: ValidateConfig = field(default_factory=ValidateConfig)
    optimize: OptimizeConfig = field(default_factory=OptimizeConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    scorer: ClientConfig = field(default_factory=ClientConfig)
    progress: bool = True


def load(path: str | None = None, preset: str | None = None,
         overrides: list[str] | tuple[str, ...] = ()) -> EcoflowConfig:
    """The config from a preset and/or a file, then ``key=value`` overrides."""
    return load_config(EcoflowConfig, config_file(PRESET_DIR, path, preset), overrides)
