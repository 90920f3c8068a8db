"""GSM8K: loading the examples; the task (OPRO's prompt format, last-number judge).

Example ids are ``"<split>-<line index>"`` (``"test-0"`` is the first test problem) and
``gold`` is the final answer ``N`` without thousands separators. The data comes from a local folder (``train.jsonl`` / ``test.jsonl``, the layout of the
``openai/gsm8k`` ``main`` config) when one is given or ``GSM8K_DIR`` is set, else from the
Hugging Face hub through ``datasets``. Prompt formats follow OPRO's ``gen_prompt``
(google-deepmind/opro ``opro/evaluation/eval_utils.py``).
"""

from __future__ import annotations

import os
from pathlib import Path

from promptopt.tasks.base import Example, Task
from promptopt.tasks.formats import PromptFormat
from promptopt.tasks.judges import NumberJudge
from serving.gsm8k import FIX, parse_gold, read_problems

SPLITS: tuple[str, ...] = ("train", "test")


def read_jsonl(path: Path, split: str) -> list[Example]:
    """Reads GSM8K examples from one JSONL file (:func:`serving.gsm8k.read_problems`), ids
    ``"<split>-<index>"``.

    Raises:
        FileNotFoundError: the file does not exist (the message names the fix).
        ValueError: the file is empty, or a line is malformed (the message names the line).
    """
    return [Example(f"{split}-{i}", *p) for i, p in enumerate(read_problems(path))]


def _hub_offline() -> bool:
    flags = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")
    return any(os.environ.get(f, "").lower() in {"1", "true", "yes", "on"} for f in flags)


def _load_from_hub(split: str) -> list[Example]:
    import datasets  # a heavy import, only needed on this path

    try:
        rows = datasets.load_dataset("openai/gsm8k", "main", split=split)
    except (OSError, ConnectionError, ValueError) as exc:
        raise RuntimeError(f"could not load openai/gsm8k from the hub ({exc}): {FIX}.") from exc
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
            raise FileNotFoundError(f"GSM8K folder {path} does not exist: {FIX}.")
        return read_jsonl(path / f"{split}.jsonl", split)
    if _hub_offline():
        raise FileNotFoundError(f"no GSM8K folder given and the hub is offline: {FIX}.")
    return _load_from_hub(split)




def gsm8k_task(data_dir: str | os.PathLike[str] | None = None,
               prompt_format: PromptFormat | None = None) -> Task:
    """GSM8K as a :class:`Task`: train pool, test pool, OPRO's baseline ``Let's solve the
    problem.``, last-number judge, 400-token answers (chain of thought)."""
    return Task(
        name="gsm8k", description="math word problem solver",
        pool=load_gsm8k("train", data_dir), test_pool=load_gsm8k("test", data_dir),
        prompt_format=prompt_format or PromptFormat(), judge=NumberJudge(),
        baseline="Let's solve the problem.", references=("Let's think step by step.",),
        max_tokens=400, source="openai/grade-school-math (MIT)",
    )  # fmt: skip
