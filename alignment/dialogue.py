"""Dialogue prompts in the two shapes the pipeline needs, and cleaning of what comes back.

A dialogue is a list of ``(role, text)`` turns. Instruct models get it as chat messages (the
endpoint applies the chat template); base models get the Constitutional AI transcript,
``Human: ...`` / ``Assistant: ...`` / ``CritiqueRequest: ...`` / ``Critique: ...``, ending
with the label whose text the model should write.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from serving.protocols import LLM, Completion, Message

# Transcript labels of the base-model format; the chat role each one maps to.
LABELS: dict[str, str] = {
    "Human": "user", "Assistant": "assistant",
    "CritiqueRequest": "user", "Critique": "assistant",
    "RevisionRequest": "user", "Revision": "assistant",
}
_NEXT_TURN = re.compile(r"\n\s*(?:" + "|".join(LABELS) + r")\s*:")
_LEADING_LABEL = re.compile(r"^\s*(?:" + "|".join(LABELS) + r")\s*:\s*")
_PREAMBLE = re.compile(
    r"^(?:sure[,!.]?\s*)?(?:here(?: is|'s) (?:the|a|my) (?:rewritten|revised|new|improved) "
    r"(?:response|answer|version)[^:\n]*:)\s*", re.IGNORECASE)

Turn = tuple[str, str]  # (label in LABELS, text)


def to_messages(turns: Sequence[Turn]) -> list[Message]:
    """The dialogue as chat messages (labels mapped to roles)."""
    return [{"role": LABELS[label], "content": text} for label, text in turns]


def to_transcript(turns: Sequence[Turn], next_label: str) -> str:
    """The dialogue as a CAI transcript ending with ``"{next_label}:"`` for the model."""
    body = "".join(f"{label}: {text}\n\n" for label, text in turns)
    return f"{body}{next_label}:"


def clean_generation(text: str) -> tuple[str | None, str | None]:
    """Cut a generation down to the turn the model was asked for.

    A base model often goes on writing the next turns (``\\nHuman: ...``); that is cut off,
    as are a repeated leading label (``Revision: ...``) and a chat model's preamble
    (``Here is the revised response:``).

    Returns:
        ``(text, None)`` when something usable is left, else ``(None, reason)`` with reason
        ``empty`` (nothing but whitespace) or ``unparsable`` (no letter or digit left).
    """
    if not text.strip():
        return None, "empty"
    match = _NEXT_TURN.search(text)
    cut = text[: match.start()] if match else text
    cut = _PREAMBLE.sub("", _LEADING_LABEL.sub("", cut)).strip()
    if not any(ch.isalnum() for ch in cut):
        return None, "unparsable"
    return cut, None


def generate_many(
    llm: LLM, dialogues: Sequence[Sequence[Turn]], next_label: str, *, chat: bool,
    **params: Any,
) -> list[Completion]:
    """One completion per dialogue: ``chat_many`` for chat models (one batched call, so the
    Serve app can batch them), ``complete`` on each transcript for base models."""
    if chat:
        return llm.chat_many([to_messages(d) for d in dialogues], **params)
    stop = [f"\n{label}:" for label in LABELS]
    return [llm.complete(to_transcript(d, next_label), stop=stop, **params) for d in dialogues]
