"""Typed configs of ``python -m promptopt`` (YAML + ``key=value`` overrides).

One :class:`PromptOptConfig` serves every command; each command reads its own section.
Presets are YAML files ``configs/promptopt/<command>_<preset>.yaml``. Unknown keys and wrong
types are rejected by :func:`serving.config.load_config` before any work starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from serving.config import ConfigError, load_config, preset_file, read_yaml
from serving.settings import ClientConfig, ServingConfig

PRESET_DIR = Path(__file__).resolve().parents[1] / "configs" / "promptopt"
COMMANDS = ("opro", "protegi", "ape", "random", "fewshot", "evaluate", "tune")
OPTIMIZERS = ("opro", "protegi", "ape", "random", "fewshot")


@dataclass
class TaskConfig:
    """The task, its splits, prompt format and the scorer's sampling.

    Task-specific defaults (baseline, references, answer length, format) come from the task
    (:func:`promptopt.tasks.load_task`); a value set here overrides it.

    Attributes:
        name: ``gsm8k``, an Instruction Induction task (``sentiment``, ``larger_animal``, ...),
            a BBH task (``boolean_expressions``, ...) or ``jsonl`` (your own data).
        data_dir: the task's data (GSM8K: a folder with ``train.jsonl``/``test.jsonl``;
            default from ``GSM8K_DIR`` / ``INSTRUCTION_INDUCTION_DIR`` / ``BBH_DIR``; ``jsonl``:
            a ``.jsonl`` file or a folder with ``train.jsonl`` and optionally ``test.jsonl``).
        train_size: the optimizers' scoring set / ProTeGi's pool (the task's train split).
        test_size: the held-out split for the final report (an error if the data is smaller).
        seed: seeds the splits.
        position: GSM8K's OPRO prompt format: ``Q_begin``, ``Q_end`` or ``A_begin``.
        include_qa: GSM8K: wrap questions in OPRO's ``Q: ... A:`` scaffold.
        template: other tasks: a prompt with ``{instruction}`` and ``{input}`` (``null``: the
            task's own).
        scorer: ``jsonl``: ``exact``, ``label``, ``number``, ``contains`` or ``f1``.
        labels: ``jsonl`` with ``scorer: label``: the label set.
        max_tokens: the scorer's answer length (greedy; ``null``: the task's, 400 on GSM8K).
        baseline: the instruction the best one is compared with (``null``: the task's).
        initial: the optimizers' starting instructions (``null``: ``[baseline]``).
        references: instructions written by people (``null``: the task's annotations);
            reported as baselines to beat.
        include_references: also start the search from the references (off: they are a
            baseline to beat, never silently part of a search).
    """

    name: str = "gsm8k"
    data_dir: str | None = None
    train_size: int = 100
    test_size: int = 300
    seed: int = 0
    position: Literal["Q_begin", "Q_end", "A_begin"] = "Q_end"
    include_qa: bool = True
    template: str | None = None
    scorer: str | None = None
    labels: list[str] | None = None
    max_tokens: int | None = None
    baseline: str | None = None
    initial: list[str] | None = None
    references: list[str] | None = None
    include_references: bool = False

    def __post_init__(self) -> None:
        from promptopt.tasks import TASK_NAMES

        if self.train_size < 1 or self.test_size < 1:
            raise ConfigError("`task.train_size` and `task.test_size` must be >= 1.")
        if self.name not in TASK_NAMES:
            raise ConfigError(f"unknown task `task.name={self.name}`; known tasks: "
                              f"{', '.join(TASK_NAMES)}.")
        if self.name == "jsonl" and (not self.data_dir or not self.scorer):
            raise ConfigError("`task.name=jsonl` needs `task.data_dir` (a .jsonl file or a folder "
                              "with train.jsonl) and `task.scorer` (exact, label, number, "
                              "contains or f1).")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ConfigError(f"`task.max_tokens` must be >= 1, got {self.max_tokens}.")


@dataclass
class BudgetConfig:
    """The optimization budget (the held-out report is outside it).

    Attributes:
        max_calls: LLM endpoint calls (cache hits are free); ``null`` for no cap.
        max_tokens: prompt + completion tokens; ``null`` for no cap.
    """

    max_calls: int | None = None
    max_tokens: int | None = None


@dataclass
class OproConfig:
    """OPRO (paper values as defaults; see :class:`promptopt.opro.Opro`)."""

    steps: int = 200
    candidates_per_step: int = 8
    max_pairs: int = 20
    num_buckets: int | None = 100
    num_exemplars: int = 3
    temperature: float = 1.0
    max_tokens: int = 512
    max_chars: int = 500
    reject_digits: bool = True
    lenient_parse: bool = False


@dataclass
class ProtegiConfig:
    """ProTeGi (LMOps values as defaults; see :class:`promptopt.protegi.ProTeGi`)."""

    steps: int = 6
    beam_width: int = 4
    minibatch_size: int = 64
    n_gradients: int = 4
    errors_per_gradient: int = 4
    gradients_per_error: int = 1
    steps_per_gradient: int = 1
    mc_samples_per_step: int = 2
    max_expansion_factor: int = 8
    selector: Literal["ucb", "sr", "bf"] = "ucb"
    c: float = 1.0
    eval_rounds: int = 8
    prompts_per_round: int = 8
    samples_per_eval: int = 32
    temperature: float = 0.7
    max_tokens: int = 1024


@dataclass
class ApeConfig:
    """APE (see :mod:`promptopt.sampling`): induce from demonstrations, keep the best.

    Attributes:
        steps: generation steps (each: one call with ``candidates_per_step`` samples).
        candidates_per_step: samples per step.
        num_demos: input–output pairs shown per step (a fresh seeded draw; APE: 5).
        temperature: sampling temperature (APE: 0.9).
        max_tokens: a candidate's length limit.
    """

    steps: int = 10
    candidates_per_step: int = 8
    num_demos: int = 5
    temperature: float = 0.9
    max_tokens: int = 64


@dataclass
class RandomConfig:
    """Random search (see :mod:`promptopt.sampling`): a plain "write an instruction for this
    task" request around the starting instruction, keep the best.

    Attributes:
        steps: generation steps (each: one call with ``candidates_per_step`` samples).
        candidates_per_step: samples per step.
        temperature: sampling temperature.
        max_tokens: a candidate's length limit.
    """

    steps: int = 10
    candidates_per_step: int = 8
    temperature: float = 1.0
    max_tokens: int = 64


@dataclass
class FewShotConfig:
    """Few-shot search (see :class:`promptopt.sampling.FewShotSearch`): the starting
    instruction plus seeded draws of labeled demonstrations, keep the best.

    Attributes:
        steps: draws of demonstrations (each: ``candidates_per_step`` candidates).
        candidates_per_step: candidates per step.
        num_demos: pairs per candidate (APE's 5 by default: the count APE's generator sees).
    """

    steps: int = 10
    candidates_per_step: int = 1
    num_demos: int = 5


@dataclass
class EvalConfig:
    """The evaluator and the final report.

    Attributes:
        table: SQLite evaluation table (default ``$RAYOPT_CACHE_DIR/promptopt_evals.sqlite``,
            shared by every run on the machine).
        fan_out_above: more missing evaluations than this go out as Ray tasks.
        chunk_size: examples per Ray task.
        instructions: ``evaluate``: instructions scored beside ``task.baseline``.
        n_resamples: paired-bootstrap resamples.
    """

    table: str | None = None
    fan_out_above: int = 256
    chunk_size: int = 64
    instructions: list[str] = field(default_factory=list)
    n_resamples: int = 10_000


@dataclass
class TuneConfig:
    """``tune``: Tune trials over optimizer choice and hyperparameters, two objectives.

    Ranges are ``[low, high]`` (inclusive); ``opro_num_buckets`` lists choices.

    Attributes:
        methods: optimizers the sweep chooses from.
        num_samples: trials.
        max_concurrent: trials at once (all call the one Serve app).
        sampler: ``ax`` (:class:`moo.searchers.AxMOOSearcher`, qLogNEHVI) or an Optuna
            sampler of :func:`moo.searchers.make_optuna_searcher`.
        val_size: validation sample (train split, disjoint from the scoring set) that gives
            each trial's accuracy; the test split stays held out.
        trial_cpus: logical CPUs per trial (an HTTP client; the replica does the work).
        opro_steps: OPRO steps per trial.
        protegi_steps: ProTeGi steps per trial.
    """

    methods: list[str] = field(default_factory=lambda: ["opro", "protegi"])
    num_samples: int = 8
    max_concurrent: int = 2
    sampler: Literal["ax", "nsga2", "tpe", "gp", "random"] = "tpe"
    val_size: int = 50
    trial_cpus: float = 0.5
    opro_steps: int = 2
    protegi_steps: int = 1
    opro_candidates_per_step: list[int] = field(default_factory=lambda: [2, 6])
    opro_num_buckets: list[int] = field(default_factory=lambda: [10, 100])
    opro_temperature: list[float] = field(default_factory=lambda: [0.5, 1.5])
    protegi_beam_width: list[int] = field(default_factory=lambda: [1, 3])
    protegi_c: list[float] = field(default_factory=lambda: [0.25, 2.0])
    protegi_n_gradients: list[int] = field(default_factory=lambda: [1, 2])

    def __post_init__(self) -> None:
        for name in ("opro_candidates_per_step", "opro_temperature", "protegi_beam_width",
                     "protegi_c", "protegi_n_gradients"):  # fmt: skip
            bounds = getattr(self, name)
            if len(bounds) != 2 or bounds[0] >= bounds[1]:
                raise ConfigError(f"`tune.{name}` must be [low, high] with low < high, got {bounds}.")
        if len(set(self.opro_num_buckets)) < 2:
            raise ConfigError("`tune.opro_num_buckets` must list two or more choices.")


@dataclass
class PromptOptConfig:
    """A promptopt run.

    Attributes:
        name: run folder ``results/promptopt/<name>/`` (same name: resume).
        seed: seeds every random draw and sampled LLM call.
        deploy: deploy the shared ``llm`` app if it is not running (off for an external
            OpenAI-compatible endpoint set in ``scorer.base_url``).
        progress: show progress bars.
        serving: what to deploy.
        scorer: the task model's endpoint (greedy).
        optimizer: OPRO's optimizer model / ProTeGi's gradient model endpoint.
        editor: ProTeGi's edit and paraphrase model endpoint (``null``: the optimizer's).
    """

    name: str | None = None
    seed: int = 0
    deploy: bool = True
    progress: bool = True
    serving: ServingConfig = field(default_factory=ServingConfig)
    scorer: ClientConfig = field(default_factory=ClientConfig)
    optimizer: ClientConfig = field(default_factory=ClientConfig)
    editor: ClientConfig | None = None
    budget: BudgetConfig = field(default_factory=BudgetConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    opro: OproConfig = field(default_factory=OproConfig)
    protegi: ProtegiConfig = field(default_factory=ProtegiConfig)
    ape: ApeConfig = field(default_factory=ApeConfig)
    random: RandomConfig = field(default_factory=RandomConfig)
    fewshot: FewShotConfig = field(default_factory=FewShotConfig)
    evaluation: EvalConfig = field(default_factory=EvalConfig)
    tune: TuneConfig = field(default_factory=TuneConfig)


def load(
    command: str, path: str | None = None, preset: str | None = None, overrides: list[str] = ()
) -> PromptOptConfig:
    """The config of ``command``: preset, then ``path``, then ``key=value`` overrides."""
    if command not in COMMANDS:
        raise ConfigError(f"unknown command `{command}`; one of {COMMANDS}.")
    base = None
    if preset is not None:
        base = read_yaml(preset_file(PRESET_DIR, preset, prefix=f"{command}_"))
    config = load_config(PromptOptConfig, path, list(overrides), base=base)
    if config.name is None:
        config.name = command if preset is None else f"{command}-{preset}"
    for method in config.tune.methods:
        if method not in ("opro", "protegi"):  # the sweep's search space covers these two
            raise ConfigError(f"`tune.methods` entries must be opro or protegi, got {method!r}.")
    return config
