"""Shared tiny fixtures for promptopt tests."""

from __future__ import annotations

import pytest

from promptopt.tasks import Example


def make_examples(n: int, split: str = "train") -> list[Example]:
    """``n`` toy problems whose gold answer is their index."""
    return [
        Example(f"{split}-{i}", f"What is {i} plus 0?", f"{i} + 0 = {i}\n#### {i}", str(i))
        for i in range(n)
    ]


@pytest.fixture
def examples() -> list[Example]:
    return make_examples(40)
