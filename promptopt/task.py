"""GSM8K: loading the examples and turning an instruction plus a question into a prompt.

The data comes from a local folder (``train.jsonl`` / ``test.jsonl``, the layout of the
``openai/gsm8k`` ``main`` config) when one is given or ``GSM8K_DIR`` is set, else from the
Hugging Face hub through ``datasets``. Prompt formats follow OPRO's ``gen_prompt``
(google-deepmind/opro ``opro/evaluation/eval_utils.py``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from serving.protocols import Message

Position = Literal["Q_begin", "Q_end", "A_begin"]
POSITIONS: tuple[str, ...] = ("Q_begin", "Q_end", "A_begin")
SPLITS: tuple[str, ...] = ("train", "test")
_FIX = "set GSM8K_DIR (or pass `data_dir`) to a folder holding train.jsonl and test.jsonl"


@dataclass(frozen=True)
class Example:
    """One GSM8K problem.

    Attributes:
        id: stable id, ``"<split>-<line index>"`` (``"test-0"`` is the first test problem).
        question: the word problem.
        answer_text: the reference solution, ending in ``#### N``.
        gold: the final answer ``N`` without thousands separators (``"1080"``, ``"-3"``).
    """

    id: str
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


def read_jsonl(path: Path, split: str) -> list[Example]:
    """Reads GSM8K examples from one JSONL file (one ``{"question", "answer"}`` per line).

    Raises:
        FileNotFoundError: the file does not exist (the message names the fix).
        ValueError: the file is empty, or a line is malformed (the message names the line).
    """
    if not path.is_file():
        raise FileNotFoundError(f"GSM8K split file {path} does not exist: {_FIX}.")
    examples: list[Example] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                question, answer = row["question"], row["answer"]
                gold = parse_gold(answer)
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise ValueError(
                    f"{path}:{lineno}: malformed GSM8K line ({type(exc).__name__}: {exc}); "
                    'each line must be a JSON object {"question": ..., "answer": "... #### N"}.'
                ) from exc
            examples.append(Example(f"{split}-{len(examples)}", question, answer, gold))
    if not examples:
        raise ValueError(f"GSM8K split file {path} is empty: {_FIX}.")
    return examples


def _hub_offline() -> bool:
    flags = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
    return any(os.environ.get(f, "").lower() in {"1", "true", "yes", "on"} for f in flags)


def _load_from_hub(split: str) -> list[Example]:
    import datasets  # a heavy import, only needed on this path

    try:
        rows = datasets.load_dataset("openai/gsm8k", "main", split=split)
    except (OSError, ConnectionError, ValueError) as exc:
        raise RuntimeError(f"could not load openai/gsm8k from the hub ({exc}): {_FIX}.") from exc
    return [
        Example(f"{split}-{i}", row["question"], row["answer"], parse_gold(row["answer"]))
        for i, row in enumerate(rows)
    ]


def load_gsm8k(
    split: str = "train", data_dir: str | os.PathLike[str] | None = None
) -> list[Example]:
    """Loads one GSM8K split (train: 7,473 problems, test: 1,319).

    Args:
        split: ``"train"`` or ``"test"``.
        data_dir: a folder with ``train.jsonl`` / ``test.jsonl``; defaults to ``$GSM8K_DIR``.
            Without either, the split is downloaded from the hub unless the environment is
            offline (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``).

    Raises:
        ValueError: an unknown split, an empty file or a malformed line.
        FileNotFoundError: the folder or the split file is missing, or no source is available.
    """
    if split not in SPLITS:
        raise ValueError(f"`split` must be one of {SPLITS}, got {split!r}.")
    folder = data_dir if data_dir is not None else os.environ.get("GSM8K_DIR")
    if folder:
        path = Path(folder)
        if not path.is_dir():
            raise FileNotFoundError(f"GSM8K folder {path} does not exist: {_FIX}.")
        return read_jsonl(path / f"{split}.jsonl", split)
    if _hub_offline():
        raise FileNotFoundError(f"no GSM8K folder given and the hub is offline: {_FIX}.")
    return _load_from_hub(split)


@dataclass(frozen=True)
class PromptFormat:
    """Where the instruction goes, exactly as OPRO's ``gen_prompt`` places it.

    Attributes:
        position: ``Q_begin`` (before the question), ``Q_end`` (after it) or ``A_begin``
            (at the start of the answer; needs ``include_qa``).
        include_qa: wrap the question in OPRO's ``Q: ... A:`` scaffold.
    """

    position: Position = "Q_end"
    include_qa: bool = True

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"`position` must be one of {POSITIONS}, got {self.position!r}.")
        if self.position == "A_begin" and not self.include_qa:
            raise ValueError(
                "`position='A_begin'` needs `include_qa=True` (OPRO defines no other)."
            )

    def render(self, question: str, instruction: str) -> str:
        """The prompt text for one question (OPRO's ``gen_prompt`` for GSM8K)."""
        if not self.include_qa:
            if self.position == "Q_begin":
                return (instruction + "\n" if instruction else "") + question
            return question + ("\n" + instruction if instruction else "")
        if self.position == "Q_begin":
            return ("Q: " + instruction + "\n" if instruction else "Q: ") + question + "\n\nA:"
        if self.position == "Q_end":
            return "Q: " + question + ("\n" + instruction if instruction else "") + "\n\nA:"
        return f"Q: {question}\n\nA:" + (f" {instruction}" if instruction else "")

    def messages(self, question: str, instruction: str) -> list[Message]:
        """The chat form: the whole prompt is the user message."""
        return [{"role": "user", "content": self.render(question, instruction)}]
