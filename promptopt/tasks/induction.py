"""The seven Instruction Induction tasks (Honovich et al. 2022; Apache-2.0), as APE,
InstructZero, INSTINCT and ZOPO use them.

Data: ``$INSTRUCTION_INDUCTION_DIR`` (or ``data_dir``) with ``raw/induce/<task>.json`` (the
large pool), ``raw/execute/<task>.json`` (100 examples, the papers' test split) and
``annotations/<task>.json`` (instructions written by people). The held-out test split is
the 100 ``execute`` examples topped up from the induce pool (seeded) to ``test_size``;
train and validation come from the rest of the pool. Inputs are de-duplicated and no pool
input equals an ``execute`` input.

Format: ``{instruction}\\n\\nInput: {input}\\nOutput:`` as the user message. Baseline: the
first instruction people wrote for the task (fixed, not chosen on results); the others are
the references.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from promptopt.tasks.base import Example, Task, dedupe
from promptopt.tasks.formats import Template
from promptopt.tasks.judges import ChoiceJudge, ExtractJudge, LabelJudge, NumberJudge

ENV = "INSTRUCTION_INDUCTION_DIR"
TEMPLATE = "{instruction}\n\nInput: {input}\nOutput:"
SOURCE = "orhonovich/instruction-induction (Apache-2.0)"


@dataclass(frozen=True)
class InductionSpec:
    """How one task is judged and described."""

    description: str
    judge: object
    labels: tuple[str, ...] | None = None
    max_tokens: int = 32


SPECS: dict[str, InductionSpec] = {
    "sentiment": InductionSpec("sentiment classifier", LabelJudge(("positive", "negative")),
                               ("positive", "negative"), 16),
    "larger_animal": InductionSpec("larger-animal picker", ChoiceJudge()),
    "first_word_letter": InductionSpec("first-letter extractor", ExtractJudge("word")),
    "letters_list": InductionSpec("word speller", ExtractJudge("letters"), max_tokens=48),
    "sum": InductionSpec("adder of two numbers", NumberJudge()),
    "antonyms": InductionSpec("antonym writer", ExtractJudge("word")),
    "singular_to_plural": InductionSpec("pluralizer", ExtractJudge("word")),
}  # fmt: skip


def _folder(data_dir: str | os.PathLike[str] | None) -> Path:
    folder = data_dir if data_dir is not None else os.environ.get(ENV)
    if not folder:
        raise FileNotFoundError(f"set {ENV} (or `task.data_dir`) to the instruction-induction "
                                "folder (raw/induce, raw/execute, annotations).")
    path = Path(folder)
    if not (path / "raw" / "execute").is_dir():
        raise FileNotFoundError(f"{path} is not an instruction-induction folder (no raw/execute/): "
                                f"set {ENV} or `task.data_dir`.")
    return path


def read_examples(path: Path, task: str, split: str) -> list[Example]:
    """The examples of one raw file, ids ``<task>/<split>-<key>``.

    Raises:
        FileNotFoundError: the file is missing.
        ValueError: it is not in the ``{"examples": {key: {"input", "output"}}}`` format.
    """
    if not path.is_file():
        raise FileNotFoundError(f"instruction-induction file {path} does not exist.")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))["examples"]
        examples = [
            Example(f"{task}/{split}-{key}", str(r["input"]), str(r["output"]), str(r["output"]),
                    (str(r["small"]), str(r["large"])) if "large" in r else ())
            for key, r in rows.items()
        ]  # fmt: skip
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{path}: not an instruction-induction file ({type(exc).__name__}: "
                         f"{exc}); expected {{\"examples\": {{key: {{\"input\", \"output\"}}}}}}.") from exc
    if not examples:
        raise ValueError(f"{path} has no examples.")
    return examples


def induction_task(name: str, data_dir: str | os.PathLike[str] | None = None) -> Task:
    """One of :data:`SPECS` as a :class:`Task`."""
    spec = SPECS[name]
    folder = _folder(data_dir)
    test_pool = dedupe(read_examples(folder / "raw" / "execute" / f"{name}.json", name, "execute"))
    held = {e.question for e in test_pool}
    pool = [e for e in dedupe(read_examples(folder / "raw" / "induce" / f"{name}.json", name,
                                            "induce")) if e.question not in held]
    people = json.loads((folder / "annotations" / f"{name}.json").read_text())["annotations"]
    people = [p.strip() for p in people if p.strip()]
    if not people:
        raise ValueError(f"{folder}/annotations/{name}.json lists no instruction.")
    return Task(
        name=name, description=spec.description, pool=pool, test_pool=test_pool,
        prompt_format=Template(TEMPLATE), judge=spec.judge, baseline=people[0],
        references=tuple(dict.fromkeys(people)), labels=spec.labels,
        max_tokens=spec.max_tokens, source=SOURCE,
    )  # fmt: skip
