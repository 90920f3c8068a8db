"""lm-eval's IFEval checker, wired: hand-made responses with known verdicts."""

from __future__ import annotations

import logging

import pytest

from alignment.ifeval.checker import Constraint, UnknownConstraintError, Verdict, check
from alignment.ifeval.offline import ifeval_modules

NO_COMMA = Constraint("punctuation:no_comma")
LOWER = Constraint("change_case:english_lowercase")


@pytest.mark.parametrize("constraint, response, ok", [
    (NO_COMMA, "red, green and blue", False),
    (NO_COMMA, "red and green and blue", True),
    (LOWER, "the cat sat on the warm mat all afternoon.", True),
    (LOWER, "The cat sat on the mat.", False),
    (Constraint("change_case:english_capital"), "THE CAT SAT ON THE MAT.", True),
    (Constraint("length_constraints:number_words", {"relation": "less than", "num_words": 5}),
     "one two three four", True),
    (Constraint("length_constraints:number_words", {"relation": "less than", "num_words": 5}),
     "one two three four five", False),
    (Constraint("detectable_format:number_bullet_lists", {"num_bullets": 2}), "* a\n* b", True),
    (Constraint("detectable_format:number_bullet_lists", {"num_bullets": 2}), "* a\n* b\n* c", False),
    (Constraint("keywords:existence", {"keywords": ["loyal"]}), "Dogs are Loyal friends.", True),
    (Constraint("startend:end_checker", {"end_phrase": "Any other questions?"}),
     "Blue. Any other questions?", True),
    (Constraint("detectable_format:title"), "<<Rain>>\nIt rained.", True),
    (Constraint("detectable_format:json_format"), '```json\n{"name": "Ana"}\n```', True),
    (Constraint("detectable_format:json_format"), "name: Ana", False),
])
def test_known_verdicts(constraint, response, ok):
    verdict = check("a prompt", response, [constraint])
    assert verdict.strict == (ok,) and verdict.errors == ()


def test_loose_forgives_a_preamble_line_strict_does_not():
    response = "Sure, here it is:\nthe moon is a quiet grey stone in the night sky."
    verdict = check("Describe the moon in lowercase.", response, [LOWER, NO_COMMA])
    assert verdict.strict == (False, False)  # capital S and a comma, both in the first line
    assert verdict.loose == (True, True)  # lm-eval's loose variants drop the first line
    assert verdict.passed == 0


def test_empty_response_fails_everything():
    assert check("p", "   ", [NO_COMMA, LOWER]) == Verdict((False, False), (False, False), ())


def test_matches_lm_eval_process_results_on_a_whole_item():
    _, _, utils = ifeval_modules()
    doc = {"key": 1, "prompt": "Describe a dog in lowercase with fewer than 8 words.",
           "instruction_id_list": ["change_case:english_lowercase", "length_constraints:number_words",
                                   "punctuation:no_comma"],
           "kwargs": [{}, {"relation": "less than", "num_words": 8}, {}]}
    constraints = [Constraint(i, k) for i, k in zip(doc["instruction_id_list"], doc["kwargs"], strict=True)]
    for response in ("Sure, here:\na small dog, brown", "a small brown dog", "A dog is a very good friend indeed"):
        ours = check(doc["prompt"], response, constraints)
        theirs = utils.process_results(doc, [response])
        assert list(ours.strict) == theirs["inst_level_strict_acc"]
        assert list(ours.loose) == theirs["inst_level_loose_acc"]
        assert all(ours.strict) == theirs["prompt_level_strict_acc"]


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(UnknownConstraintError, match="unknown constraint kind `punctuation:no_dash`.*punctuation:no_comma"):
        check("p", "text", [Constraint("punctuation:no_dash")])


def test_a_checker_exception_fails_that_constraint_and_is_logged(monkeypatch, caplog):
    registry, _, _ = ifeval_modules()

    def broken(self, value):
        raise IndexError("odd text")

    monkeypatch.setattr(registry.INSTRUCTION_DICT["punctuation:no_comma"], "check_following", broken)
    with caplog.at_level(logging.WARNING, logger="alignment.ifeval.checker"):
        verdict = check("p", "all lowercase here", [NO_COMMA, LOWER])
    assert verdict.strict == (False, True) and verdict.loose == (False, True)
    assert verdict.errors and all(e.startswith("punctuation:no_comma: IndexError") for e in verdict.errors)
    assert "counted as failed" in caplog.text
