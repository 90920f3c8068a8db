"""Compression methods on Hugging Face causal LMs.

- :mod:`~compress.methods.prune`: magnitude, Wanda, 2:4 pruning.
- :mod:`~compress.methods.rtn`: round-to-nearest weight-only fake-quant per group.
- :mod:`~compress.methods.bnb`: bitsandbytes int8 / NF4 / FP4 (CPU and GPU).
- :mod:`~compress.methods.gptq`, :mod:`~compress.methods.awq`: GPTQModel and llm-compressor
  (GPU only; excluded from the space elsewhere, see :mod:`~compress.methods.availability`).
- :func:`~compress.methods.apply.compress_model`: prune then quantize, then save.
"""

from compress.methods.availability import (
    PRUNING_METHODS,
    QUANT_METHODS,
    available_methods,
    unavailable_reason,
)
from compress.methods.spec import CompressionSpec

__all__ = [
    "PRUNING_METHODS",
    "QUANT_METHODS",
    "CompressionSpec",
    "available_methods",
    "unavailable_reason",
]
