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
from serving.config import ConfigError, load_config
from serving.settings import ServingConfig

PRESET_DIR = Path(__file__).resolve().parents[1] / "configs" / "ecoflow"
COMMANDS = ("embed", "train", "validate", "optimize")


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
class EcoflowConfig:
    """Everything one ecoflow run needs.

    Attributes:
        name: the run name (folder ``results/ecoflow/<name>/``; the resume key).
        serving: the shared apps (the ``embed`` app encodes).
        embed: corpus sources.
        train: flow model and Ray Train settings.
        validate: sample-quality report settings.
    """

    name: str = "ecoflow"
    serving: ServingConfig = field(default_factory=ServingConfig)
    embed: EmbedConfig = field(default_factory=EmbedConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    validate: ValidateConfig = field(default_factory=ValidateConfig)


def load(path: str | None = None, preset: str | None = None,
         overrides: list[str] | tuple[str, ...] = ()) -> EcoflowConfig:
    """The config from a preset and/or a file, then ``key=value`` overrides."""
    if preset is not None and path is not None:
        raise ConfigError("give `--config` or `--preset`, not both.")
    if preset is not None:
        path = str(PRESET_DIR / f"{preset}.yaml")
        if not Path(path).is_file():
            names = sorted(p.stem for p in PRESET_DIR.glob("*.yaml"))
            raise ConfigError(f"unknown preset `{preset}`; available: {', '.join(names)}.")
    return load_config(EcoflowConfig, path, overrides)
