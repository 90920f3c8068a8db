"""GPTQ through GPTQModel (GPU; ``pip install 'rayopt[gptq]'``).

Not run on the CPU machine this project is developed on: :mod:`availability` excludes it
there. The calls follow GPTQModel's documented flow: ``GPTQModel.load(path,
QuantizeConfig(bits, group_size))``, ``quantize(texts)``, ``save(out)``.
"""

from __future__ import annotations

from pathlib import Path


def gptq_quantize(model_path: str, out_dir: Path, bits: int, group_size: int,
                  texts: list[str], batch_size: int = 4) -> None:
    """Quantize ``model_path`` with GPTQ on the calibration ``texts`` and save to ``out_dir``.

    Raises:
        ImportError: If gptqmodel is not installed (with the install command).
    """
    try:
        from gptqmodel import GPTQModel, QuantizeConfig
    except ImportError as exc:
        raise ImportError("GPTQ needs gptqmodel: pip install 'rayopt[gptq]' (CUDA).") from exc
    model = GPTQModel.load(model_path, QuantizeConfig(bits=bits, group_size=group_size))
    model.quantize(texts, batch_size=batch_size)
    model.save(str(out_dir))
