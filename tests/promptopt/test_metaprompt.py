"""OPRO's meta-prompt, exactly: ordering, top-k, bucketing, exemplars, and answer parsing."""

from __future__ import annotations

import pytest

from promptopt.metaprompt import (
    EXEMPLARS_INTRO,
    INTRO,
    REQUEST,
    bucketize,
    build_meta_prompt,
    format_exemplar,
    parse_instruction,
    polish,
    rejection_reason,
    select_pairs,
)
from promptopt.protocols import ScoredInstruction
from promptopt.tasks import Example, PromptFormat


def _scored(*pairs: tuple[str, float]) -> list[ScoredInstruction]:
    return [ScoredInstruction(text, score, 10, i) for i, (text, score) in enumerate(pairs)]


EX = Example("train-0", "How many eggs?", "3 eggs\n#### 3", "3")


@pytest.mark.parametrize(
    ("score", "buckets", "shown"),
    [
        (0.718, 100, 72),
        (0.8, 100, 80),
        (0.125, 100, 12),  # Python's round: half to even, as OPRO's code
        (0.135, 100, 14),
        (0.5, 20, 10),
        (0.43, 20, 9),  # 8.6 -> 9
        (0.0, 100, 0),
        (1.0, 100, 100),
        (0.71234, None, 0.712),
    ],
)
def test_bucketize(score: float, buckets: int | None, shown: float) -> None:
    assert bucketize(score, buckets) == shown


def test_bucketize_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        bucketize(1.5, 100)


def test_select_pairs_top_k_ascending_stable() -> None:
    history = _scored(("a", 0.5), ("b", 0.2), ("c", 0.9), ("d", 0.5), ("e", 0.1))
    assert [s.instruction for s in select_pairs(history, 3)] == ["a", "d", "c"]
    assert [s.instruction for s in select_pairs(history, 20)] == ["e", "b", "a", "d", "c"]
    assert [s.instruction for s in select_pairs(history, 20, threshold=0.3)] == ["a", "d", "c"]
    assert select_pairs(history, 0) == []


@pytest.mark.parametrize(
    ("position", "include_qa", "body"),
    [
        ("Q_begin", True, "Q: <INS>\nHow many eggs?\nA:"),
        ("Q_end", True, "Q: How many eggs?\n<INS>\nA:"),
        ("A_begin", True, "Q: How many eggs?\nA: <INS>"),
        ("Q_begin", False, "<INS>\nHow many eggs?\n"),
        ("Q_end", False, "How many eggs?\n<INS>\n"),
    ],
)
def test_exemplar_places_ins_like_opro(position: str, include_qa: bool, body: str) -> None:
    fmt = PromptFormat(position, include_qa)  # type: ignore[arg-type]
    assert format_exemplar(EX, fmt) == f"\ninput:\n{body}\noutput:\n3\n"


def test_meta_prompt_exact() -> None:
    history = _scored(("Solve it.", 0.61), ("Let's think step by step.", 0.718), ("Go.", 0.2))
    ex2 = Example("train-7", "How far?", "#### 12", "12")
    prompt = build_meta_prompt(history, [EX, ex2], PromptFormat("Q_begin"), max_pairs=2)
    assert prompt == (
        "I have some texts along with their corresponding scores. The texts are arranged in "
        "ascending order based on their scores, where higher scores indicate better quality."
        "\n\n"
        "\ntext:\nSolve it.\nscore:\n61\n"
        "\ntext:\nLet's think step by step.\nscore:\n72\n"
        "\n\n"
        "The following exemplars show how to apply your text: you replace <INS> in each input "
        "with your text, then read the input and give an output. We say your output is wrong "
        "if your output is different from the given output, and we say your output is correct "
        "if they are the same. When replacing <INS> with an old piece of text above, we get "
        "wrong outputs on the following inputs.\n\n"
        "\ninput:\nQ: <INS>\nHow many eggs?\nA:\noutput:\n3\n"
        "\ninput:\nQ: <INS>\nHow far?\nA:\noutput:\n12\n"
        "\n\nWrite your new text that is different from the old ones and has a score as high "
        "as possible. Write the text in square brackets."
    )


def test_meta_prompt_buckets_and_no_exemplars() -> None:
    history = _scored(("A.", 0.43), ("B.", 0.2))
    prompt = build_meta_prompt(history, [], PromptFormat(), num_buckets=20)
    assert prompt == INTRO + "\ntext:\nB.\nscore:\n4\n\ntext:\nA.\nscore:\n9\n" + REQUEST
    assert EXEMPLARS_INTRO not in prompt


@pytest.mark.parametrize(
    ("answer", "parsed"),
    [
        ("[Let's think step by step.]", "Let's think step by step."),
        ("Here it is: [ Take a deep breath. ] and [ignored]", "Take a deep breath."),
        ("<INS>Work carefully.</INS>", "Work carefully."),
        ("<INS>\nTagged wins.\n</INS> [bracketed]", "Tagged wins."),
        ("no brackets at all", None),
        ("[]", None),
        ("[   ]", None),
        ("[unclosed", None),
        ("<INS>unclosed", None),
        ("[spans\nlines]", None),  # like OPRO: a bracket pair on one line only
    ],
)
def test_parse_instruction(answer: str, parsed: str | None) -> None:
    assert parse_instruction(answer) == parsed


def test_polish() -> None:
    assert polish("  **let's** think.  ") == "Let's think."
    assert polish("a") == "a"


@pytest.mark.parametrize(
    ("instruction", "reason"),
    [
        ("Think carefully.", None),
        ("", "empty"),
        ("x" * 501, "too_long"),
        ("x" * 500, None),
        ("Use 3 steps.", "contains_digits"),
        ("Replace <INS> here.", "contains_INS"),
    ],
)
def test_rejection_reason(instruction: str, reason: str | None) -> None:
    assert rejection_reason(instruction) == reason


def test_digits_allowed_when_not_gsm8k() -> None:
    assert rejection_reason("Use 3 steps.", reject_digits=False) is None


def test_lenient_parse_takes_the_first_line_only_when_asked() -> None:
    from promptopt.metaprompt import parse_instruction

    raw = '\n "Solve it carefully."\nmore chatter'
    assert parse_instruction(raw) is None
    assert parse_instruction(raw, lenient=True) == "Solve it carefully."
    assert parse_instruction("x [Tagged wins.] y", lenient=True) == "Tagged wins."
    assert parse_instruction("  \n ", lenient=True) is None
