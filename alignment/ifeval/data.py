"""The IFEval prompts (CC BY 4.0) from a folder, and a fixed evaluation subset.

The folder holds ``input_data.jsonl`` as Google released it: one line per prompt with
``key``, ``prompt``, ``instruction_id_list`` and ``kwargs``. Library code takes the folder as
an argument; :func:`resolve_dir` reads it from a setting or ``$IFEVAL_DIR``.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alignment.ifeval.checker import Constraint
from serving.config import ConfigError

ENV_VAR = "IFEVAL_DIR"
FILE = "input_data.jsonl"


@dataclass(frozen=True)
class IFEvalItem:
    """One IFEval prompt and the constraints its response must meet."""

    key: int
    prompt: str
    constraints: tuple[Constraint, ...]


def resolve_dir(setting: str = "") -> Path:
    """The IFEval folder: ``setting`` when given, else ``$IFEVAL_DIR``.

    Raises:
        ConfigError: neither is set, or the folder has no ``input_data.jsonl``.
    """
    folder = setting or os.environ.get(ENV_VAR, "")
    if not folder:
        raise ConfigError(f"the IFEval prompts are not configured: set `{ENV_VAR}=/path/to/ifeval` "
                          f"(the folder with `{FILE}`, e.g. shared/data/ifeval) or `eval.ifeval_dir`.")
    path = Path(folder).expanduser()
    if not (path / FILE).is_file():
        raise ConfigError(f"`{path}` has no `{FILE}`: point `{ENV_VAR}` or `eval.ifeval_dir` at "
                          "the IFEval folder.")
    return path


def load_items(folder: str | Path) -> list[IFEvalItem]:
    """Every prompt of ``folder/input_data.jsonl``, in file order.

    Raises:
        ValueError: a line without the four fields, or with one kwargs per instruction
            missing (names the line).
    """
    path = Path(folder) / FILE
    items = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        ids, kwargs = row.get("instruction_id_list"), row.get("kwargs")
        if "key" not in row or not row.get("prompt") or not ids or len(ids) != len(kwargs or []):
            raise ValueError(f"{path}:{number}: an IFEval line needs `key`, `prompt`, and one "
                             "`kwargs` mapping per `instruction_id_list` entry.")
        constraints = tuple(Constraint(i, {k: v for k, v in kw.items() if v is not None})
                            for i, kw in zip(ids, kwargs, strict=True))
        items.append(IFEvalItem(int(row["key"]), row["prompt"], constraints))
    return items


def subset(items: Sequence[IFEvalItem], n: int, seed: int) -> list[IFEvalItem]:
    """``n`` prompts drawn without replacement by ``random.Random(seed)``, in key order.

    The draw depends only on the set of keys, ``n`` and ``seed`` (not on file order), so
    the base model and every stage are scored on the same prompts.

    Raises:
        ConfigError: ``n`` is not in ``[1, len(items)]``.
    """
    if not 1 <= n <= len(items):
        raise ConfigError(f"`eval.ifeval_n` must be in [1, {len(items)}], got {n}.")
    ordered = sorted(items, key=lambda item: item.key)
    return sorted(random.Random(seed).sample(ordered, n), key=lambda item: item.key)
