"""A user's own task with no code: ``{"input", "target"}`` lines plus a declared scorer.

``path`` is a ``.jsonl`` file (one pool: the test split is drawn first, then train and
validation) or a folder with ``train.jsonl`` and optionally ``test.jsonl`` (the test split
then comes from it). Every problem is reported before any LLM call: a missing file, a line
without ``input``/``target``, an empty file, a target outside the declared label set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from promptopt.tasks.base import Example, Task, dedupe
from promptopt.tasks.formats import Template
from promptopt.tasks.judges import make_judge

DEFAULT_TEMPLATE = "{instruction}\n\nInput: {input}\nOutput:"


def read_task_jsonl(path: Path, prefix: str) -> list[Example]:
    """``{"input", "target"}`` lines as examples ``<prefix>-<line index>``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a malformed line (named) or an empty file.
    """
    if not path.is_file():
        raise FileNotFoundError(f"task file {path} does not exist.")
    examples = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                source, target = row["input"], row["target"]
                if not isinstance(source, str) or not isinstance(target, (str, int, float)):
                    raise TypeError("`input` must be a string and `target` a string or number")
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{lineno}: malformed task line ({type(exc).__name__}: "
                                 f'{exc}); each line must be {{"input": "...", "target": "..."}}.') from exc
            examples.append(Example(f"{prefix}-{len(examples)}", source, str(target), str(target)))
    if not examples:
        raise ValueError(f"task file {path} is empty: it needs {{\"input\", \"target\"}} lines.")
    return examples


def jsonl_task(
    path: str | os.PathLike[str],
    scorer: str,
    *,
    labels: Sequence[str] | None = None,
    template: str | None = None,
    baseline: str = "",
    references: Sequence[str] = (),
    description: str = "task solver",
    max_tokens: int = 64,
) -> Task:
    """A :class:`Task` from a JSONL file or folder.

    Args:
        path: a ``.jsonl`` file, or a folder with ``train.jsonl`` (and ``test.jsonl``).
        scorer: one of :data:`promptopt.tasks.judges.SCORERS`.
        labels: the label set (``label`` scorer); every target must be in it.
        template: the prompt with ``{instruction}`` and ``{input}``.
        baseline: the instruction optimizers are compared with ("" = no instruction).
        references: instructions you wrote, reported as baselines to beat.
        description: the kind of prompt, for ProTeGi's templates.
        max_tokens: the scorer's answer length.

    Raises:
        FileNotFoundError: no such file or folder, or a folder without ``train.jsonl``.
        ValueError: a malformed line, an empty file, an unknown scorer, a target outside
            ``labels``.
    """
    root = Path(path)
    if root.is_dir():
        name = root.name
        pool = read_task_jsonl(root / "train.jsonl", f"{name}/train")
        test_file = root / "test.jsonl"
        test_pool = read_task_jsonl(test_file, f"{name}/test") if test_file.exists() else []
    elif root.is_file():
        name, pool, test_pool = root.stem, read_task_jsonl(root, root.stem), []
    else:
        raise FileNotFoundError(f"task data {root} does not exist: give a .jsonl file or a "
                                "folder with train.jsonl (and optionally test.jsonl).")
    judge = make_judge(scorer, tuple(labels) if labels else None)
    if labels:
        outside = sorted({e.gold for e in pool + test_pool} - set(labels))
        if outside:
            raise ValueError(f"{root}: targets {outside[:5]} are outside the declared label set "
                             f"{list(labels)}; fix the data or `task.labels`.")
    return Task(
        name=f"jsonl:{name}", description=description, pool=dedupe(pool),
        test_pool=dedupe(test_pool), prompt_format=Template(template or DEFAULT_TEMPLATE),
        judge=judge, baseline=baseline, references=tuple(references),
        labels=tuple(labels) if labels else None, max_tokens=max_tokens, source=str(root),
    )  # fmt: skip
