"""GSM8K's local JSONL files, read and checked once for every package that needs them.

promptopt's GSM8K task, ecoflow (through it) and compress's lm-eval tasks and calibration
texts all read the same ``train.jsonl`` / ``test.jsonl`` (the layout of the ``openai/gsm8k``
``main`` config: one ``{"question", "answer"}`` object per line, the answer ending in
``#### N``). It lives here, in the package below all of them, so that compress need not import
promptopt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NamedTuple

FIX = "set GSM8K_DIR (or pass `data_dir`) to a folder holding train.jsonl and test.jsonl"


class Problem(NamedTuple):
    """One GSM8K problem: the question, the worked solution, and its final number."""

    question: str
    answer_text: str
    gold: str


def parse_gold(answer_text: str) -> str:
    """Returns the final answer after the last ``####`` with thousands separators removed.

    Raises:
        ValueError: when there is no ``####`` or what follows it is not a number.
    """
    if "####" not in answer_text:
        raise ValueError("the answer has no `#### N` final-answer line")
    gold = answer_text.rsplit("####", 1)[1].strip().replace(",", "")
    try:
        float(gold)
    except ValueError:
        raise ValueError(f"the final answer after `####` is not a number: {gold!r}") from None
    return gold


def read_problems(path: Path) -> list[Problem]:
    """Reads GSM8K problems from one JSONL file, in file order.

    Raises:
        FileNotFoundError: the file does not exist (the message names the fix).
        ValueError: the file is empty, or a line is malformed (the message names the line).
    """
    if not path.is_file():
        raise FileNotFoundError(f"GSM8K split file {path} does not exist: {FIX}.")
    problems: list[Problem] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                question, answer = row["question"], row["answer"]
                problems.append(Problem(question, answer, parse_gold(answer)))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"{path}:{lineno}: malformed GSM8K line ({type(exc).__name__}: {exc}); "
                    'each line must be a JSON object {"question": ..., "answer": "... #### N"}.'
                ) from exc
    if not problems:
        raise ValueError(f"GSM8K split file {path} is empty: {FIX}.")
    return problems
