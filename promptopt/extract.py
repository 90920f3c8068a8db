"""Final-answer extraction for GSM8K: the last number in a model's output.

Tolerant of currency signs (``$1,234``), thousands separators, signs (``-3``, ``+3``,
``−3`` with a Unicode minus), decimals (``.5``, ``7.00``), percentages and trailing
punctuation (``42.``, ``**18**``). A minus sign right after a digit is read as subtraction,
not a sign (``10-2`` ends in ``2``). Fractions are not evaluated (``1/2`` ends in ``2``).
"""

from __future__ import annotations

import math
import re

# A number: an optional sign (only when glued to the digits and not to a preceding word, digit
# or bracket, so ``5-3`` and ``5 - 3`` end in ``3``), an optional currency sign, then
# comma-grouped digits (``1,234``), plain digits or a bare decimal (``.5``).
_NUMBER = re.compile(
    r"(?:(?<![\w.)])(?P<sign>[-+]))?"
    r"(?:[$€£]\s*)?"
    r"(?P<body>\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d|,\d)|\d+(?:\.\d+)?|(?<!\d)\.\d+)"
)
_MINUS_LIKE = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-", "\uff0d": "-"})
TOLERANCE = 1e-6


def extract_number(text: str) -> float | None:
    """Returns the value of the last number in ``text``, or ``None`` when there is none.

    Example:
        >>> extract_number("She pays $1,234.50 in total.")
        1234.5
    """
    matches = list(_NUMBER.finditer(text.translate(_MINUS_LIKE)))
    if not matches:
        return None
    last = matches[-1]
    value = float(last.group("body").replace(",", ""))
    return -value if last.group("sign") == "-" else value


def format_number(value: float) -> str:
    """Renders a number the way GSM8K writes answers: ``18``, ``-3``, ``0.5``."""
    if value == int(value):
        return str(int(value))
    return repr(value)


def numbers_match(predicted: float | None, gold: float, tol: float = TOLERANCE) -> bool:
    """True when ``predicted`` is within ``tol`` of ``gold`` (``None`` never matches)."""
    return predicted is not None and math.isfinite(predicted) and abs(predicted - gold) <= tol


def is_correct(output: str, gold: str, tol: float = TOLERANCE) -> bool:
    """Whether the last number of a model ``output`` equals the ``gold`` answer string."""
    return numbers_match(extract_number(output), float(gold.replace(",", "")), tol)
