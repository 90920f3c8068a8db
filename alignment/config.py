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
        ifeval_dir: the IFEval folder (``input_data.jsonl``); empty: ``$IFEVAL_DIR``.
        ifeval_n: held-out IFEval prompts scored (a seeded subset of the 541).
        ifeval_seed: seeds the subset (the same prompts for the base and every stage).
        max_tokens: length limit of evaluated responses (greedy decoding). IFEval prompts
            asking for hundreds of words fail at this length either way; 192 tokens keeps
            two evaluations of 300 prompts affordable on 2 CPU cores.
        bootstrap_resamples: resamples of the paired bootstrap (stage minus base).
        judge_principle: the principle whose comparison question the judge asks when it
            compares the stage model with the base on the stage's held-out instructions
            (only when the stage ran Self-Instruct).
    """

    ifeval_dir: str = ""
    ifeval_n: int = 300
    ifeval_seed: int = 0
    max_tokens: int = 192
    bootstrap_resamples: int = 10_000
    judge_principle: str = "follows_instructions"

    def __post_init__(self) -> None:
        if self.ifeval_n < 1 or self.max_tokens < 1 or self.bootstrap_resamples < 1:
            raise ConfigError("`eval.ifeval_n`, `eval.max_tokens` and `eval.bootstrap_resamples` "
                              "must be at least 1.")


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
    path = config_file(CONFIG_DIR, path, preset, exclude=("constitution",))
    return load_config(AlignmentConfig, path, overrides)
