"""The constitution: principles (critique / revision / comparison requests) and the curriculum.

A constitution is a YAML file (``configs/alignment/constitution.yaml``) with two lists:

- ``principles``: each has a ``name``, a ``critique_request`` (asks the model to find what
  is wrong with its last response), a ``revision_request`` (asks it to rewrite the response
  to fix that) and a ``comparison`` question (asks which of two responses is better, for
  A/B preference labels), in the style of Bai et al. 2022, Appendix C.
- ``stages``: the curriculum, in the fixed order of :data:`CURRICULUM`, each with a
  ``description`` (what kind of task to invent, used by Self-Instruct) and ``seed_tasks``.

:func:`load_constitution` rejects a malformed file before any work starts, with an error
that names the field (``principles[2].revision_request``) and says how to fix it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from serving.config import ConfigError, load_config

CURRICULUM: tuple[str, ...] = (
    "explicit",  # explicit instructions ("Write a haiku about rain.")
    "implicit",  # questions whose instruction is implied ("Why is the sky blue?")
    "generation",  # open-ended generation tasks (stories, emails, lists)
    "evaluation",  # judge or grade a given text
    "revision",  # rewrite a given text to meet a requirement
    "constitutional",  # prompts where the principles matter (harm, honesty, privacy)
)
MIN_SEED_TASKS = 2  # Self-Instruct needs a few seeds to sample in-context examples from


class ConstitutionError(ConfigError):
    """A constitution file is malformed; the message names the field and the fix."""


@dataclass(frozen=True)
class Principle:
    """One constitutional principle.

    Attributes:
        name: a short unique identifier (``harmless``, ``honest``...).
        critique_request: asks the model to critique its last response under this principle.
        revision_request: asks the model to rewrite its response to address the critique.
        comparison: an A/B question ("Which response is more honest?") for preference labels.
    """

    name: str
    critique_request: str
    revision_request: str
    comparison: str


@dataclass(frozen=True)
class Stage:
    """One curriculum stage.

    Attributes:
        name: one of :data:`CURRICULUM`.
        description: what kind of task to invent (shown in the Self-Instruct prompt).
        seed_tasks: human-written example tasks (at least :data:`MIN_SEED_TASKS`, unique).
    """

    name: str
    description: str
    seed_tasks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Constitution:
    """Principles and curriculum stages; validated on construction.

    Attributes:
        principles: at least one, unique names, every request non-empty.
        stages: a non-empty subsequence of :data:`CURRICULUM`, in its order.
    """

    principles: list[Principle]
    stages: list[Stage]

    def __post_init__(self) -> None:
        _validate_principles(self.principles)
        _validate_stages(self.stages)

    def stage(self, name: str) -> Stage:
        """The stage called ``name`` (a :class:`KeyError` naming the valid ones otherwise)."""
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage `{name}`; this constitution has {[s.name for s in self.stages]}.")

    def principle(self, name: str) -> Principle:
        """The principle called ``name``."""
        for principle in self.principles:
            if principle.name == name:
                return principle
        raise KeyError(f"no principle `{name}`; known: {[p.name for p in self.principles]}.")

    def sample_principle(self, rng: random.Random) -> Principle:
        """One principle drawn uniformly (CAI samples one per critique/revision)."""
        return rng.choice(self.principles)


def _require_text(path: str, value: str) -> None:
    if not value.strip():
        raise ConstitutionError(f"`{path}` is empty; write the request text.")


def _validate_principles(principles: list[Principle]) -> None:
    if not principles:
        raise ConstitutionError("`principles` is empty; give at least one principle.")
    seen: set[str] = set()
    for i, p in enumerate(principles):
        _require_text(f"principles[{i}].name", p.name)
        if p.name in seen:
            raise ConstitutionError(
                f"`principles[{i}].name` repeats `{p.name}`; names must be unique.")
        seen.add(p.name)
        for attr in ("critique_request", "revision_request", "comparison"):
            _require_text(f"principles[{i}].{attr}", getattr(p, attr))


def _validate_stages(stages: list[Stage]) -> None:
    if not stages:
        raise ConstitutionError(f"`stages` is empty; give at least one of {list(CURRICULUM)}.")
    last = -1
    for i, stage in enumerate(stages):
        if stage.name not in CURRICULUM:
            raise ConstitutionError(
                f"`stages[{i}].name` is `{stage.name}`; it must be one of {list(CURRICULUM)}.")
        order = CURRICULUM.index(stage.name)
        if order <= last:
            raise ConstitutionError(
                f"`stages[{i}].name` `{stage.name}` is out of curriculum order (or repeated); "
                f"list stages in the order {list(CURRICULUM)}.")
        last = order
        _require_text(f"stages[{i}].description", stage.description)
        if len(stage.seed_tasks) < MIN_SEED_TASKS:
            raise ConstitutionError(
                f"`stages[{i}].seed_tasks` has {len(stage.seed_tasks)} task(s); "
                f"give at least {MIN_SEED_TASKS}.")
        seen: set[str] = set()
        for j, task in enumerate(stage.seed_tasks):
            _require_text(f"stages[{i}].seed_tasks[{j}]", task)
            if task.strip() in seen:
                raise ConstitutionError(f"`stages[{i}].seed_tasks[{j}]` repeats an earlier task.")
            seen.add(task.strip())


def load_constitution(path: str | Path) -> Constitution:
    """Load and validate a constitution YAML file.

    Args:
        path: the YAML file (``configs/alignment/constitution.yaml``).

    Returns:
        The validated :class:`Constitution`.

    Raises:
        ConstitutionError: the file is missing, not YAML, has unknown or missing keys, wrong
            types, or breaks a rule above; the message names the field.
    """
    try:
        return load_config(Constitution, path)
    except ConfigError as exc:
        raise ConstitutionError(f"constitution `{path}`: {exc}") from exc
