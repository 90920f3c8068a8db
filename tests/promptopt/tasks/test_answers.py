"""Extractors and judges, table-tested on real SmolLM2-135M-Instruct outputs.

Most outputs below were answered by the embedded model on Instruction Induction inputs
(greedy, chat template); a few are written to pin a rule down (marked "rule").
"""

from __future__ import annotations

import pytest

from promptopt.tasks import Example
from promptopt.tasks.answers import (
    ape_normalize,
    extract_choice,
    extract_label,
    extract_letters,
    extract_number,
    extract_word,
)
from promptopt.tasks.judges import (
    ChoiceJudge,
    ContainsJudge,
    ExactJudge,
    ExtractJudge,
    F1Judge,
    LabelJudge,
    NumberJudge,
    make_judge,
)

SENTIMENT = ("positive", "negative")


@pytest.mark.parametrize(("output", "label"), [
    ("Positive", "positive"),
    ("Positive.", "positive"),
    ("Positive: The sentiment is positive.", "positive"),
    ("The sentiment of the input sentence is positive.", "positive"),
    ("The sentiment in the input is negative.", "negative"),
    ("Positive: positive\nNegative: negative", "positive"),  # the first label named wins
    ("Positive\n\nThis is a positive opinion.", "positive"),
    ("A depraved, incoherent, instantly disposable piece of hackery.", None),  # an echo: nothing
    ("No", None),
    ("The film's tone is not positive.", "positive"),  # rule: negation is not understood
])  # fmt: skip
def test_extract_label_sentiment(output: str, label: str | None) -> None:
    assert extract_label(output, SENTIMENT) == label


@pytest.mark.parametrize(("output", "labels", "label"), [
    ("The answer is (B).", ("(A)", "(B)"), "(B)"),
    ("B) He's a terrible person", ("(A)", "(B)"), "(B)"),
    ("A", ("(A)", "(B)"), "(A)"),
    ("A sentence with an adjective order problem.", ("(A)", "(B)"), None),  # rule: article "A"
    ("The argument is invalid.", ("valid", "invalid"), "invalid"),
    ("False. not ( True ) is False", ("True", "False"), "False"),
    ("yes, it is plausible", ("yes", "no"), "yes"),
])  # fmt: skip
def test_extract_label_bbh(output: str, labels: tuple[str, ...], label: str | None) -> None:
    assert extract_label(output, labels) == label


@pytest.mark.parametrize(("output", "number"), [
    ("The sum of the two numbers is 91", "91"),
    ("0 + 47 = 47", "47"),
    ("47.", "47"),
    ("The answer is $1,080.", "1080"),
    ("I cannot add these.", None),
])  # fmt: skip
def test_extract_number(output: str, number: str | None) -> None:
    assert extract_number(output) == number


@pytest.mark.parametrize(("output", "word"), [
    ("The plural of 'life' is 'lives'.", "lives"),
    ("Lives", "lives"),
    ("The opposite of fortunate is unfortunate.", "unfortunate"),
    ("Sure! The antonym of express is local.", "local"),
    ("The first letter of the word \"place\" is \"p\".", "p"),
    ("P", "p"),
    ("Ends.", "ends"),
    ("The answer: worlds", "worlds"),
    ("", None),
])  # fmt: skip
def test_extract_word(output: str, word: str | None) -> None:
    assert extract_word(output) == word


@pytest.mark.parametrize(("output", "letters"), [
    ("p l a c e", "p l a c e"),
    ("P-L-A-C-E", "p l a c e"),
    ("The letters of the word 'family' are: f, a, m, i, l, y.", "f a m i l y"),
    ("place", None),
])  # fmt: skip
def test_extract_letters(output: str, letters: str | None) -> None:
    assert extract_letters(output) == letters


@pytest.mark.parametrize(("output", "choice"), [
    ("The larger animal is a alligator.", "alligator"),
    ("Alligator", "alligator"),
    ("mirror carp, alligator\n\nThe alligator is bigger.", "alligator"),  # input echo ignored
    ("The mirror carp is smaller than the alligator.", "mirror carp"),  # rule: first named
    ("A whale.", None),
])  # fmt: skip
def test_extract_choice(output: str, choice: str | None) -> None:
    assert extract_choice(output, ("mirror carp", "alligator"), echo="mirror carp, alligator") == choice


def test_ape_normalize_follows_the_instruction_induction_scorer() -> None:
    assert ape_normalize("Positive.\nmore") == "positive"
    assert ape_normalize("  p-l-a-c-e  ") == "p l a c e"
    assert ape_normalize("salt and pepper") == "salt pepper"


def _ex(gold: str, question: str = "x", choices: tuple[str, ...] = ()) -> Example:
    return Example("t/0", question, gold, gold, choices)


def test_judges_give_extractor_and_strict_scores() -> None:
    v = LabelJudge(SENTIMENT).judge("The sentiment is negative.", _ex("negative"))
    assert (v.correct, v.strict, v.prediction) == (True, False, "negative")
    v = LabelJudge(SENTIMENT).judge("Negative.", _ex("negative"))
    assert (v.correct, v.strict) == (True, True)
    v = NumberJudge().judge("The sum of the two numbers is 91", _ex("91"))
    assert (v.correct, v.strict, v.prediction) == (True, False, "91")
    v = ExtractJudge("word").judge("The plural of 'life' is 'lives'.", _ex("lives"))
    assert (v.correct, v.strict) == (True, False)
    v = ExtractJudge("letters").judge("p, l, a, c, e", _ex("p l a c e"))
    assert v.correct
    v = ChoiceJudge().judge("The alligator is larger.", _ex("alligator", "carp, alligator",
                                                           ("carp", "alligator")))
    assert v.correct and v.prediction == "alligator"


def test_a_judge_that_finds_nothing_scores_zero_and_says_so() -> None:
    for judge, gold in [(LabelJudge(SENTIMENT), "positive"), (NumberJudge(), "3"),
                        (ExtractJudge("letters"), "a b"), (ChoiceJudge(), "cat")]:
        v = judge.judge("", _ex(gold, choices=("cat", "dog")))
        assert (v.correct, v.prediction) == (False, None)


def test_declared_scorers() -> None:
    assert make_judge("exact").judge("Paris.", _ex("paris")).correct
    assert make_judge("contains").judge("I think it is Paris, France.", _ex("Paris")).correct
    assert not make_judge("contains").judge("Parisian", _ex("Paris")).correct
    f1 = make_judge("f1")
    assert isinstance(f1, F1Judge) and f1.judge("the big red dog", _ex("big red dog")).correct
    assert isinstance(make_judge("exact"), ExactJudge)
    assert isinstance(make_judge("contains"), ContainsJudge)
    with pytest.raises(ValueError, match="label set"):
        make_judge("label")
    with pytest.raises(ValueError, match="unknown scorer 'regex'"):
        make_judge("regex")
