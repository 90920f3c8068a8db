"""Which corpus sources a run uses, by task: the task-dependent defaults in one place (pure).

============  ==================  =====================================  ===========  ===========
task          seed bank           GSM8K question sentences               ``induced``  references
============  ==================  =====================================  ===========  ===========
``gsm8k``     ``gsm8k`` (math)    ``task.data_dir`` or ``$GSM8K_DIR``    0            opt-in
any other     ``generic``         only with ``embed.gsm8k_dir``          32           opt-in
============  ==================  =====================================  ===========  ===========

Every ``embed.*`` value set in the config overrides its default. The task's reference
instructions join the corpus (source ``references``) only with ``embed.include_references``;
the decoder retrieves from ``bank`` and ``induced`` texts (plus ``references`` only then),
unless ``optimize.bank_sources`` lists its own.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ecoflow.config import EmbedConfig
from ecoflow.corpus import Corpus, collect_texts
from ecoflow.induce import Induction, induce_instructions
from promptopt.config import TaskConfig
from promptopt.tasks import Example, Task
from serving.protocols import LLM

GSM8K = "gsm8k"
DEFAULT_INDUCED = 32  # 8 calls of 4 replies: small next to a run's scoring calls
RETRIEVABLE = ("bank", "induced")  # instruction-like sources (GSM8K sentences are not)


@dataclass(frozen=True)
class CorpusPlan:
    """The resolved corpus sources of a run.

    Attributes:
        task: the task name.
        bank: the seed bank (``gsm8k`` or ``generic``), ``None`` for none.
        gsm8k_dir: the GSM8K folder whose question sentences join, ``None`` for none.
        gsm8k_max_questions: cap on those questions.
        induced: instructions to induce (0: none).
        references: whether the task's reference instructions join.
        files: user text files.
    """

    task: str
    bank: str | None
    gsm8k_dir: str | None
    gsm8k_max_questions: int | None
    induced: int
    references: bool
    files: tuple[str, ...] = ()

    @classmethod
    def from_config(cls, embed: EmbedConfig, task: TaskConfig) -> CorpusPlan:
        """Resolve ``embed``'s ``null`` defaults for ``task`` (see the module table)."""
        on_gsm8k = task.name == GSM8K
        bank = (embed.bank or (GSM8K if on_gsm8k else "generic")) if embed.include_bank else None
        folder = embed.gsm8k_dir
        if folder is None and on_gsm8k:
            folder = task.data_dir or os.environ.get("GSM8K_DIR") or None
        induced = embed.induced if embed.induced is not None else (0 if on_gsm8k else DEFAULT_INDUCED)
        return cls(task.name, bank, folder, embed.gsm8k_max_questions, induced,
                   embed.include_references, tuple(embed.files))

    @property
    def needs_task(self) -> bool:
        """Whether building the corpus reads the task's data (examples or references)."""
        return self.induced > 0 or self.references

    @property
    def needs_llm(self) -> bool:
        """Whether building the corpus calls the LLM (induction)."""
        return self.induced > 0


def gather(plan: CorpusPlan, embed: EmbedConfig, *, llm: LLM | None = None,
           task: Task | None = None, demos: Sequence[Example] = ()
           ) -> tuple[list[tuple[str, str]], dict[str, Any], Induction]:
    """The ``(text, source)`` pairs of ``plan``, the corpus metadata and the induction record.

    Args:
        plan: the resolved sources.
        embed: the induction settings (``induce_*``, ``seed``).
        llm: the optimizer model (needed when ``plan.induced`` > 0).
        task: the loaded task (needed for references).
        demos: the task's training examples to induce from.

    Raises:
        ValueError: a source needs an ``llm``, a ``task`` or ``demos`` that were not given.
    """
    induction = Induction()
    if plan.induced:
        if llm is None or not demos:
            raise ValueError(f"`embed.induced={plan.induced}` needs the served LLM and the "
                             "task's training examples; set `embed.induced=0` to build without.")
        induction = induce_instructions(
            llm, demos, plan.induced, num_demos=embed.induce_demos, per_call=embed.induce_per_call,
            temperature=embed.induce_temperature, max_tokens=embed.induce_max_tokens,
            seed=embed.seed)  # fmt: skip
    references: list[str] = []
    if plan.references:
        if task is None:
            raise ValueError("`embed.include_references=true` needs the task's references; "
                             "pass the loaded task.")
        references = list(task.references)
    pairs = collect_texts(plan.bank is not None, plan.gsm8k_dir, plan.gsm8k_max_questions,
                          plan.files, bank_kind=plan.bank or GSM8K, induced=induction.texts,
                          references=references)
    meta = {"task": plan.task, "bank": plan.bank, "gsm8k_dir": plan.gsm8k_dir,
            "induced": induction.summary(plan.induced), "references": len(references),
            "seed": embed.seed}
    return pairs, meta, induction


def retrieval_sources(bank_sources: Sequence[str] | None, include_references: bool) -> list[str]:
    """The decoder's retrieval sources: ``optimize.bank_sources``, else ``bank`` and
    ``induced`` plus ``references`` when ``embed.include_references``."""
    if bank_sources is not None:
        return list(bank_sources)
    return [*RETRIEVABLE, *(["references"] if include_references else [])]


def rows_from(corpus: Corpus, sources: Sequence[str]) -> list[int]:
    """Row indices of ``corpus`` whose source is in ``sources``, in corpus order.

    Raises:
        ValueError: no row matches (the message lists the corpus's sources).
    """
    keep = [i for i, s in enumerate(corpus.sources) if s in sources]
    if not keep:
        raise ValueError(f"the corpus has no text from `optimize.bank_sources` {list(sources)} "
                         f"(its sources: {sorted(set(corpus.sources))}); list some of them, or "
                         "rebuild the corpus with `python -m ecoflow embed`.")
    return keep
