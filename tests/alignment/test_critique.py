"""Responses, critiques and revisions with a scripted model; skips are counted."""

from __future__ import annotations

from typing import Any

import pytest

from alignment.critique import Reviser, Revision, revision_dialogue
from alignment.dialogue import clean_generation, to_messages, to_transcript
from serving.fakes import FakeScriptedLLM


def test_transcript_and_messages(principles):
    turns = revision_dialogue("Q?", "A.", principles[0], "Too vague.")
    assert to_transcript(turns, "Revision") == (
        "Human: Q?\n\nAssistant: A.\n\nCritiqueRequest: CRITIQUE-HONEST\n\n"
        "Critique: Too vague.\n\nRevisionRequest: REVISE-HONEST\n\nRevision:")
    assert [m["role"] for m in to_messages(turns)] == [
        "user", "assistant", "user", "assistant", "user"]


@pytest.mark.parametrize("raw, expected", [
    (" Better text.\n\nHuman: and then", ("Better text.", None)),
    ("Revision: Better text.", ("Better text.", None)),
    ("Here is the revised response: Better text.", ("Better text.", None)),
    ("Line one.\nLine two.", ("Line one.\nLine two.", None)),
    ("  \n ", (None, "empty")),
    (" ...\nCritique: more", (None, "unparsable")),
])
def test_clean_generation(raw, expected):
    assert clean_generation(raw) == expected


def scripted(prompt: str, params: dict[str, Any]) -> str:
    """Critiques everything except the 'silent' instruction; revises by upper-casing."""
    last = prompt.rstrip().splitlines()[-1]
    if last.startswith("CRITIQUE") or last == "Critique:":
        return "" if "silent" in prompt else " It is too short."
    if last.startswith("REVISE") or last == "Revision:":
        answer = prompt.split("Assistant: ")[-1].split("\n")[0] if "Assistant: " in prompt \
            else prompt.splitlines()[1]
        return answer.upper()
    return " an answer"


@pytest.mark.parametrize("chat", [False, True])
def test_revise_counts_skips(principles, chat):
    llm = FakeScriptedLLM(scripted)
    reviser = Reviser(llm, principles, chat=chat, seed=0)
    result = reviser.revise([("Say hi.", "hi there"), ("Be silent.", "ok")])
    p = reviser.principle_for("Say hi.", "hi there")
    assert result.revisions == [
        Revision("Say hi.", "hi there", p.name, "It is too short.", "HI THERE")]
    assert dict(result.skipped) == {"empty_critique": 1}
    assert llm.usage.calls == 3  # 2 critiques, 1 revision (none for the skipped record)
    if not chat:
        prompt, params = llm.calls[0]
        assert prompt.endswith(f"CritiqueRequest: {principles[0].critique_request}\n\nCritique:") \
            or prompt.endswith(f"CritiqueRequest: {principles[1].critique_request}\n\nCritique:")
        assert "\nHuman:" in params["stop"] and params["max_tokens"] == 256


def test_respond_and_principle_is_stable(principles):
    llm = FakeScriptedLLM([" Paris.\nHuman: and Rome?", "   "])
    out = Reviser(llm, principles, chat=False).respond(["Capital of France?", "Nothing?"])
    assert out.outputs == ["Paris.", None] and dict(out.skipped) == {"empty_response": 1}
    assert llm.calls[0][0] == "Human: Capital of France?\n\nAssistant:"
    a = Reviser(llm, principles, chat=False, seed=5)
    b = Reviser(FakeScriptedLLM(['x']), principles, chat=True, seed=5)
    picks = {a.principle_for(f"q{i}", "r").name for i in range(20)}
    assert picks == {"honest", "kind"}  # both get sampled
    assert all(a.principle_for(f"q{i}", "r") == b.principle_for(f"q{i}", "r") for i in range(20))


def test_no_principles_is_an_error():
    with pytest.raises(ValueError, match="`principles` is empty"):
        Reviser(FakeScriptedLLM(["x"]), [], chat=True)
