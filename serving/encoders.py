"""Sentence encoders and decoders behind the ``embed`` app (plain objects, no Serve).

``make_encoder`` / ``make_decoder`` turn config names into objects implementing
:class:`~serving.protocols.Encoder` / :class:`~serving.protocols.Decoder`.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from serving.protocols import Decoder, Encoder


class SentenceTransformerEncoder:
    """A sentence-transformers model (the embedded default is all-MiniLM-L6-v2, 384-d)."""

    def __init__(self, path: str, device: str | None = None):
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(path, device=device)
        self.dim = int(self.model.get_embedding_dimension())

    def encode(self, texts: Sequence[str]) -> list[list[float]]:
        return self.model.encode(list(texts), convert_to_numpy=True).tolist()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.model.tokenizer(list(texts))["input_ids"]]


def make_encoder(name: str, device: str | None = None) -> Encoder:
    """``minilm`` (embedded), ``sonar``, or a sentence-transformers folder / hub id."""
    if name == "sonar":
        from serving.sonar import SonarEncoder

        return SonarEncoder(device=device)
    from serving.models import resolve_encoder

    return SentenceTransformerEncoder(resolve_encoder(name), device=device)


def make_decoder(name: str, encoder: Encoder, kwargs: dict[str, Any] | None = None) -> Decoder | None:
    """``none``, ``sonar``, or ``package.module:factory`` called as ``factory(encoder=..., **kwargs)``."""
    kwargs = dict(kwargs or {})
    if name in ("none", ""):
        return None
    if name == "sonar":
        from serving.sonar import SonarDecoder

        return SonarDecoder(**kwargs)
    module_name, sep, attr = name.partition(":")
    if not sep:
        raise ValueError(f"unknown decoder `{name}`: use `none`, `sonar` or `package.module:factory`.")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(encoder=encoder, **kwargs)
