"""IFEval-style constraints for *training* instructions (never the held-out IFEval prompts).

A base task ("Write a short note to a neighbour about a lost cat.") gets a few constraints of
IFEval's kinds. Each constraint's arguments are drawn here, in ranges a short answer can meet
(lm-eval's own random draws ask for up to 500 words, or for paragraph 6 of 5); its text is
written by the lm-eval instruction class's own ``build_description(**kwargs)``, so the text
the model reads and the check :func:`~alignment.ifeval.checker.check` runs agree. Conflicting
kinds (lm-eval's ``INSTRUCTION_CONFLICTS``, e.g. lowercase + capitals) are never combined.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from alignment.ifeval.checker import Constraint, UnknownConstraintError
from alignment.ifeval.offline import ifeval_modules

_END_PHRASES = ("Is there anything else I can help with?", "Let me know if you have additional questions.",
                "Any other questions?")
_RELATIONS = ("less than", "at least")


def _words(rng: random.Random, k: int) -> list[str]:
    _, util, _ = ifeval_modules()
    return rng.sample(util.WORD_LIST, k)


def _nth_paragraph(rng: random.Random, task: str) -> dict[str, Any]:
    paragraphs = rng.randint(2, 3)
    return {"num_paragraphs": paragraphs, "nth_paragraph": rng.randint(1, paragraphs),
            "first_word": _words(rng, 1)[0]}


Sampler = Callable[[random.Random, str], dict[str, Any]]  # (rng, base task) -> kwargs

#: Every kind we can attach to a training instruction, and how its arguments are drawn.
SAMPLERS: dict[str, Sampler] = {
    "punctuation:no_comma": lambda rng, task: {},
    "change_case:english_lowercase": lambda rng, task: {},
    "change_case:english_capital": lambda rng, task: {},
    "change_case:capital_word_frequency": lambda rng, task: {
        "capital_frequency": rng.randint(1, 3), "capital_relation": rng.choice(_RELATIONS)},
    "startend:quotation": lambda rng, task: {},
    "startend:end_checker": lambda rng, task: {"end_phrase": rng.choice(_END_PHRASES)},
    "detectable_format:title": lambda rng, task: {},
    "detectable_format:json_format": lambda rng, task: {},
    "detectable_format:constrained_response": lambda rng, task: {},
    "detectable_format:number_bullet_lists": lambda rng, task: {"num_bullets": rng.randint(2, 5)},
    "detectable_format:number_highlighted_sections": lambda rng, task: {
        "num_highlights": rng.randint(1, 3)},
    "detectable_format:multiple_sections": lambda rng, task: {
        "section_spliter": rng.choice(("SECTION", "PART")), "num_sections": rng.randint(2, 3)},
    "detectable_content:number_placeholders": lambda rng, task: {
        "num_placeholders": rng.randint(1, 3)},
    "detectable_content:postscript": lambda rng, task: {
        "postscript_marker": rng.choice(("P.S.", "P.P.S"))},
    "keywords:existence": lambda rng, task: {"keywords": sorted(_words(rng, rng.randint(1, 2)))},
    "keywords:forbidden_words": lambda rng, task: {"forbidden_words": sorted(_words(rng, 2))},
    "keywords:frequency": lambda rng, task: {
        "keyword": _words(rng, 1)[0], "frequency": rng.randint(1, 3), "relation": "at least"},
    "keywords:letter_frequency": lambda rng, task: {
        "letter": rng.choice("abcdefghilmnoprstuw"), "let_frequency": rng.randint(2, 6),
        "let_relation": rng.choice(_RELATIONS)},
    "length_constraints:number_words": lambda rng, task: rng.choice((
        {"relation": "less than", "num_words": rng.randint(20, 80)},
        {"relation": "at least", "num_words": rng.randint(15, 60)})),
    "length_constraints:number_sentences": lambda rng, task: rng.choice((
        {"relation": "less than", "num_sentences": rng.randint(2, 6)},
        {"relation": "at least", "num_sentences": rng.randint(2, 4)})),
    "length_constraints:number_paragraphs": lambda rng, task: {"num_paragraphs": rng.randint(2, 3)},
    "length_constraints:nth_paragraph_first_word": _nth_paragraph,
    "combination:repeat_prompt": lambda rng, task: {"prompt_to_repeat": task},
    "combination:two_responses": lambda rng, task: {},
    "language:response_language": lambda rng, task: {"language": rng.choice(("fr", "es", "de"))},
}

#: The kinds used by default: all but those a small model cannot sensibly learn from short
#: samples (answering in another language, two answers, repeating the request first).
DEFAULT_KINDS: tuple[str, ...] = tuple(k for k in SAMPLERS if k not in (
    "language:response_language", "combination:two_responses", "combination:repeat_prompt"))


def check_kinds(kinds: Iterable[str]) -> None:
    """Raise :class:`UnknownConstraintError` for a kind with no template, naming the known ones."""
    kinds = list(kinds)
    for kind in kinds:
        if kind not in SAMPLERS:
            raise UnknownConstraintError(
                f"unknown constraint kind `{kind}` in `generate.rules.kinds`; known kinds: "
                f"{', '.join(SAMPLERS)}.")
    if not kinds:
        raise UnknownConstraintError(f"`generate.rules.kinds` is empty; use some of: {', '.join(SAMPLERS)}.")


def _conflict(a: str, b: str) -> bool:
    registry, _, _ = ifeval_modules()
    conflicts = registry.INSTRUCTION_CONFLICTS
    return a == b or b in conflicts.get(a, ()) or a in conflicts.get(b, ())


def draw(rng: random.Random, kinds: Sequence[str], k: int, task: str) -> list[Constraint]:
    """Up to ``k`` mutually compatible constraints of ``kinds``, arguments drawn by ``rng``."""
    check_kinds(kinds)
    order = list(kinds)
    rng.shuffle(order)
    chosen: list[str] = []
    for kind in order:
        if len(chosen) == k:
            break
        if not any(_conflict(kind, other) for other in chosen):
            chosen.append(kind)
    return [Constraint(kind, SAMPLERS[kind](rng, task)) for kind in chosen]


def describe(constraint: Constraint) -> str:
    """The constraint's text, by lm-eval's ``build_description(**kwargs)``."""
    registry, _, _ = ifeval_modules()
    return registry.INSTRUCTION_DICT[constraint.kind](constraint.kind).build_description(
        **dict(constraint.kwargs))


@dataclass(frozen=True)
class RulePrompt:
    """A training instruction: a base task with IFEval-style constraints appended."""

    prompt: str
    task: str
    constraints: tuple[Constraint, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"prompt": self.prompt, "task": self.task,
                "constraints": [c.to_dict() for c in self.constraints]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RulePrompt:
        return cls(data["prompt"], data["task"],
                   tuple(Constraint.from_dict(c) for c in data["constraints"]))


def make_prompts(tasks: Sequence[str], n: int, kinds: Sequence[str], per_prompt: int,
                 seed: int) -> list[RulePrompt]:
    """``n`` constrained instructions: base tasks in a seeded shuffled cycle, each with
    ``per_prompt`` constraints. The same arguments give the same list."""
    if not tasks:
        raise ValueError("no base tasks to attach constraints to.")
    rng = random.Random(f"rules:{seed}")
    order = list(tasks)
    out = []
    for i in range(n):
        if i % len(order) == 0:
            rng.shuffle(order)
        task = order[i % len(order)]
        constraints = draw(rng, kinds, per_prompt, task)
        text = " ".join([task.strip(), *(describe(c).strip() for c in constraints)])
        out.append(RulePrompt(text, task, tuple(constraints)))
    return out
