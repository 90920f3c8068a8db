"""Which layers compression touches."""

from __future__ import annotations

from torch import nn


def quantizable_linears(model: nn.Module) -> dict[str, nn.Linear]:
    """The ``Linear`` layers that compression touches: every one except the output head.

    The head is tied to the input embeddings in small models (SmolLM2) and stays full
    precision, as in bitsandbytes, GPTQ and AWQ defaults.
    """
    skip = {"lm_head"}
    return {name: m for name, m in model.named_modules()
            if isinstance(m, nn.Linear) and name.split(".")[-1] not in skip}
