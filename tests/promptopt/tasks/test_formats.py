"""Demonstrations carried by an instruction render as chat turns, in both prompt formats."""

from __future__ import annotations

import pytest

from promptopt.tasks import PromptFormat, Template
from promptopt.tasks.formats import join_demos, split_demos


def test_demonstrations_round_trip_and_render_as_turns() -> None:
    text = join_demos("Give the first letter.", [("apple pie", "a"), ("line 1\nline 2", "l")])
    assert split_demos(text) == ("Give the first letter.",
                                 [("apple pie", "a"), ("line 1\nline 2", "l")])
    turns = Template().messages("cat", text)
    assert [t["role"] for t in turns] == ["user", "assistant", "user", "assistant", "user"]
    assert turns[0]["content"] == "Give the first letter.\n\nInput: apple pie\nOutput:"
    assert turns[1]["content"] == "a"
    assert turns[2]["content"] == "Input: line 1\nline 2\nOutput:"  # the instruction once
    assert turns[4]["content"] == "Input: cat\nOutput:"
    gsm = PromptFormat("Q_begin").messages("1+1?", join_demos("Add.", [("2+2?", "4")]))
    assert [t["content"] for t in gsm] == ["Q: Add.\n2+2?\n\nA:", "4", "Q: 1+1?\n\nA:"]


def test_an_instruction_without_demonstrations_is_one_user_message() -> None:
    assert split_demos("Classify it.") == ("Classify it.", [])
    assert Template().messages("good film", "Classify it.") == [
        {"role": "user", "content": "Classify it.\n\nInput: good film\nOutput:"}]


def test_a_broken_demonstration_block_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs `Input: ...` then `Output: ...`"):
        split_demos("Do it.\n\n--- example ---\nno labels here")
