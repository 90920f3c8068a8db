"""Shared tiny inputs for alignment tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from alignment.constitution import Principle

CONSTITUTION_PATH = Path(__file__).resolve().parents[2] / "configs/alignment/constitution.yaml"
# The real IFEval folder: $IFEVAL_DIR, else shared/ beside the repository (as in CI).
SHARED_IFEVAL = Path(os.environ.get("IFEVAL_DIR") or
                     Path(__file__).resolve().parents[3] / "shared/data/ifeval")

TINY_IFEVAL = [
    {"key": 7, "prompt": "Describe a cat without any commas.",
     "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]},
    {"key": 3, "prompt": "Describe a dog in lowercase, with fewer than 20 words.",
     "instruction_id_list": ["change_case:english_lowercase", "length_constraints:number_words"],
     "kwargs": [{}, {"relation": "less than", "num_words": 20}]},
    {"key": 11, "prompt": "Name a colour. End with the phrase Any other questions?",
     "instruction_id_list": ["startend:end_checker"],
     "kwargs": [{"end_phrase": "Any other questions?", "unused": None}]},
    {"key": 5, "prompt": "Write a title for a story about rain.",
     "instruction_id_list": ["detectable_format:title"], "kwargs": [{}]},
]


@pytest.fixture
def principles() -> list[Principle]:
    """Two principles with short, recognizable request texts."""
    return [
        Principle("honest", "CRITIQUE-HONEST", "REVISE-HONEST", "Which is more honest?"),
        Principle("kind", "CRITIQUE-KIND", "REVISE-KIND", "Which is kinder?"),
    ]


@pytest.fixture
def ifeval_dir(tmp_path) -> Path:
    """A four-prompt IFEval folder (``input_data.jsonl`` in Google's format)."""
    folder = tmp_path / "ifeval"
    folder.mkdir()
    (folder / "input_data.jsonl").write_text("".join(json.dumps(r) + "\n" for r in TINY_IFEVAL))
    return folder


@pytest.fixture
def shared_ifeval() -> Path:
    """The real 541-prompt IFEval folder (skips when this checkout has no shared/ data)."""
    if not (SHARED_IFEVAL / "input_data.jsonl").is_file():
        pytest.skip(f"no IFEval data at {SHARED_IFEVAL}; set IFEVAL_DIR")
    return SHARED_IFEVAL
