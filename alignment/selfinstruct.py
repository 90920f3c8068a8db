"""Self-Instruct (Wang et al. 2022): grow a stage's instruction pool from its seed tasks.

Each prompt shows 8 in-context instructions (6 seeds + 2 already generated, when there are
any) and asks for more. Base models get the paper's completion-style list
(``Come up with a series of tasks:`` / ``1. ...`` / ... / ``9.``) and continue it; instruct
models get the same list in one chat message. The answer is split into instructions, and
each is kept only if it passes :class:`InstructionFilter` (length, bad keywords, how it
starts) and is not a near-duplicate (ROUGE-L > 0.7) of anything already in the pool.
Every rejection is counted by reason.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from alignment.rouge import max_rouge_l
from serving.protocols import LLM, Completion, Message

# Self-Instruct's blacklist: tasks a text-only model cannot do.
BAD_KEYWORDS: tuple[str, ...] = (
    "image", "images", "graph", "graphs", "picture", "pictures", "file", "files", "map",
    "maps", "draw", "plot", "go to", "video", "audio", "music", "flowchart", "diagram",
)
_NUMBERED = re.compile(r"(?:^|\n)\s*\d+\s?[.)](?:\s+|$)")


@dataclass(frozen=True)
class InstructionFilter:
    """Self-Instruct's heuristic filters (defaults as in the paper's code).

    Attributes:
        min_words: fewer words are rejected (``too_short``; the paper drops <= 3 words).
        max_words: more words are rejected (``too_long``).
        bad_keywords: whole-word matches are rejected (``bad_keyword``).
        max_rouge: a ROUGE-L above this against the pool is a ``duplicate``.
    """

    min_words: int = 4
    max_words: int = 150
    bad_keywords: tuple[str, ...] = BAD_KEYWORDS
    max_rouge: float = 0.7

    def reason(self, instruction: str) -> str | None:
        """Why ``instruction`` is rejected (without the duplicate check), or ``None``."""
        text = instruction.strip()
        if not text:
            return "empty"
        words = len(text.split())
        if words < self.min_words:
            return "too_short"
        if words > self.max_words:
            return "too_long"
        lowered = text.lower()
        if any(re.search(rf"\b{re.escape(k)}\b", lowered) for k in self.bad_keywords):
            return "bad_keyword"
        if lowered.startswith("write a program"):
            return "program"
        if not text[0].isascii():
            return "non_ascii_start"
        if not text[0].isalnum():
            return "punctuation_start"
        return None


def clean_instruction(text: str) -> str:
    """Whitespace collapsed to single spaces, trailing ``:`` dropped (as the paper does)."""
    return re.sub(r"\s+", " ", text).strip().rstrip(":").strip()


def parse_instructions(text: str, first_number: int | None = None) -> list[str]:
    """Split a numbered list into instructions.

    Args:
        text: the model's answer.
        first_number: for a completion prompt that ended with ``"9."``, pass 9: the answer
            then starts with item 9's text and carries no number of its own.

    Returns:
        The cleaned items, in order (empty items kept as ``""`` so they can be counted).
    """
    if first_number is not None:
        text = f"{first_number}. {text}"
    parts = _NUMBERED.split(text)
    return [clean_instruction(p) for p in parts[1:]]


def sample_in_context(
    seeds: Sequence[str], generated: Sequence[str], rng: random.Random, k: int = 8,
    from_generated: int = 2,
) -> list[str]:
    """``k`` in-context instructions: ``from_generated`` from ``generated`` (as many as
    exist), the rest from ``seeds``; seeds first, then generated, as in Self-Instruct."""
    n_gen = min(from_generated, len(generated))
    n_seed = min(k - n_gen, len(seeds))
    return rng.sample(list(seeds), n_seed) + rng.sample(list(generated), n_gen)


def completion_prompt(examples: Sequence[str]) -> str:
    """The paper's completion-style prompt; the model continues after ``"{k+1}."``."""
    lines = [f"{i}. {clean_instruction(e)}" for i, e in enumerate(examples, 1)]
    return "Come up with a series of tasks:\n" + "\n".join(lines) + f"\n{len(examples) + 1}."


