"""Seven binary BIG-Bench Hard tasks (Suzgun et al. 2022; MIT).

Data: ``$BBH_DIR`` (or ``data_dir``) with ``<task>.json`` = ``{"examples": [{"input",
"target"}]}`` (178–250 examples). One pool: the held-out test split is drawn first (seeded),
then train and validation. The data has no instructions written by people, so the task has
no references; the baseline is a plain ``Answer the question.``. Labels are skewed on some
tasks: reports give the majority-label accuracy beside every score.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from promptopt.tasks.base import Example, Task, dedupe
from promptopt.tasks.formats import Template
from promptopt.tasks.judges import LabelJudge

ENV = "BBH_DIR"
TEMPLATE = "{instruction}\n\nQ: {input}\nA:"
LABELS: dict[str, tuple[str, ...]] = {
    "boolean_expressions": ("True", "False"),
    "causal_judgement": ("Yes", "No"),
    "web_of_lies": ("Yes", "No"),
    "sports_understanding": ("yes", "no"),
    "formal_fallacies": ("valid", "invalid"),
    "hyperbaton": ("(A)", "(B)"),
    "snarks": ("(A)", "(B)"),
}


def bbh_task(name: str, data_dir: str | os.PathLike[str] | None = None) -> Task:
    """One of :data:`LABELS` as a :class:`Task` (label judge, 32-token answers)."""
    folder = data_dir if data_dir is not None else os.environ.get(ENV)
    if not folder:
        raise FileNotFoundError(f"set {ENV} (or `task.data_dir`) to the folder of BBH json files.")
    path = Path(folder) / f"{name}.json"
    if not path.is_file():
        raise FileNotFoundError(f"BBH file {path} does not exist: set {ENV} or `task.data_dir`.")
    labels = LABELS[name]
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["examples"]
        pool = [Example(f"{name}/{i}", str(r["input"]), str(r["target"]), str(r["target"]))
                for i, r in enumerate(rows)]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: not a BBH file ({type(exc).__name__}: {exc}); expected "
                         '{"examples": [{"input", "target"}]}.') from exc
    bad = sorted({e.gold for e in pool} - set(labels))
    if bad:
        raise ValueError(f"{path}: targets {bad} are outside the label set {labels}.")
    return Task(
        name=name, description=f"{name.replace('_', ' ')} question answerer", pool=dedupe(pool),
        prompt_format=Template(TEMPLATE), judge=LabelJudge(labels),
        baseline="Answer the question.", labels=labels, max_tokens=32,
        source="suzgunmirac/BIG-Bench-Hard (MIT)",
    )  # fmt: skip
