"""Round-to-nearest weight-only quantization, applied as fake-quant (quantize → dequantize).

Each output row of a ``Linear`` weight is split into groups of ``group_size`` input columns
(the last group may be shorter); a group's ``[min, max]`` maps onto the integers
``0 .. 2**bits - 1`` with an integer zero point, so 0.0 stays exactly 0.0 (pruned weights stay
pruned). The weights stay in their float dtype: accuracy and latency are those of the float
model with quantized values; :func:`packed_bytes` gives the size a packed format would need.
"""

from __future__ import annotations

import torch
from torch import nn

from compress.methods.layers import quantizable_linears


def fake_quantize(w: torch.Tensor, bits: int, group_size: int) -> torch.Tensor:
    """RTN fake-quant of a 2-D weight ``out x in`` per row and column group.

    Args:
        w: The weight.
        bits: 2 to 8.
        group_size: Columns per group; ``-1`` for one group per row.

    Returns:
        A tensor of ``w``'s shape and dtype holding the dequantized values.
    """
    if w.dim() != 2 or not 2 <= bits <= 8:
        raise ValueError(f"RTN needs a 2-D weight and 2 <= bits <= 8, got {tuple(w.shape)}, "
                         f"bits={bits}.")
    rows, cols = w.shape
    g = cols if group_size == -1 else group_size
    pad = (-cols) % g
    x = torch.nn.functional.pad(w.float(), (0, pad)).reshape(rows, -1, g)
    if pad:  # padding must not widen the last group's range: copy a real value into it
        x[:, -1, g - pad:] = x[:, -1, :1]
    lo = x.amin(dim=-1, keepdim=True).clamp(max=0.0)
    hi = x.amax(dim=-1, keepdim=True).clamp(min=0.0)
    qmax = 2**bits - 1
    scale = ((hi - lo) / qmax).clamp(min=1e-12)
    zero = torch.round(-lo / scale)
    q = torch.clamp(torch.round(x / scale) + zero, 0, qmax)
    deq = ((q - zero) * scale).reshape(rows, -1)[:, :cols]
    return deq.to(w.dtype)


@torch.no_grad()
def rtn_quantize_(model: nn.Module, bits: int, group_size: int) -> int:
    """Fake-quantize every quantizable ``Linear`` in place; return the weights touched."""
    n = 0
    for layer in quantizable_linears(model).values():
        layer.weight.copy_(fake_quantize(layer.weight, bits, group_size))
        n += layer.weight.numel()
    return n


def packed_bytes(n_weights: int, cols_per_row: int, bits: int, group_size: int) -> float:
    """Bytes a packed ``bits``-bit format with an fp16 scale and zero point per group needs."""
    g = cols_per_row if group_size == -1 else group_size
    groups = n_weights / g
    return n_weights * bits / 8 + groups * 4
