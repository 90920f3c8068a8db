"""A run's BO history in ``events.jsonl``: records, replay, warm start, initial texts (pure).

An ecoflow evaluation is written as promptopt writes one (``event: evaluated``, with
``instruction``, ``score``, ``n``, ``correct``, ``llm_calls``), so promptopt's progress plot
and report read it unchanged and one run can warm-start from the other; the
:class:`~ecoflow.bo.BOEvent` fields (round, source, embedding, round-trip cosine) ride along.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ecoflow.bo import WARM_START, BOEvent
from ecoflow.config import EcoflowConfig
from ecoflow.corpus import Corpus
from ecoflow.sources import retrieval_sources

log = logging.getLogger(__name__)
METHOD = "ecoflow"


def record(event: BOEvent, **extra: Any) -> dict[str, Any]:
    """The ``events.jsonl`` line of ``event`` (``extra``: ``n``, ``correct``, spend, ...)."""
    return {"method": METHOD, "event": "evaluated", "instruction": event.text,
            **event.to_dict(), **extra}


def bo_events(records: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """This run's recorded BO evaluations (what :meth:`FlowBO.run` resumes from)."""
    return [dict(r) for r in records if r.get("method") == METHOD and r.get("event") == "evaluated"]


def warm_start(records: Iterable[Mapping[str, Any]], expected_n: int | None = None) -> list[dict]:
    """Warm-start events from another run's ``evaluated`` records (promptopt or ecoflow).

    The first score of each distinct instruction is kept; embeddings are left out (the
    loop encodes the texts with its own encoder). Records scored on a different number of
    examples than ``expected_n`` are skipped with a warning: their scores are not comparable.

    Raises:
        ValueError: no usable ``evaluated`` record.
    """
    seen: dict[str, float] = {}
    skipped = 0
    for r in records:
        if r.get("event") != "evaluated" or not str(r.get("instruction", "")).strip():
            continue
        if expected_n is not None and r.get("n") not in (None, expected_n):
            skipped += 1
            continue
        seen.setdefault(str(r["instruction"]), float(r["score"]))
    if skipped:
        log.warning("warm start: skipped %d records scored on a different number of examples "
                    "than task.train_size=%s", skipped, expected_n)
    if not seen:
        raise ValueError("the warm-start file has no usable `evaluated` records (a promptopt or "
                         "ecoflow events.jsonl scored with the same task settings).")
    return [BOEvent(i, 0, text, score, WARM_START).to_dict() for i, (text, score) in enumerate(seen.items())]


def initial_texts(baseline: str, extra: Sequence[str], bank: Sequence[str], from_bank: int,
                  seed: int) -> list[str]:
    """Round 0: the baseline, the configured texts, then a seeded draw of ``from_bank`` bank
    texts (duplicates dropped, order kept)."""
    draw = random.Random(seed).sample(list(bank), min(from_bank, len(bank)))
    return list(dict.fromkeys([baseline, *extra, *draw]))


def round_zero(config: EcoflowConfig, corpus: Corpus, start: Sequence[str]) -> list[str]:
    """Round 0 of a run: ``start`` (promptopt's starting instructions: ``task.initial`` or
    the baseline, plus the references only with ``task.include_references``), then
    ``optimize.initial``, then a seeded draw of ``optimize.bank_initial`` corpus texts of the
    retrieval sources (:func:`ecoflow.sources.retrieval_sources`)."""
    o = config.optimize
    sources = retrieval_sources(o.bank_sources, config.embed.include_references)
    pool = [t for t, s in zip(corpus.texts, corpus.sources, strict=True) if s in sources]
    return initial_texts(start[0], [*start[1:], *o.initial], pool, o.bank_initial, o.seed)
