"""AWQ through llm-compressor's ``AWQModifier`` (GPU; ``pip install 'rayopt[awq]'``).

Not run on the CPU machine this project is developed on: :mod:`availability` excludes it
there. W4A16 asymmetric with llm-compressor's default group size (128), head left alone.
"""

from __future__ import annotations

from pathlib import Path


def awq_quantize(model_path: str, out_dir: Path, texts: list[str], max_seq_len: int = 512) -> None:
    """AWQ-quantize ``model_path`` on the calibration ``texts``; save compressed to ``out_dir``.

    Raises:
        ImportError: If llm-compressor is not installed (with the install command).
    """
    try:
        from llmcompressor import oneshot
        from llmcompressor.modifiers.awq import AWQModifier
    except ImportError as exc:
        raise ImportError("AWQ needs llm-compressor: pip install 'rayopt[awq]' (CUDA).") from exc
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype="auto", device_map="cuda")
    data = Dataset.from_dict(dict(tokenizer(texts, truncation=True, max_length=max_seq_len)))
    recipe = [AWQModifier(ignore=["lm_head"], scheme="W4A16_ASYM", targets=["Linear"])]
    oneshot(model=model, dataset=data, recipe=recipe, max_seq_length=max_seq_len,
            num_calibration_samples=len(texts))
    model.save_pretrained(str(out_dir), save_compressed=True)
    tokenizer.save_pretrained(str(out_dir))
