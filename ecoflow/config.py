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
from promptopt.config import BudgetConfig, EvalConfig, PromptOptConfig, TaskConfig
from serving.config import ConfigError, config_file, load_config
from serving.settings import ClientConfig, ServingConfig

PRESET_DIR = Path(__file__).resolve().parents[1] / "configs" / "ecoflow"
COMMANDS = ("embed", "train", "validate", "optimize", "demo")


@dataclass
class EmbedConfig:
    """Which texts make the corpus and how they are encoded.

    The defaults follow ``task.name`` (:mod:`ecoflow.sources`): on ``gsm8k``, the GSM8K bank
    and GSM8K question sentences; on every other task, the generic bank plus instructions
    induced from the task's training examples. The task's reference instructions join only
    when ``include_references`` says so.

    Attributes:
        include_bank: a seed bank (:mod:`ecoflow.bank`), source ``bank``.
        bank: which one: ``gsm8k`` (math word problems) or ``generic`` (task-agnostic
            styles); ``null``: ``gsm8k`` on task gsm8k, ``generic`` on every other task.
        gsm8k_dir: a folder with GSM8K's ``train.jsonl`` whose question sentences join
            (source ``gsm8k``); ``null``: on task gsm8k ``task.data_dir`` or ``$GSM8K_DIR``,
            on other tasks none.
        gsm8k_max_questions: cap on GSM8K questions split into sentences.
        induced: instructions induced from the task's train split by the served LLM with
            APE's forward template (source ``induced``; 0: off; ``null``: 0 on gsm8k and
            32 on every other task). The requests are seeded (rerun: the response cache
            answers) and counted in the corpus metadata (``meta.induced.calls``); ``embed``
            does not charge them to ``budget.max_calls``, the equal-budget benchmark does.
        induce_demos: demonstrations shown per induction request.
        induce_per_call: replies sampled per induction request (one LLM call).
        induce_temperature: sampling temperature of the induction requests.
        induce_max_tokens: length cap of one induced reply.
        include_references: the task's reference instructions (written by people) join the
            corpus as source ``references``: the flow trains on them and the default
            ``optimize.bank_sources`` lets the decoder retrieve them. Off by default: they
            are a baseline to beat, never silently part of a search bank.
        seed: seeds the induction requests and their demonstration draws.
        files: user text files, one text per line (source: the path).
        encoder: ``serve`` (the shared ``embed`` app, deployed if needed) or ``fake``
            (a hash encoder for smoke tests; never for a real run).
        batch_size: texts per encode request.
    """

    include_bank: bool = True
    bank: Literal["gsm8k", "generic"] | None = None
    gsm8k_dir: str | None = None
    gsm8k_max_questions: int | None = None
    induced: int | None = None
    induce_demos: int = 5
    induce_per_call: int = 4
    induce_temperature: float = 0.9
    induce_max_tokens: int = 64
    include_references: bool = False
    seed: int = 0
    files: list[str] = field(default_factory=list)
    encoder: Literal["serve", "fake"] = "serve"
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.induced is not None and self.induced < 0:
            raise ConfigError(f"`embed.induced` must be >= 0 (0: off), got {self.induced}.")
        if self.induce_demos < 1 or self.induce_per_call < 1 or self.induce_max_tokens < 1:
            raise ConfigError("`embed.induce_demos`, `embed.induce_per_call` and "
                              "`embed.induce_max_tokens` must be >= 1.")


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
            ``task.train_size`` examples); the LLM-call budget is ``budget.max_calls``.
        batch_size: ``q``, texts sampled and decoded per guided round.
        max_rounds: last guided round (``null``: until a budget or ``patience`` stops it).
        patience: stop after this many rounds that decoded no new text.
        beta: confidence bound ``mu + sqrt(beta) sigma`` (we maximize accuracy).
        scale: guidance weight ``lambda`` (0: the plain flow, i.e. no guidance).
        zero_fraction: unguided first share of the steps (CFG-Zero*).
        steps: solver steps per sample.
        method: ``euler`` or ``heun``.
        seed: seeds each round's noise and the GP fits.
        initial: texts scored in round 0 besides the task's starting instructions
            (promptopt's: ``task.initial``, default the baseline, plus the references only
            when ``task.include_references``).
        bank_initial: how many corpus texts of ``bank_sources`` (a seeded draw) join round 0.
        warm_start: a promptopt (or ecoflow) ``events.jsonl``: its ``evaluated`` texts train
            the GP for free. Their scores must come from the same task settings.
        decoder: ``retrieve`` (retrieve-and-rewrite here, through the ``llm`` and ``embed``
            apps) or ``serve`` (the ``embed`` app's ``/v1/decode``: SONAR on GPU clusters).
        bank_sources: corpus sources (``bank``, ``induced``, ``references``, ``gsm8k``, a
            file path) the retrieve decoder draws neighbours from; ``null``: ``bank`` and
            ``induced``, plus ``references`` only when ``embed.include_references``.
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
    bank_sources: list[str] | None = None
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
        task: promptopt's task section: ``task.name`` picks the task (``gsm8k``,
            ``sentiment``, ...), its splits, prompt format, judge, baseline and references
            (the same evaluation and shared evaluation table as promptopt's optimizers).
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


def promptopt_view(config: EcoflowConfig) -> PromptOptConfig:
    """The promptopt config that promptopt's builders read (task, evaluation, scorer)."""
    return PromptOptConfig(name=config.name, seed=config.optimize.seed, task=config.task,
                           evaluation=config.evaluation, scorer=config.scorer,
                           budget=config.budget, progress=config.progress)
