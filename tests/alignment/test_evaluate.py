"""The judged comparison counts each instruction once: a tie, a judgment or a skip."""

from __future__ import annotations

from alignment.evaluate import compare
from alignment.fakes import FakeLogprobLLM


def test_compare_counts_ties_once_and_skips_apart():
    def ours(prompt: str, params: dict) -> str:
        if "(empty)" in prompt:
            return ""
        return "Red is a colour." if "(differ)" in prompt else "Blue is a colour."

    base = FakeLogprobLLM(lambda prompt, params: "Blue is a colour.")
    judge = FakeLogprobLLM(lambda prompt, params: {"I": 0.0})  # names no option: unparsable
    instructions = ["Name a colour (same).", "Say nothing (empty).", "Name a colour (differ)."]
    result = compare(FakeLogprobLLM(ours), base, judge, instructions, "Which is better?",
                     chat=True, max_tokens=16)
    assert result.ties == 1 and result.judged == 1 and result.win_rate == 0.5
    assert result.skipped == {"empty": 1, "unparsable_judge": 1}
    assert result.judged + sum(result.skipped.values()) == len(instructions)
    assert [r["p_aligned"] for r in result.rows] == [0.5, None, None]