def chat_prompt(examples: Sequence[str], description: str, num_new: int) -> list[Message]:
    """One user message with the numbered examples, asking for ``num_new`` more."""
    lines = "\n".join(f"{i}. {clean_instruction(e)}" for i, e in enumerate(examples, 1))
    first, last = len(examples) + 1, len(examples) + num_new
    return [{"role": "user", "content": (
        f"Come up with new, diverse tasks: {description}. Here are examples:\n{lines}\n\n"
        f"Write tasks {first} to {last} in the same numbered format, one task per line, "
        "and nothing else.")}]


@dataclass
class SelfInstructResult:
    """What :meth:`SelfInstruct.generate` made: the accepted instructions and the skips."""

    instructions: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    calls: int = 0


class SelfInstruct:
    """Generates new instructions for one curriculum stage.

    Args:
        llm: the model (the ``llm`` app through ``serving.client``, or a fake).
        chat: True for instruct models (chat prompt), False for base models (completion).
        num_in_context: in-context instructions per prompt (paper: 8).
        from_generated: how many of them come from generated ones (paper: 2).
        num_new: tasks asked for per prompt (chat: in words; completion: by the stop).
        filters: the heuristic and duplicate filters.
        temperature, top_p, max_tokens: sampling (paper: 0.7, 0.5, 1024).
        seed: seeds the in-context sampling and the LLM calls.
    """

    def __init__(
        self, llm: LLM, *, chat: bool, num_in_context: int = 8, from_generated: int = 2,
        num_new: int = 8, filters: InstructionFilter | None = None, temperature: float = 0.7,
        top_p: float = 0.5, max_tokens: int = 512, seed: int = 0,
    ):
        if not 0 <= from_generated <= num_in_context:
            raise ValueError("`from_generated` must be in [0, `num_in_context`].")
        self.llm, self.chat = llm, chat
        self.num_in_context, self.from_generated = num_in_context, from_generated
        self.num_new = num_new
        self.filters = filters or InstructionFilter()
        self.params = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens}
        self.seed = seed

    def propose(self, description: str, examples: Sequence[str], call_seed: int) -> list[str]:
        """One LLM call; the raw (cleaned, unfiltered) instructions it proposed.

        A last item cut off by ``max_tokens`` comes back as ``""`` (counted as ``empty``).
        """
        completion: Completion
        if self.chat:
            completion = self.llm.chat(
                chat_prompt(examples, description, self.num_new), seed=call_seed, **self.params)
            items = parse_instructions(completion.text)
        else:
            # A blank line ends the list; so does the item after the ``num_new`` asked for.
            stop = ["\n\n", f"\n{len(examples) + self.num_new + 1}."]
            completion = self.llm.complete(
                completion_prompt(examples), seed=call_seed, stop=stop, **self.params)
            items = parse_instructions(completion.text, first_number=len(examples) + 1)
        if items and completion.choices[0].finish_reason == "length":
            items[-1] = ""  # truncated mid-task: the paper drops it
        return items

    def generate(
        self, description: str, seeds: Sequence[str], target: int, *,
        existing: Sequence[str] = (), max_calls: int = 50,
        on_instruction: Callable[[str], None] | None = None,
    ) -> SelfInstructResult:
        """Propose until ``target`` new instructions are accepted or ``max_calls`` is spent.

        Args:
            description: what kind of task the stage wants (from the constitution).
            seeds: the stage's seed tasks.
            target: how many generated instructions the stage needs in total.
            existing: instructions generated earlier (a resumed run); they count toward
                ``target`` and join the duplicate pool.
            max_calls: a bound on LLM calls (a weak model may never reach ``target``).
            on_instruction: called with each accepted instruction as soon as it is accepted
                (the store appends it, so a killed run keeps it).
        """
        rng = random.Random(f"{self.seed}:{len(existing)}")
        generated, pool = list(existing), [*seeds, *existing]
        result = SelfInstructResult()
        while len(generated) < target and result.calls < max_calls:
            examples = sample_in_context(
                seeds, generated, rng, self.num_in_context, self.from_generated)
            candidates = self.propose(description, examples, call_seed=rng.randrange(2**31))
            result.calls += 1
            for candidate in candidates:
                reason = self.filters.reason(candidate)
                if reason is None and max_rouge_l(candidate, pool) > self.filters.max_rouge:
                    reason = "duplicate"
                if reason is not None:
                    result.skipped[reason] += 1
                    continue
                pool.append(candidate)
                generated.append(candidate)
                result.instructions.append(candidate)
                if on_instruction is not None:
                    on_instruction(candidate)
                if len(generated) >= target:
                    break
        return result
