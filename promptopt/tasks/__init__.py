"""The task suite: GSM8K, seven Instruction Induction tasks, seven BBH tasks and a generic
JSONL task (:func:`load_task`). Pure: no ``ray``, no LLM.

Data folders come from ``task.data_dir`` or the environment: ``GSM8K_DIR``,
``INSTRUCTION_INDUCTION_DIR``, ``BBH_DIR``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from promptopt.tasks.base import Example, Judge, Splits, Task, Verdict
from promptopt.tasks.bbh import LABELS as BBH_TASKS
from promptopt.tasks.formats import PromptFormat, Template
from promptopt.tasks.induction import SPECS as INDUCTION_TASKS

TASK_NAMES: tuple[str, ...] = ("gsm8k", *INDUCTION_TASKS, *BBH_TASKS, "jsonl")

__all__ = ["TASK_NAMES", "Example", "Judge", "PromptFormat", "Splits", "Task", "Template",
           "Verdict", "load_task"]  # fmt: skip


def load_task(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    prompt_format: PromptFormat | None = None,
    scorer: str | None = None,
    labels: Sequence[str] | None = None,
    template: str | None = None,
) -> Task:
    """The task called ``name``, its data read from ``data_dir`` (else the environment).

    Args:
        name: one of :data:`TASK_NAMES`.
        data_dir: the data folder (``jsonl``: the file or folder, required).
        prompt_format: GSM8K's OPRO format (other tasks have their own template).
        scorer: ``jsonl``: the declared scorer.
        labels: ``jsonl``: the label set of the ``label`` scorer.
        template: a prompt template overriding the task's (``{instruction}``, ``{input}``).

    Raises:
        ValueError: an unknown name (the message lists the known ones), or bad task data.
        FileNotFoundError: the data is not where it was said to be.
    """
    if name not in TASK_NAMES:
        raise ValueError(f"unknown task {name!r}; known tasks: {', '.join(TASK_NAMES)}.")
    if name == "gsm8k":
        from promptopt.tasks.gsm8k import gsm8k_task

        task = gsm8k_task(data_dir, prompt_format)
    elif name in INDUCTION_TASKS:
        from promptopt.tasks.induction import induction_task

        task = induction_task(name, data_dir)
    elif name in BBH_TASKS:
        from promptopt.tasks.bbh import bbh_task

        task = bbh_task(name, data_dir)
    else:
        from promptopt.tasks.jsonl import jsonl_task

        if data_dir is None or scorer is None:
            raise ValueError("task `jsonl` needs `task.data_dir` (a .jsonl file or a folder with "
                             "train.jsonl) and `task.scorer` (exact, label, number, contains, f1).")
        return jsonl_task(data_dir, scorer, labels=labels, template=template)
    if template is not None:
        from dataclasses import replace

        task = replace(task, prompt_format=Template(template))
    return task
