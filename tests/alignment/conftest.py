"""Shared tiny inputs for alignment tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from alignment.constitution import Principle

CONSTITUTION_PATH = Path(__file__).resolve().parents[2] / "configs/alignment/constitution.yaml"


@pytest.fixture
def principles() -> list[Principle]:
    """Two principles with short, recognizable request texts."""
    return [
        Principle("honest", "CRITIQUE-HONEST", "REVISE-HONEST", "Which is more honest?"),
        Principle("kind", "CRITIQUE-KIND", "REVISE-KIND", "Which is kinder?"),
    ]
