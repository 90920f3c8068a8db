"""bitsandbytes quantization (int8 LLM.int8(), 4-bit NF4 / FP4 with optional double quant).

bitsandbytes quantizes while ``from_pretrained`` loads the weights, so a pruned model is
saved first and reloaded through here; the exact zeros survive (int8 absmax, NF4 and FP4 all
represent 0 exactly).
"""

from __future__ import annotations

from typing import Any


def bnb_config(method: str, double_quant: bool = False, compute_dtype: Any = None) -> Any:
    """A ``BitsAndBytesConfig`` for ``bnb_int8``, ``bnb_nf4`` or ``bnb_fp4``.

    Raises:
        ValueError: For any other method.
    """
    import torch
    from transformers import BitsAndBytesConfig

    if method == "bnb_int8":
        return BitsAndBytesConfig(load_in_8bit=True)
    if method in ("bnb_nf4", "bnb_fp4"):
        return BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=method.removeprefix("bnb_"),
            bnb_4bit_use_double_quant=bool(double_quant),
            bnb_4bit_compute_dtype=compute_dtype or torch.float32,
        )
    raise ValueError(f"`{method}` is not a bitsandbytes method (bnb_int8, bnb_nf4, bnb_fp4).")


def load_quantized(model_path: str, method: str, double_quant: bool, device: str) -> Any:
    """Load ``model_path`` quantized with bitsandbytes on ``device`` ("cpu" or "cuda")."""
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(
        model_path, quantization_config=bnb_config(method, double_quant), device_map=device)
