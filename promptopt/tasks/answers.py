"""Answer extractors: from a chatty model output to the short answer a task scores.

Every extractor is a pure function ``(output, example) -> str | None``; ``None`` means it
found nothing (the evaluation then scores 0 and is counted as ``unparsed``, never a crash).
Small instruct models answer in sentences ("The larger animal is a penguin.", "The sum of
the two numbers is 91"), so the extractor is part of a task's definition and every report
gives its score beside APE's strict score (:func:`ape_normalize`, exact match).

Rules, in the order each extractor applies them (table-tested in
``tests/promptopt/tasks/test_answers.py`` on real SmolLM2-135M outputs):

- :func:`extract_label`: the first whole-word occurrence of any label (case-insensitive).
  Options written ``(A)`` match ``(A)``, ``A)`` or an answer that is just ``A``.
- :func:`extract_number`: the last number (GSM8K's rule, :mod:`promptopt.extract`).
- :func:`extract_choice`: among the example's candidate answers (``larger_animal``'s two
  animals), the one named first once an echo of the input is removed.
- :func:`extract_letters`: the longest run of single letters (``p l a c e``, ``p-l-a-c-e``,
  ``P, L, A, C, E``), joined by spaces.
- :func:`extract_word`: the first sentence's last quoted span, else what follows its last
  `` is `` / `` are `` / ``:``, else its last word; lower-cased, punctuation stripped.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from promptopt.extract import extract_number as _last_number
from promptopt.extract import format_number

_PUNCT = str.maketrans("", "", string.punctuation)
_QUOTED = re.compile(r"[\"'“‘`*]+([^\"'“”‘’`*]+?)[\"'”’`*]+")
_COPULA = re.compile(r"\b(?:is|are|would be|will be)\b\s*:?\s*|:\s*", re.IGNORECASE)
_LETTER_RUN = re.compile(r"(?<![A-Za-z])[A-Za-z](?:[\s,;\-–/]+[A-Za-z](?![A-Za-z]))+")
_SENTENCE_END = re.compile(r"(?<=[a-z0-9\"'”’)])[.!?](?:\s|$)")


def ape_normalize(text: str) -> str:
    """APE's exact-match normalization (Instruction Induction's ``normalize_prediction``):
    ``" and "`` to a space, the first line, cut at the first ``"."``, lower-cased,
    ``"-"`` to a space, punctuation removed, outer whitespace stripped."""
    text = text.replace(" and ", " ").strip().split("\n")[0].split(".")[0].lower()
    return text.replace("-", " ").translate(_PUNCT).strip()


def sentences(text: str) -> list[str]:
    """The non-blank lines of ``text`` cut at sentence ends (``.``, ``!``, ``?``), in order."""
    out = []
    for line in text.splitlines():
        out += [s.strip() for s in _SENTENCE_END.split(line.strip()) if s.strip()]
    return out


def first_sentence(text: str) -> str:
    """The first sentence of the first non-blank line (``""`` for a blank text)."""
    return next(iter(sentences(text)), "")


def _word_pattern(label: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w(]){re.escape(label)}(?![\w)])", re.IGNORECASE)


def extract_label(output: str, labels: Sequence[str]) -> str | None:
    """The label named first in ``output`` (returned as spelled in ``labels``), or ``None``.

    Example:
        >>> extract_label("The sentiment of this review is negative.", ["positive", "negative"])
        'negative'
    """
    options = [lab for lab in labels if re.fullmatch(r"\([A-Z]\)", lab)]
    best: tuple[int, str] | None = None
    for lab in labels:
        if lab in options:
            letter = lab[1]
            pattern = re.compile(rf"\({letter}\)|(?<![\w(]){letter}\)")
        else:
            pattern = _word_pattern(lab)
        match = pattern.search(output)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), lab)
    if best is None and options:
        bare = output.strip().strip(".:").upper()
        best = next(((0, lab) for lab in options if lab[1] == bare), None)
    return None if best is None else best[1]


def extract_number(output: str) -> str | None:
    """The last number in ``output`` as GSM8K writes it (``"91"``, ``"-3"``, ``"0.5"``)."""
    value = _last_number(output)
    return None if value is None else format_number(value)


def extract_choice(output: str, choices: Sequence[str], echo: str = "") -> str | None:
    """The candidate answer named first in ``output``, ignoring a verbatim echo of the input.

    Example:
        >>> extract_choice("The larger animal is the alligator.", ["mirror carp", "alligator"])
        'alligator'
    """
    text = output.replace(echo, " ") if echo else output
    found = [(m.start(), c) for c in choices if (m := _word_pattern(c).search(text))]
    return min(found)[1] if found else None


def extract_letters(output: str) -> str | None:
    """The longest run of single letters, lower-cased and space-separated (``"p l a c e"``)."""
    runs = [m.group(0) for m in _LETTER_RUN.finditer(output)]
    if not runs:
        word = first_sentence(output).strip().translate(_PUNCT)
        return " ".join(word.lower()) if len(word) == 1 else None
    letters = re.findall(r"[A-Za-z]", max(runs, key=lambda r: len(re.findall(r"[A-Za-z]", r))))
    return " ".join(ch.lower() for ch in letters)


def extract_word(output: str) -> str | None:
    """The short answer of a one-word task (antonyms, plurals, first letters).

    Example:
        >>> extract_word("The plural of 'life' is 'lives'.")
        'lives'
    """
    parts_of = sentences(output)
    # a preamble ("Sure!", "Here it is:") carries no answer: take the first sentence that
    # quotes or states something, else the first one
    sentence = next((s for s in parts_of if _QUOTED.search(s) or _COPULA.search(s)),
                    parts_of[0] if parts_of else "")
    quoted = [q.strip() for q in _QUOTED.findall(sentence) if q.strip()]
    if quoted:
        answer = quoted[-1]
    else:
        parts = _COPULA.split(sentence)
        answer = parts[-1] if len(parts) > 1 and parts[-1].strip() else sentence
        words = answer.split()
        answer = words[-1] if len(words) > 1 and len(parts) == 1 else answer
    answer = answer.lower().replace("-", " ").translate(_PUNCT).strip()
    answer = re.sub(r"^(?:the|a|an)\s+", "", answer)
    return answer or None
