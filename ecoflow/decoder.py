"""Retrieve-and-rewrite: the embedded default vector → text decoder (no SONAR needed).

For a target vector: take the ``k`` bank texts nearest to it (cosine), have the task LLM
continue a list of them with ``num_candidates`` new items (a text completion, seeded sampling,
so a decode is reproducible and cacheable), re-encode the candidates and keep the one closest
to the target.

Why a list to continue rather than a chat request: SmolLM2-135M answered "write one new
instruction that combines these" mostly with preambles ("Here's a new instruction that
combines their ideas:"), and with one worked example in the chat it copied the example's
wording into nearly every reply (seen in the demo's run.log). Continuing a list of
instructions, nearest last, it writes one clean new instruction per line (best of 4 candidates
at cosine 0.52 to targets near bank texts, measured on 3 targets).
The list's header names the kind of task (:func:`task_header`, from the task's
``description``: "Instructions for a sentiment classifier, one per line:"), so the same
decoder serves every task; the measurement above used a math-specific header.
Every decode reports its round-trip cosine ``cos(target, encode(decoded text))``: how much
of the target the text actually carries. SONAR, on GPU clusters, decodes directly instead.

The :func:`factory` plugs it into the ``embed`` app (``EmbedAppConfig(decoder=
"ecoflow.decoder:factory", decoder_kwargs={...})``), where the replica's own encoder is used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from serving.protocols import LLM, Encoder

HEADER = "Instructions, one per line:\n"  # task-neutral; runs pass task_header(...)
_PREFIX = re.compile(r"^\s*(?:[-*•]+\s*|\d+[.)]\s+|(?:new\s+)?instruction\s*:\s*)", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass(frozen=True)
class Decoded:
    """One decoded vector.

    Attributes:
        text: the chosen text.
        cosine: round-trip cosine between the target and ``encode(text)``.
        neighbours: the bank texts the candidates were written from, nearest first.
        candidates: every kept candidate with its cosine to the target, in generation order.
        replies: the LLM's raw replies, junk included (what the candidates were cleaned from).
    """

    text: str
    cosine: float
    neighbours: tuple[str, ...]
    candidates: tuple[tuple[str, float], ...]
    replies: tuple[str, ...] = ()


def clean_candidate(text: str, max_sentences: int = 2) -> str:
    """The instruction in a reply: the first non-empty line that is not a preamble (a line
    ending in ``:``, e.g. "Here's a new instruction:"), without list markers, an
    ``Instruction:`` label or quotes, cut to ``max_sentences`` sentences (small models
    ramble on and repeat themselves)."""
    for line in text.strip().splitlines():
        line = _PREFIX.sub("", line).strip().strip('"\u201c\u201d\'').strip()
        if line and not line.endswith(":"):
            return " ".join(_SENTENCE.split(line)[:max_sentences])
    return ""


def task_header(description: str | None) -> str:
    """The list header for a task of this kind (a :class:`~promptopt.tasks.Task`'s
    ``description``, e.g. "sentiment classifier"); :data:`HEADER` without one."""
    if not description or not description.strip():
        return HEADER
    kind = description.strip()
    article = "an" if kind[0].lower() in "aeiou" else "a"
    return f"Instructions for {article} {kind}, one per line:\n"


def rewrite_prompt(neighbours: Sequence[str], header: str = HEADER) -> str:
    """The text completion that asks for a new instruction near ``neighbours`` (nearest
    first): ``header``, then a list of them, nearest last (closest to where the model
    writes), open for the next item."""
    return header + "".join(f"- {t}\n" for t in reversed(neighbours)) + "-"


class RetrieveRewriteDecoder:
    """Implements :class:`~serving.protocols.Decoder` with a bank, an LLM and an encoder.

    Args:
        encoder: the encoder whose space the target vectors live in.
        llm: the task LLM that writes candidates.
        bank: texts to retrieve from (the seed bank or a corpus's texts).
        bank_vectors: ``len(bank) x d`` embeddings of ``bank`` (encoded here when ``None``).
        k: neighbours shown to the LLM.
        num_candidates: candidates written per target.
        temperature: sampling temperature of the candidates.
        max_tokens: length cap of one candidate.
        seed: sampling seed (a decode with the same seed is reproducible and cached).
        header: the line above the list (:func:`task_header`).
    """

    def __init__(self, encoder: Encoder, llm: LLM, bank: Sequence[str],
                 bank_vectors: Tensor | None = None, k: int = 4, num_candidates: int = 4,
                 temperature: float = 0.8, max_tokens: int = 64, seed: int = 0,
                 header: str = HEADER):
        if not bank:
            raise ValueError("`bank` is empty: the decoder needs texts to retrieve from.")
        if k < 1 or num_candidates < 1:
            raise ValueError(f"`k` and `num_candidates` must be at least 1 (got {k}, {num_candidates}).")
        self.encoder, self.llm, self.bank = encoder, llm, list(bank)
        vectors = bank_vectors if bank_vectors is not None else torch.tensor(encoder.encode(self.bank))
        if vectors.shape != (len(self.bank), encoder.dim):
            raise ValueError(f"`bank_vectors` has shape {tuple(vectors.shape)}; expected "
                             f"({len(self.bank)}, {encoder.dim}).")
        self._unit_bank = F.normalize(vectors.float(), dim=-1)
        self.k, self.num_candidates = min(k, len(self.bank)), num_candidates
        self.temperature, self.max_tokens, self.seed = temperature, max_tokens, seed
        self.header = header

    def neighbours(self, targets: Tensor) -> list[list[str]]:
        """The ``k`` nearest bank texts (cosine) of each ``batch x d`` target, nearest first."""
        scores = F.normalize(targets.float(), dim=-1) @ self._unit_bank.T
        top = scores.topk(self.k, dim=-1).indices
        return [[self.bank[i] for i in row.tolist()] for row in top]

    def decode_with_report(self, vectors: Sequence[Sequence[float]] | Tensor,
                           **options: Any) -> list[Decoded]:
        """Decode ``batch x d`` vectors; options ``seed``, ``num_candidates``, ``temperature``."""
        targets = torch.as_tensor(vectors, dtype=torch.float32)
        if targets.dim() != 2 or targets.shape[1] != self.encoder.dim:
            raise ValueError(f"decode takes batch x {self.encoder.dim} vectors, got {tuple(targets.shape)}.")
        neighbours = self.neighbours(targets)
        params = {"n": int(options.get("num_candidates", self.num_candidates)),
                  "seed": int(options.get("seed", self.seed)),
                  "temperature": float(options.get("temperature", self.temperature)),
                  "max_tokens": self.max_tokens, "stop": ["\n"]}
        prompts = [rewrite_prompt(nb, self.header) for nb in neighbours]
        with ThreadPoolExecutor(max_workers=len(prompts)) as pool:  # the app batches them
            completions = list(pool.map(lambda p: self.llm.complete(p, **params), prompts))
        # copies of a listed text are not new text; empty / preamble-only replies are junk:
        # both dropped, and a target left with nothing decodes to its nearest bank text
        per_target = [[c for c in dict.fromkeys(map(clean_candidate, comp.texts)) if c and c not in nb]
                      or [nb[0]] for comp, nb in zip(completions, neighbours, strict=True)]
        flat = [c for cands in per_target for c in cands]
        encoded = F.normalize(torch.tensor(self.encoder.encode(flat), dtype=torch.float32), dim=-1)
        out, offset = [], 0
        for target, cands, nb, comp in zip(targets, per_target, neighbours, completions, strict=True):
            cos = encoded[offset : offset + len(cands)] @ F.normalize(target, dim=-1)
            offset += len(cands)
            best = int(cos.argmax())
            out.append(Decoded(text=cands[best], cosine=float(cos[best]), neighbours=tuple(nb),
                               candidates=tuple(zip(cands, map(float, cos), strict=True)),
                               replies=tuple(comp.texts)))
        return out

    def decode(self, vectors: Sequence[Sequence[float]], **options: Any) -> list[str]:
        """The :class:`~serving.protocols.Decoder` verb: the chosen texts only."""
        return [d.text for d in self.decode_with_report(vectors, **options)]


def load_bank(bank_path: str | None, encoder: Encoder) -> tuple[list[str], Tensor | None]:
    """Texts (and vectors when stored) from a corpus ``.pt`` or a text file; the generic
    seed bank when ``bank_path`` is ``None``. Stored vectors are ignored when they do not fit ``encoder``."""
    if bank_path is None:
        from ecoflow.bank import bank

        return bank(kind="generic"), None
    if bank_path.endswith(".pt"):
        from ecoflow.corpus import Corpus

        corpus = Corpus.load(bank_path)
        fits = corpus.dim == encoder.dim
        return corpus.texts, corpus.vectors if fits else None
    from ecoflow.corpus import read_text_file

    return read_text_file(bank_path), None


def factory(encoder: Encoder, bank_path: str | None = None, llm_base_url: str | None = None,
            llm_model: str | None = None, **kwargs: Any) -> RetrieveRewriteDecoder:
    """The ``embed`` app's decoder plugin (``decoder="ecoflow.decoder:factory"``).

    Args:
        encoder: the replica's encoder (passed by the app).
        bank_path: a corpus ``.pt`` or a text file, one text per line; default the generic
            seed bank (task-agnostic styles).
        llm_base_url: the task LLM endpoint; default the local ``llm`` app.
        llm_model: model name; default the endpoint's first.
        **kwargs: :class:`RetrieveRewriteDecoder` options (``k``, ``num_candidates``,
            ``header``, ...).
    """
    from serving.client import LLMClient

    texts, vectors = load_bank(bank_path, encoder)
    llm = LLMClient(base_url=llm_base_url, model=llm_model)
    return RetrieveRewriteDecoder(encoder, llm, texts, bank_vectors=vectors, **kwargs)
