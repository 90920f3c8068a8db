"""Constraints for training instructions: lm-eval's text, lm-eval's check, never IFEval's prompts."""

from __future__ import annotations

import random

import pytest

from alignment.base_tasks import BUILTIN_TASKS
from alignment.ifeval.checker import Constraint, UnknownConstraintError, check, known_kinds
from alignment.ifeval.data import load_items
from alignment.ifeval.offline import ifeval_modules
from alignment.ifeval.templates import (
    DEFAULT_KINDS,
    SAMPLERS,
    RulePrompt,
    describe,
    draw,
    make_prompts,
)
from alignment.rulegen import RuleSettings, overlaps


def test_every_template_kind_has_an_lm_eval_checker():
    assert set(SAMPLERS) <= set(known_kinds())
    assert set(DEFAULT_KINDS) <= set(SAMPLERS)


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
def test_text_and_checker_agree(kind):
    constraint = Constraint(kind, SAMPLERS[kind](random.Random(1), "Describe a lake."))
    registry, _, _ = ifeval_modules()
    instruction = registry.INSTRUCTION_DICT[kind](kind)
    text = instruction.build_description(**dict(constraint.kwargs))
    assert describe(constraint) == text
    # the arguments the checker will use are exactly the ones drawn
    assert (instruction.get_instruction_args() or {}) == dict(constraint.kwargs)
    assert len(check("Describe a lake. " + text, "a reply", [constraint]).strict) == 1


def test_draw_never_combines_conflicting_kinds():
    registry, _, _ = ifeval_modules()
    conflicts = registry.INSTRUCTION_CONFLICTS
    rng = random.Random(0)
    sizes = []
    for _ in range(200):
        kinds = [c.kind for c in draw(rng, list(SAMPLERS), 3, "Write a note.")]
        sizes.append(len(kinds))  # fewer when an exclusive kind (e.g. JSON) comes first
        for i, a in enumerate(kinds):
            for b in kinds[i + 1:]:
                assert b not in conflicts.get(a, ()) and a not in conflicts.get(b, ())
    assert max(sizes) == 3 and sizes.count(3) > 150


def test_prompts_are_reproducible_and_carry_their_constraints():
    first = make_prompts(BUILTIN_TASKS, 12, DEFAULT_KINDS, 2, seed=3)
    assert first == make_prompts(BUILTIN_TASKS, 12, DEFAULT_KINDS, 2, seed=3)
    assert first != make_prompts(BUILTIN_TASKS, 12, DEFAULT_KINDS, 2, seed=4)
    for p in first:
        assert p.prompt.startswith(p.task) and len(p.constraints) == 2
        assert all(describe(c) in p.prompt for c in p.constraints)
        assert RulePrompt.from_dict(p.to_dict()) == p


def test_unknown_template_kind_names_the_known_ones():
    with pytest.raises(UnknownConstraintError, match="unknown constraint kind `tone:polite`.*punctuation:no_comma"):
        RuleSettings(kinds=["punctuation:no_comma", "tone:polite"])
    with pytest.raises(UnknownConstraintError, match="unknown constraint kind `tone:polite`"):
        draw(random.Random(0), ["tone:polite"], 1, "Write a note.")


def test_no_training_prompt_equals_or_contains_an_ifeval_prompt(shared_ifeval):
    heldout = [item.prompt for item in load_items(shared_ifeval)]
    prompts = make_prompts(BUILTIN_TASKS, 400, list(SAMPLERS), 3, seed=0)
    assert not [p.prompt for p in prompts if overlaps(p.prompt, heldout)]
    assert not [t for t in BUILTIN_TASKS if overlaps(t, heldout)]
    assert overlaps("Please do this: " + heldout[0].upper() + " Thanks.", heldout)  # the check works
