"""Responses, critiques and revisions (Bai et al. 2022, section 3.1).

For each instruction the model answers; then, under one principle sampled from the
constitution, it critiques its answer (``CritiqueRequest`` → ``Critique``) and rewrites it
(``RevisionRequest`` → ``Revision``). Empty and unparsable generations are skipped and
counted by step (``empty_response``, ``unparsable_critique``...), never replaced by a
placeholder.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from alignment.constitution import Principle
from alignment.dialogue import Turn, clean_generation, generate_many
from serving.protocols import LLM


@dataclass(frozen=True)
class Revision:
    """One critique-and-revision record (the SFT target is ``revision``)."""

    instruction: str
    response: str
    principle: str
    critique: str
    revision: str


@dataclass
class Generated:
    """Outputs aligned with the inputs (``None`` where skipped) and the skip counts."""

    outputs: list[str | None] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass
class RevisionResult:
    """The revisions made and the skip counts (by step and reason)."""

    revisions: list[Revision] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)


def critique_dialogue(instruction: str, response: str, principle: Principle) -> list[Turn]:
    """The dialogue the critique continues."""
    return [("Human", instruction), ("Assistant", response),
            ("CritiqueRequest", principle.critique_request)]


def revision_dialogue(
    instruction: str, response: str, principle: Principle, critique: str,
) -> list[Turn]:
    """The dialogue the revision continues (the critique dialogue plus the critique)."""
    return [*critique_dialogue(instruction, response, principle), ("Critique", critique),
            ("RevisionRequest", principle.revision_request)]


class Reviser:
    """Answers instructions, then critiques and revises each answer under one principle.

    Args:
        llm: the model being aligned (through the ``llm`` app, or a fake).
        principles: the constitution's principles; one is sampled per record.
        chat: True for instruct models (chat), False for base models (CAI transcript).
        temperature, max_tokens: sampling for every step.
        seed: the principle for a record is drawn from ``(seed, instruction, response)``, so
            a resumed run samples the same principle for the same record.
    """

    def __init__(
        self, llm: LLM, principles: Sequence[Principle], *, chat: bool,
        temperature: float = 0.7, max_tokens: int = 256, seed: int = 0,
    ):
        if not principles:
            raise ValueError("`principles` is empty; load them from the constitution.")
        self.llm, self.principles, self.chat, self.seed = llm, list(principles), chat, seed
        self.params = {"temperature": temperature, "max_tokens": max_tokens}

    def _generate(self, dialogues: Sequence[Sequence[Turn]], label: str, step: str) -> Generated:
        result = Generated()
        completions = generate_many(self.llm, dialogues, label, chat=self.chat, **self.params)
        for completion in completions:
            text, reason = clean_generation(completion.text)
            result.outputs.append(text)
            if reason is not None:
                result.skipped[f"{reason}_{step}"] += 1
        return result

    def respond(self, instructions: Sequence[str]) -> Generated:
        """The model's answer to each instruction (``None`` where skipped)."""
        return self._generate([[("Human", i)] for i in instructions], "Assistant", "response")

    def principle_for(self, instruction: str, response: str) -> Principle:
        """The principle sampled for this record (deterministic in seed and content)."""
        return random.Random(f"{self.seed}\x00{instruction}\x00{response}").choice(self.principles)

    def revise(self, pairs: Sequence[tuple[str, str]]) -> RevisionResult:
        """Critique and revise each ``(instruction, response)``.

        Returns:
            The revisions of the records whose critique and revision were both usable, and
            the skip counts (``empty_critique``, ``unparsable_revision``...).
        """
        principles = [self.principle_for(i, r) for i, r in pairs]
        critiques = self._generate(
            [critique_dialogue(i, r, p) for (i, r), p in zip(pairs, principles, strict=True)],
            "Critique", "critique")
        todo = [k for k, c in enumerate(critiques.outputs) if c is not None]
        revisions = self._generate(
            [revision_dialogue(*pairs[k], principles[k], critiques.outputs[k]) for k in todo],
            "Revision", "revision")
        result = RevisionResult(skipped=critiques.skipped + revisions.skipped)
        for k, revision in zip(todo, revisions.outputs, strict=True):
            if revision is None:
                continue
            instruction, response = pairs[k]
            critique = critiques.outputs[k]
            assert critique is not None  # todo holds only usable critiques
            result.revisions.append(Revision(
                instruction, response, principles[k].name, critique, revision))
        return result
