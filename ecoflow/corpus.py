"""The embedding corpus: texts → vectors through an :class:`~serving.protocols.Encoder`.

Texts come from a seed bank (:mod:`ecoflow.bank`), GSM8K question sentences (a local
folder), instructions induced from the task's examples (:mod:`ecoflow.induce`), the task's
reference instructions when asked, and any user file (one text per line); which of them a
run uses is decided in :mod:`ecoflow.sources`. The vectors, the texts, where each text came
from, the normalization statistics and the metadata (task, bank, induction calls) are saved
together in one torch file, so a flow model, a decoder's retrieval bank and a validation
report all read the same thing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ecoflow.bank import bank
from serving.protocols import Encoder

FORMAT_VERSION = 1
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9$])")


@dataclass
class Corpus:
    """Texts and their embeddings.

    Attributes:
        texts: ``n`` unique texts.
        sources: ``n`` origins (``bank``, ``gsm8k``, ``induced``, ``references`` or a file
            path).
        vectors: ``n x d`` float32 embeddings, row ``i`` is ``texts[i]``.
        encoder: name of the encoder that produced them (a corpus only fits its encoder).
        mean: ``d`` per-coordinate mean of ``vectors``.
        std: ``d`` per-coordinate standard deviation (at least ``1e-6``).
        meta: how it was built (JSON-ready): task, bank, induction counts and LLM calls.
    """

    texts: list[str]
    sources: list[str]
    vectors: Tensor
    encoder: str = ""
    mean: Tensor = field(default=None)  # type: ignore[assignment]
    std: Tensor = field(default=None)  # type: ignore[assignment]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.texts)
        if len(self.sources) != n or self.vectors.dim() != 2 or self.vectors.shape[0] != n:
            raise ValueError(f"`texts` ({n}), `sources` ({len(self.sources)}) and `vectors` "
                             f"{tuple(self.vectors.shape)} must have one row per text.")
        self.vectors = self.vectors.float()
        if self.mean is None:
            self.mean = self.vectors.mean(dim=0)
        if self.std is None:
            std = self.vectors.std(dim=0) if n > 1 else torch.ones(self.dim)
            self.std = std.clamp_min(1e-6)

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.texts)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write everything to one torch file (atomically)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        torch.save({"version": FORMAT_VERSION, "texts": self.texts, "sources": self.sources,
                    "vectors": self.vectors, "encoder": self.encoder, "mean": self.mean,
                    "std": self.std, "meta": self.meta}, tmp)
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Corpus:
        """Inverse of :meth:`save`."""
        data: dict[str, Any] = torch.load(Path(path), map_location="cpu", weights_only=False)
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"{path} is not an ecoflow corpus (format {data.get('version')}); "
                             "rebuild it with `python -m ecoflow embed`.")
        return cls(texts=list(data["texts"]), sources=list(data["sources"]), vectors=data["vectors"],
                   encoder=data["encoder"], mean=data["mean"], std=data["std"],
                   meta=dict(data.get("meta") or {}))  # older files have no metadata


def question_sentences(question: str, min_words: int = 3) -> list[str]:
    """Split a word problem into sentences of at least ``min_words`` words."""
    parts = (s.strip() for s in _SENTENCE_END.split(question.strip()))
    return [s for s in parts if len(s.split()) >= min_words]


def gsm8k_sentences(data_dir: str | os.PathLike[str] | None, split: str = "train",
                    max_questions: int | None = None) -> list[str]:
    """Question sentences of GSM8K (``data_dir`` or ``$GSM8K_DIR``); ``[]`` when neither is set."""
    folder = data_dir or os.environ.get("GSM8K_DIR")
    if not folder:
        return []
    from promptopt.tasks.gsm8k import load_gsm8k

    examples = load_gsm8k(split, folder)[:max_questions]
    return [s for ex in examples for s in question_sentences(ex.question)]


def read_text_file(path: str | os.PathLike[str]) -> list[str]:
    """Non-empty lines of a UTF-8 file, stripped."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def collect_texts(include_bank: bool = True, gsm8k_dir: str | None = None,
                  gsm8k_max_questions: int | None = None, files: Sequence[str] = (), *,
                  bank_kind: str = "gsm8k", induced: Sequence[str] = (),
                  references: Sequence[str] = ()) -> list[tuple[str, str]]:
    """``(text, source)`` pairs from every source, first occurrence of a text kept.

    Args:
        include_bank: the ``bank_kind`` seed bank (source ``bank``).
        gsm8k_dir: GSM8K question sentences from this folder (source ``gsm8k``); ``None``:
            none (the task-dependent default is resolved in :mod:`ecoflow.sources`).
        gsm8k_max_questions: cap on GSM8K questions.
        files: text files, one text per line (source: the path).
        bank_kind: ``gsm8k`` or ``generic``.
        induced: induced instructions (source ``induced``).
        references: the task's reference instructions (source ``references``); pass them
            only when the config includes them.
    """
    pairs: list[tuple[str, str]] = []
    if include_bank:
        pairs += [(t, "bank") for t in bank(kind=bank_kind)]
    if gsm8k_dir:
        pairs += [(t, "gsm8k") for t in gsm8k_sentences(gsm8k_dir, max_questions=gsm8k_max_questions)]
    pairs += [(t, "induced") for t in induced]
    pairs += [(t, "references") for t in references]
    for path in files:
        pairs += [(t, str(path)) for t in read_text_file(path)]
    return _dedupe(pairs)


def _dedupe(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {}
    for text, source in pairs:
        seen.setdefault(text, source)
    return list(seen.items())


def build_corpus(pairs: Sequence[tuple[str, str]], encoder: Encoder, encoder_name: str = "",
                 batch_size: int = 256, progress: bool = False,
                 meta: dict[str, Any] | None = None) -> Corpus:
    """Encode ``(text, source)`` pairs in batches into a :class:`Corpus` (``meta`` rides along).

    Raises:
        ValueError: no texts, or the encoder returned rows of the wrong size.
    """
    if not pairs:
        raise ValueError("no texts to embed: enable the bank (`embed.include_bank`), set "
                         "`embed.induced` > 0, `embed.gsm8k_dir` or `embed.files`.")
    pairs = _dedupe(pairs)
    texts = [t for t, _ in pairs]
    starts = range(0, len(texts), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="embedding", unit="batch")
    rows: list[list[float]] = []
    for start in starts:
        rows += encoder.encode(texts[start : start + batch_size])
    vectors = torch.tensor(rows, dtype=torch.float32)
    if vectors.shape != (len(texts), encoder.dim):
        raise ValueError(f"the encoder returned {tuple(vectors.shape)} for {len(texts)} texts; "
                         f"expected rows of its `dim` = {encoder.dim}.")
    return Corpus(texts=texts, sources=[s for _, s in pairs], vectors=vectors, encoder=encoder_name,
                  meta=dict(meta or {}))
