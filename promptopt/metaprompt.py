"""OPRO's meta-prompt and the parsing of the optimizer model's answers.

The text follows google-deepmind/opro ``opro/optimization/opt_utils.py`` (``gen_meta_prompt``
with ``meta_prompt_type="both_instructions_and_exemplars"``, the PaLM-2 optimizer wording
that the paper's GSM8K results used): past instruction–score pairs in ascending order of
score, then exemplar problems with ``<INS>`` where the instruction goes, then the request
for a new instruction in square brackets. Answers in ``<INS>...</INS>`` tags (OPRO's
GPT-optimizer wording) are accepted too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from promptopt.protocols import ScoredInstruction
from promptopt.tasks import Example
from promptopt.tasks.base import Format

INTRO = (
    "I have some texts along with their corresponding scores."
    " The texts are arranged in ascending order based on their scores,"
    " where higher scores indicate better quality.\n\n"
)
EXEMPLARS_INTRO = (
    "The following exemplars show how to apply your text: you replace"
    " <INS> in each input with your text, then read the input and give"
    " an output. We say your output is wrong if your output is"
    " different from the given output, and we say your output is"
    " correct if they are the same. When replacing <INS> with an old"
    " piece of text above, we get wrong outputs on the following"
    " inputs.\n\n"
)
REQUEST = (
    "\n\nWrite your new text that is different from the old ones and"
    " has a score as high as possible. Write the text in square brackets."
)
_TAGGED = re.compile(r"<INS>(.*?)</INS>", re.DOTALL)
_BRACKETED = re.compile(r"\[(.*?)\]")  # like OPRO: the first [...] on one line


def bucketize(score: float, num_buckets: int | None) -> int | float:
    """The score as shown to the optimizer: ``round(score * num_buckets)`` (OPRO's code).

    ``num_buckets=None`` shows ``round(score, 3)`` instead (OPRO's ``np.inf``). Python's
    ``round`` rounds half to even, as OPRO's does: 0.125 with 100 buckets shows 12.

    Raises:
        ValueError: for a score outside [0, 1].
    """
    if not 0.0 <= score <= 1.0:
        raise ValueError(f"a score must be in [0, 1] to be bucketed, got {score}.")
    return round(score, 3) if num_buckets is None else round(score * num_buckets)


def select_pairs(
    history: Sequence[ScoredInstruction], max_pairs: int = 20, threshold: float = 0.0
) -> list[ScoredInstruction]:
    """The top ``max_pairs`` scored instructions in ascending order of score.

    Ties keep their order of arrival (a stable sort, as OPRO's). Instructions scoring below
    ``threshold`` are then dropped (0 disables the filter, as in OPRO).
    """
    top = sorted(history, key=lambda s: s.score)[-max_pairs:] if max_pairs > 0 else []
    return [s for s in top if not threshold or s.score >= threshold]


def format_pairs(pairs: Sequence[ScoredInstruction], num_buckets: int | None) -> str:
    """The ``text:/score:`` block of the meta-prompt."""
    return "".join(
        f"\ntext:\n{p.instruction}\nscore:\n{bucketize(p.score, num_buckets)}\n" for p in pairs
    )


def format_exemplar(example: Example, prompt_format: Format) -> str:
    """One ``input:/output:`` exemplar with ``<INS>`` where the format puts the instruction;
    the output is the task's gold answer (a number, a label, a word)."""
    return f"\ninput:\n{prompt_format.exemplar(example.question)}\noutput:\n{example.gold}\n"


def build_meta_prompt(
    history: Sequence[ScoredInstruction],
    exemplars: Sequence[Example],
    prompt_format: Format,
    max_pairs: int = 20,
    num_buckets: int | None = 100,
    threshold: float = 0.0,
) -> str:
    """OPRO's meta-prompt: instruction–score pairs, then exemplars, then the request.

    Args:
        history: every scored instruction so far.
        exemplars: the problems shown (OPRO: 3, drawn at random each step).
        prompt_format: where the instruction goes in the task prompt.
        max_pairs: how many of the best instructions to show (OPRO: 20).
        num_buckets: scores are shown as integers ``0..num_buckets`` (OPRO: 100).
        threshold: instructions scoring below it are not shown (OPRO: 0, i.e. all).
    """
    pairs = format_pairs(select_pairs(history, max_pairs, threshold), num_buckets)
    shown = "".join(format_exemplar(e, prompt_format) for e in exemplars)
    if not exemplars:
        return INTRO + pairs + REQUEST
    return INTRO + pairs + "\n\n" + EXEMPLARS_INTRO + shown + REQUEST


def parse_instruction(text: str, lenient: bool = False) -> str | None:
    """The instruction in an optimizer answer: ``<INS>...</INS>`` first, else ``[...]``.

    Args:
        text: the optimizer model's answer.
        lenient: when neither is there, take the first non-blank line (quotes stripped).
            Not in the paper: tiny optimizer models (SmolLM2-135M) rarely follow the
            format, and without it a demo would evaluate no candidate at all.

    Returns ``None`` when nothing is found or what is found is blank (a parse failure).
    """
    match = _TAGGED.search(text) or _BRACKETED.search(text)
    if match is not None:
        return match.group(1).strip() or None
    if lenient:
        line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
        return line.strip("\"'` ") or None
    return None


def polish(instruction: str) -> str:
    """OPRO's ``polish_sentence``: strip, drop ``**``, capitalize the first letter."""
    sentence = instruction.strip().replace("**", "")
    if len(sentence) > 1:
        sentence = sentence[0].upper() + sentence[1:]
    return sentence


def rejection_reason(
    instruction: str, max_chars: int = 500, reject_digits: bool = True
) -> str | None:
    """Why OPRO would not evaluate a new instruction, or ``None`` when it would.

    OPRO skips instructions longer than 500 characters, on GSM8K any containing a digit
    (they tend to leak answers), and any containing ``INS`` (a copied placeholder).
    """
    if not instruction:
        return "empty"
    if len(instruction) > max_chars:
        return "too_long"
    if reject_digits and any(ch.isdigit() for ch in instruction):
        return "contains_digits"
    if "INS" in instruction:
        return "contains_INS"
    return None
