"""Compress a Hugging Face causal LM and save it: prune, then quantize.

Order: load the float model, prune it (magnitude, Wanda on GSM8K calibration activations, or
2:4), fake-quantize (RTN) or save and reload through bitsandbytes; GPTQ and AWQ run their own
libraries on the float model (pruning is not combined with them: their weight updates and
scales would refill the zeros; the search space never proposes it).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from compress.methods.calibration import calibration_batches
from compress.methods.layers import quantizable_linears
from compress.methods.prune import (
    input_norms,
    magnitude_prune_,
    nm_prune_,
    sparsity_of,
    wanda_prune_,
)
from compress.methods.rtn import packed_bytes, rtn_quantize_
from compress.methods.spec import CompressionSpec

logger = logging.getLogger(__name__)


def prune_(model: Any, spec: CompressionSpec, calib: list[Any] | None) -> None:
    """Apply ``spec.pruning`` in place (``calib``: token batches, needed by Wanda)."""
    if spec.pruning == "none":
        return
    if spec.pruning == "magnitude":
        magnitude_prune_(model, float(spec.sparsity))
        return
    if spec.pruning == "nm_2_4":
        nm_prune_(model, 2, 4)
        return
    if not calib:
        raise ValueError("Wanda pruning needs calibration batches.")
    wanda_prune_(model, float(spec.sparsity), input_norms(model, calib))


def transform_(model: Any, spec: CompressionSpec, calib: list[Any] | None) -> dict[str, float]:
    """Pruning and RTN on a loaded float model, in place; returns what was done."""
    prune_(model, spec, calib)
    info: dict[str, float] = {"sparsity_actual": sparsity_of(model)}
    if spec.method == "rtn":
        n = rtn_quantize_(model, int(spec.bits), int(spec.group_size))
        layers = list(quantizable_linears(model).values())
        quant = sum(packed_bytes(m.weight.numel(), m.in_features, int(spec.bits),
                                 int(spec.group_size)) for m in layers)
        other = sum(p.numel() * p.element_size() for p in model.parameters()) - sum(
            m.weight.numel() * m.weight.element_size() for m in layers)
        info["rtn_weights"] = float(n)
        info["packed_mb"] = (quant + other) / 1e6  # a packed int format's size (derived)
    return info


def compress_model(spec: CompressionSpec, model_path: str, out_dir: Path,
                   calib_texts: list[str], device: str = "cpu",
                   calib_seq_len: int = 256) -> dict[str, float]:
    """Compress ``model_path`` per ``spec`` and ``save_pretrained`` it (with tokenizer).

    Args:
        spec: What to do.
        model_path: A local Hugging Face model folder.
        out_dir: Where the compressed model goes.
        calib_texts: Calibration texts (Wanda, GPTQ, AWQ).
        device: "cpu" or "cuda".
        calib_seq_len: Tokens per calibration window.

    Returns:
        ``sparsity_actual`` and, for RTN, ``packed_mb``.
    """
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out_dir = Path(out_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    if spec.method == "gptq":
        from compress.methods.gptq import gptq_quantize

        gptq_quantize(model_path, out_dir, int(spec.bits), int(spec.group_size), calib_texts)
        tokenizer.save_pretrained(out_dir)
        return {"sparsity_actual": 0.0}
    if spec.method == "awq":
        from compress.methods.awq import awq_quantize

        awq_quantize(model_path, out_dir, calib_texts, calib_seq_len)
        return {"sparsity_actual": 0.0}
    model = AutoModelForCausalLM.from_pretrained(model_path, device_map=device)
    calib = (calibration_batches(tokenizer, calib_texts, calib_seq_len)
             if spec.pruning == "wanda" else None)
    info = transform_(model, spec, calib)
    if not spec.method.startswith("bnb_"):
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
        return info
    from compress.methods.bnb import load_quantized

    with tempfile.TemporaryDirectory(dir=out_dir.parent) as tmp:
        src = model_path
        if spec.pruning != "none":  # bitsandbytes quantizes at load: reload the pruned weights
            model.save_pretrained(tmp)
            src = tmp
        del model
        qmodel = load_quantized(src, spec.method, bool(spec.double_quant), device)
        qmodel.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return info


def dir_size_mb(path: Path) -> float:
    """Bytes of every file under ``path``, in MB (1e6)."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


def remove_model(path: Path) -> None:
    """Delete a saved model folder (trials keep only its measurements)."""
    shutil.rmtree(path, ignore_errors=True)
