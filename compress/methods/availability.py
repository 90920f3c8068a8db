"""Which compression methods can run here, and why the others cannot.

A method whose library is absent, or that needs a CUDA GPU this machine lacks, is left out of
the search space with the reason logged; it is never replaced by something else.
"""

from __future__ import annotations

import importlib.util
import logging

logger = logging.getLogger(__name__)

QUANT_METHODS = ("none", "bnb_int8", "bnb_nf4", "bnb_fp4", "gptq", "awq", "rtn")
PRUNING_METHODS = ("none", "magnitude", "wanda", "nm_2_4")  # nm_2_4: 2:4 (unquoted "2:4" is an int in YAML)
#: method → (import name, pip hint, needs CUDA)
REQUIREMENTS: dict[str, tuple[str, str, bool]] = {
    "bnb_int8": ("bitsandbytes", "pip install bitsandbytes", False),
    "bnb_nf4": ("bitsandbytes", "pip install bitsandbytes", False),
    "bnb_fp4": ("bitsandbytes", "pip install bitsandbytes", False),
    "gptq": ("gptqmodel", "pip install 'rayopt[gptq]'", True),
    "awq": ("llmcompressor", "pip install 'rayopt[awq]'", True),
}


def has_cuda() -> bool:
    """Whether torch sees a CUDA GPU."""
    import torch

    return torch.cuda.is_available()


def unavailable_reason(method: str, cuda: bool | None = None) -> str | None:
    """Why ``method`` cannot run here, or None if it can.

    Raises:
        ValueError: On an unknown method name.
    """
    if method not in QUANT_METHODS:
        raise ValueError(f"unknown compression method `{method}`; choose from {QUANT_METHODS}.")
    if method not in REQUIREMENTS:
        return None
    module, hint, needs_cuda = REQUIREMENTS[method]
    if importlib.util.find_spec(module) is None:
        return f"`{method}` needs the `{module}` package, which is not installed ({hint})"
    if needs_cuda and not (has_cuda() if cuda is None else cuda):
        return (f"`{method}` needs a CUDA GPU ({module}'s calibration solves per-layer "
                "problems on the GPU; there is no practical CPU path)")
    return None


def available_methods(wanted: tuple[str, ...] = QUANT_METHODS,
                      cuda: bool | None = None) -> tuple[tuple[str, ...], dict[str, str]]:
    """Split ``wanted`` into the methods that run here and ``{method: reason}`` for the rest
    (each exclusion is logged)."""
    keep, excluded = [], {}
    for method in wanted:
        reason = unavailable_reason(method, cuda)
        if reason is None:
            keep.append(method)
        else:
            excluded[method] = reason
            logger.warning("excluded from the search space: %s", reason)
    return tuple(keep), excluded
