"""Prompt formats: where the instruction goes around an input.

:class:`PromptFormat` is OPRO's (GSM8K: ``Q: ... A:``, three positions); :class:`Template`
is a string with ``{instruction}`` and ``{input}`` (Instruction Induction, BBH, user tasks).
Both give the chat messages and the exemplar OPRO's meta-prompt shows, with ``<INS>`` where
the instruction goes. The whole prompt is one user message, unless the instruction carries
labeled demonstrations (:func:`join_demos`, written by few-shot search): then each
demonstration is a user turn (its input in the format, the instruction in the first) answered
by an assistant turn (its output), and the question is the last user turn.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from serving.protocols import Message

DEMO_MARK = "\n\n--- example ---\n"

Position = Literal["Q_begin", "Q_end", "A_begin"]
POSITIONS: tuple[str, ...] = ("Q_begin", "Q_end", "A_begin")


@dataclass(frozen=True)
class PromptFormat:
    """Where the instruction goes, exactly as OPRO's ``gen_prompt`` places it.

    Attributes:
        position: ``Q_begin`` (before the question), ``Q_end`` (after it) or ``A_begin``
            (at the start of the answer; needs ``include_qa``).
        include_qa: wrap the question in OPRO's ``Q: ... A:`` scaffold.
    """

    position: Position = "Q_end"
    include_qa: bool = True

    def __post_init__(self) -> None:
        if self.position not in POSITIONS:
            raise ValueError(f"`position` must be one of {POSITIONS}, got {self.position!r}.")
        if self.position == "A_begin" and not self.include_qa:
            raise ValueError(
                "`position='A_begin'` needs `include_qa=True` (OPRO defines no other)."
            )

    def render(self, question: str, instruction: str) -> str:
        """The prompt text for one question (OPRO's ``gen_prompt`` for GSM8K)."""
        if not self.include_qa:
            if self.position == "Q_begin":
                return (instruction + "\n" if instruction else "") + question
            return question + ("\n" + instruction if instruction else "")
        if self.position == "Q_begin":
            return ("Q: " + instruction + "\n" if instruction else "Q: ") + question + "\n\nA:"
        if self.position == "Q_end":
            return "Q: " + question + ("\n" + instruction if instruction else "") + "\n\nA:"
        return f"Q: {question}\n\nA:" + (f" {instruction}" if instruction else "")

    def messages(self, question: str, instruction: str) -> list[Message]:
        """The chat form (see the module docstring for demonstrations)."""
        return chat_turns(self.render, question, instruction)

    @property
    def key(self) -> str:
        return f"{self.position}|qa={int(self.include_qa)}"

    def exemplar(self, question: str) -> str:
        """The prompt with ``<INS>`` for the instruction, as OPRO's meta-prompt shows it."""
        if self.include_qa:
            return {
                "Q_begin": f"Q: <INS>\n{question}\nA:",
                "Q_end": f"Q: {question}\n<INS>\nA:",
                "A_begin": f"Q: {question}\nA: <INS>",
            }[self.position]
        return f"<INS>\n{question}\n" if self.position == "Q_begin" else f"{question}\n<INS>\n"


@dataclass(frozen=True)
class Template:
    """A prompt template with ``{instruction}`` and ``{input}`` placeholders.

    With an empty instruction the text before ``{input}`` that held it is dropped, so "no
    instruction" is the bare input scaffold.

    Attributes:
        text: e.g. ``"{instruction}\n\nInput: {input}\nOutput:"``.
    """

    text: str = "{instruction}\n\nInput: {input}\nOutput:"

    def __post_init__(self) -> None:
        for slot in ("{instruction}", "{input}"):
            if self.text.count(slot) != 1:
                raise ValueError(f"a prompt template needs `{slot}` exactly once, got {self.text!r}.")

    def render(self, question: str, instruction: str) -> str:
        """The prompt for one input (``str.replace``: braces in inputs are safe)."""
        if not instruction.strip():
            head, tail = self.text.split("{instruction}", 1)
            return (head.strip() + tail.lstrip()).replace("{input}", question).strip()
        return self.text.replace("{instruction}", instruction).replace("{input}", question)

    def messages(self, question: str, instruction: str) -> list[Message]:
        """The chat form (see the module docstring for demonstrations)."""
        return chat_turns(self.render, question, instruction)

    @property
    def key(self) -> str:
        return "template=" + self.text

    def exemplar(self, question: str) -> str:
        """The prompt with ``<INS>`` for the instruction, as OPRO's meta-prompt shows it."""
        return self.render(question, "<INS>")


def join_demos(instruction: str, demos: Sequence[tuple[str, str]]) -> str:
    """``instruction`` carrying labeled ``(input, output)`` demonstrations: one readable
    string (it is what events, logs and the evaluation table key on) that
    :func:`split_demos` takes apart again."""
    blocks = "".join(f"{DEMO_MARK}Input: {x}\nOutput: {y}" for x, y in demos)
    return instruction.strip() + blocks


def split_demos(instruction: str) -> tuple[str, list[tuple[str, str]]]:
    """``(instruction, demonstrations)`` of a :func:`join_demos` string (none: ``[]``).

    Raises:
        ValueError: a demonstration block without its ``Input:`` / ``Output:`` lines.
    """
    head, *blocks = instruction.split(DEMO_MARK)
    demos = []
    for block in blocks:
        x, sep, y = block.rpartition("\nOutput: ")
        if not sep or not x.startswith("Input: "):
            raise ValueError(f"a demonstration needs `Input: ...` then `Output: ...` lines, "
                             f"got {block!r}.")
        demos.append((x.removeprefix("Input: "), y))
    return head, demos


def chat_turns(render: Callable[[str, str], str], question: str,
               instruction: str) -> list[Message]:
    """The messages for ``question``: one user message, or demonstration turns then it."""
    head, demos = split_demos(instruction)
    if not demos:
        return [{"role": "user", "content": render(question, instruction)}]
    turns: list[Message] = []
    for i, (x, y) in enumerate(demos):
        turns.append({"role": "user", "content": render(x, head if i == 0 else "")})
        turns.append({"role": "assistant", "content": y})
    turns.append({"role": "user", "content": render(question, "")})
    return turns
