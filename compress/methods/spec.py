"""One compression configuration, as a trial's parameters describe it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from compress.methods.availability import PRUNING_METHODS, QUANT_METHODS


@dataclass(frozen=True)
class CompressionSpec:
    """A quantization method (with its settings) and an optional pruning step before it.

    Attributes:
        method: One of :data:`~compress.methods.availability.QUANT_METHODS`.
        bits: Weight bits (``gptq``, ``rtn``).
        group_size: Columns per quantization group (``gptq``, ``rtn``; -1 = per row).
        double_quant: Quantize the 4-bit scales too (``bnb_nf4``, ``bnb_fp4``).
        pruning: One of :data:`~compress.methods.availability.PRUNING_METHODS`.
        sparsity: Fraction of weights zeroed (``magnitude``, ``wanda``; 2:4 is 0.5).
    """

    method: str = "none"
    bits: int | None = None
    group_size: int | None = None
    double_quant: bool | None = None
    pruning: str = "none"
    sparsity: float | None = None

    def __post_init__(self) -> None:
        if self.method not in QUANT_METHODS:
            raise ValueError(f"`method`={self.method!r}: choose from {QUANT_METHODS}.")
        if self.pruning not in PRUNING_METHODS:
            raise ValueError(f"`pruning`={self.pruning!r}: choose from {PRUNING_METHODS}.")
        if self.method in ("gptq", "rtn") and (self.bits is None or self.group_size is None):
            raise ValueError(f"`{self.method}` needs `bits` and `group_size`.")
        if self.pruning in ("magnitude", "wanda") and self.sparsity is None:
            raise ValueError(f"`pruning`={self.pruning!r} needs `sparsity`.")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CompressionSpec:
        """From a trial config (extra keys are ignored; inactive ones are absent)."""
        keys = ("method", "bits", "group_size", "double_quant", "pruning", "sparsity")
        return cls(**{k: params[k] for k in keys if k in params})

    def params(self) -> dict[str, Any]:
        """The set fields only (the trial config this spec came from)."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def label(self) -> str:
        """Short human label, e.g. ``rtn w4 g64 + wanda 0.30``."""
        parts = [self.method]
        if self.bits is not None:
            parts.append(f"w{self.bits} g{self.group_size}")
        if self.double_quant:
            parts.append("dq")
        text = " ".join(parts)
        if self.pruning != "none":
            text += f" + {self.pruning}"
            if self.sparsity is not None:
                text += f" {self.sparsity:.2f}"
        return text
