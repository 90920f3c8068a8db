"""Answer extraction: the last number of an output, on many awkward outputs."""

from __future__ import annotations

import pytest

from promptopt.extract import extract_number, format_number, is_correct, numbers_match

CASES = [
    ("The answer is 18.", 18.0),
    ("18", 18.0),
    ("#### 72", 72.0),
    ("She makes $18 every day.", 18.0),
    ("Total: $1,234.50", 1234.5),
    ("1,234,567 people", 1234567.0),
    ("21,000 and then 1,000,000.", 1000000.0),
    ("x = -3", -3.0),
    ("The temperature drops to -12 degrees.", -12.0),
    ("-$5", -5.0),
    ("$-5", -5.0),
    ("+3", 3.0),
    ("\u22127", -7.0),  # Unicode minus sign
    ("It is 0.5 of the cake", 0.5),
    ("It is .5 of the cake", 0.5),
    ("The result is 7.00", 7.0),
    ("Answer: 42!", 42.0),
    ("**18**", 18.0),
    ("\\boxed{18}", 18.0),
    ("(answer 42)", 42.0),
    ("The discount is 50%.", 50.0),
    ("That is 12.5% of it", 12.5),
    ("5 + 3 = 8\nSo the answer is 8", 8.0),
    ("5-3", 3.0),  # subtraction, not a negative number
    ("5 - 3", 3.0),
    ("(3+2)-5", 5.0),
    ("It costs 5 dollars, and 6 cents.", 6.0),
    ("Price: \u20ac30", 30.0),
    ("$ 45", 45.0),
    ("abc123", 123.0),
    ("The 3rd answer", 3.0),
    ("1/2", 2.0),  # fractions are not evaluated: the last number is 2
    ("Version 1.2.3", 3.0),
    ("1,2345", 2345.0),  # not a thousands group: 1 then 2345
    ("Total = 1,234.", 1234.0),
    ("He ran 3.14159 miles.", 3.14159),
    ("no numbers here", None),
    ("", None),
    ("The answer is 10\n\n", 10.0),
    ("First 1,000 then 20", 20.0),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_number(text: str, expected: float | None) -> None:
    assert extract_number(text) == expected


def test_there_are_many_cases() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    ("predicted", "gold", "match"),
    [
        (3.0, 3.0, True),
        (3.0000005, 3.0, True),
        (3.00001, 3.0, False),
        (None, 3.0, False),
        (float("nan"), 3.0, False),
        (-10.0, -10.0, True),
    ],
)
def test_numbers_match(predicted: float | None, gold: float, match: bool) -> None:
    assert numbers_match(predicted, gold) is match


def test_is_correct_reads_gold_strings() -> None:
    assert is_correct("so she pays $1,080.", "1080")
    assert is_correct("so she pays $1,080.", "1,080")
    assert is_correct("The answer is 7.0", "7")
    assert not is_correct("The answer is 71", "7")
    assert not is_correct("I don't know", "7")


def test_format_number() -> None:
    assert [format_number(v) for v in (18.0, -3.0, 0.5)] == ["18", "-3", "0.5"]
