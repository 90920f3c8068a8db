"""The alignment run's config (YAML presets in ``configs/alignment/``, ``key=value`` overrides).

``python -m alignment run --preset demo dpo.loss_type=ipo dpo.smoothing=none``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from alignment.generate import GenerateSettings
from alignment.training import DPOSettings, SFTSettings, TrainSettings
from serving.config import ConfigError, config_file, load_config

CONFIG_DIR = Path(__file__).resolve().parents[1] / "configs" / "alignment"


@dataclass
class EvalSettings:
    """Evaluation before stage 1 and after each stage.

    Attributes:
        rules_path: the rule-checked held-out set (:mod:`alignment.rules`).
        max_tokens: length limit of evaluated responses (greedy decoding).
        judge_principle: the principle whose comparison question the judge asks when it
            compares the stage model with the base on the stage's held-out instructions.
    """

    rules_path: str = str(CONFIG_DIR / "heldout.yaml")
    max_tokens: int = 128
    judge_principle: str = "follows_instructions"


@dataclass
class AlignmentConfig:
    """One alignment run.

    Attributes:
        run_name: the folder under ``results/alignment/`` (the resume key).
        model: the model to align (alias, local folder or hub id); the ``llm`` app must serve
            it (the base model is the one the shared app runs).
        chat: instruct model (chat prompts) or base model (completion-style prompts).
        constitution: the constitution YAML.
        stages: the curriculum stages to run, in order (a prefix or subset of the
            constitution's, kept in curriculum order).
        stage_app_cpus: logical CPUs of the Serve app that serves a stage's model.
        generate, train, sft, dpo, eval: the steps' settings.
    """

    run_name: str = "default"
    model: str = "smollm2-135m-instruct"
    chat: bool = True
    constitution: str = str(CONFIG_DIR / "constitution.yaml")
    stages: list[str] = field(default_factory=lambda: ["explicit", "implicit"])
    stage_app_cpus: float = 1.0
    generate: GenerateSettings = field(default_factory=GenerateSettings)
    train: TrainSettings = field(default_factory=TrainSettings)
    sft: SFTSettings = field(default_factory=SFTSettings)
    dpo: DPOSettings = field(default_factory=DPOSettings)
    eval: EvalSettings = field(default_factory=EvalSettings)

    def __post_init__(self) -> None:
        if not self.stages:
            raise ConfigError("`stages` is empty; name at least one curriculum stage.")
        if self.generate.heldout >= self.generate.instructions:
            raise ConfigError("`generate.heldout` must be smaller than `generate.instructions`.")


def load(path: str | None, preset: str | None, overrides: list[str]) -> AlignmentConfig:
    """The config from ``--config`` or ``--preset`` (``configs/alignment/<preset>.yaml``)."""
    path = config_file(CONFIG_DIR, path, preset, exclude=("constitution", "heldout"))
    return load_config(AlignmentConfig, path, overrides)
