"""Seed banks: instruction-style prompts written for this project (no external source).

Two banks, chosen per task (:mod:`ecoflow.sources`):

- ``gsm8k`` (:data:`SECTIONS`): the ways one can steer a model on a math word problem —
  reasoning style, checking, format, persona, pacing, strategy. The default on GSM8K only.
- ``generic`` (:data:`GENERIC_SECTIONS`): task-agnostic instruction *styles* (answer length,
  format, care, persona) that name no task and no answer, so they fit any task; the default
  elsewhere, beside instructions induced from the task's own demonstrations.

They give the flow model a varied neighbourhood of instructions, the retrieve-and-rewrite
decoder material to recombine, and the BO loop starting points. :func:`bank` returns one,
de-duplicated, in a fixed order.
"""

from __future__ import annotations

_REASONING = """\
Let's work through this one step at a time.
Break the problem into smaller parts and solve each part before combining them.
First list what the question gives you, then what it asks for.
Write down every quantity in the problem before doing any arithmetic.
Think about which operation each sentence of the problem describes.
Translate the story into equations, then solve the equations.
Start from what is asked and work backwards to the facts you need.
Find the unknown quantity first, then use it to answer the question.
Draw a small table of the quantities and fill it in as you go.
Identify the units of every number and keep them through the calculation.
Solve the problem by reasoning about rates: how much per item, per hour or per person.
When the problem involves parts of a whole, compute each part separately.
Look for the key relationship between the numbers before you calculate anything.
Reason out loud, one short sentence per step, and then state the result.
Consider what happens at each stage of the story in the order it happens.
Keep a running total as you read each sentence of the problem.
Decide on a plan in one sentence, then carry it out carefully.
Restate the problem in your own words before solving it.
Group the quantities that belong together and add them up group by group.
Treat percentages as fractions of the amount they refer to.
When there are several people or objects, track each one's count separately.
Name each intermediate result so you can refer to it later.
Solve a simpler version of the problem first, then the real one.
Work out how many times something repeats before multiplying.
Separate what changes from what stays the same in the problem.
"""

_CHECKING = """\
Check your arithmetic twice before giving the answer.
After solving, plug your answer back into the problem to verify it.
Estimate the answer roughly first, then make sure your exact answer is close.
Double-check that you answered the question that was actually asked.
Verify each calculation; a single slip changes the final number.
Before answering, ask yourself whether the result is reasonable.
Review your steps for any quantity you forgot to include.
Make sure the units of your answer match what the question asks for.
Recompute the final step a second way to confirm it.
If two steps disagree, find the mistake before continuing.
Read the question again at the end and confirm your answer fits it.
Watch out for words like "each", "total" and "left", which change the operation.
Be careful with subtraction order and with remainders in division.
Check whether the answer should be a whole number and round only if it makes sense.
Confirm that no information in the problem went unused by accident.
"""

_FORMAT = """\
Give only the final number as your answer.
End your response with the line "The answer is" followed by the number.
Show your work, then write the final answer on its own line.
Answer with a single integer and no units.
Put the final numeric answer after four hash marks, like #### 42.
Keep the explanation brief and finish with the number.
Write your reasoning as a numbered list, then the answer.
Use plain arithmetic expressions such as 3 * 4 = 12 for each step.
Respond with a short explanation followed by the answer in bold.
Do not include any text after the final answer.
State the answer first, then justify it in two or three sentences.
Write each calculation on a separate line.
Present the solution as a sequence of equations and a final result.
Format the answer as a plain number without commas.
Finish with: Final answer: <number>.
"""

_PERSONA = """\
You are a careful math tutor explaining a solution to a student.
You are an accountant who never makes arithmetic mistakes.
Act as a patient teacher solving a homework problem on the board.
You are a logical thinker who always double-checks your work.
Imagine you are explaining this to a ten-year-old, clearly and simply.
You are an expert at word problems; solve this one precisely.
Pretend you are grading your own solution as a strict examiner.
You are a competition mathematician: be rigorous but concise.
Take the role of a shopkeeper counting items and money exactly.
You are a calm problem solver who reads every word of the question.
As a meticulous engineer, compute each quantity exactly.
You are a helpful assistant that solves grade-school math problems.
Answer as a detective would: gather the clues, then deduce the number.
You are a coach who walks through the reasoning without skipping steps.
Respond like a textbook's worked example.
"""

_PACING = """\
Take a deep breath and solve the problem carefully.
Slow down and think before writing any numbers.
There is no rush; accuracy matters more than speed.
Focus on getting every intermediate value right.
Think quietly first, then write a clean solution.
Pause after each step and make sure it follows from the previous one.
Read the problem twice before starting.
Work deliberately and avoid guessing.
Carefully consider every detail of the question.
Be precise: small errors compound in multi-step problems.
Approach the problem calmly and methodically.
Think it through completely before you commit to an answer.
Solve it as if your answer will be checked by a teacher.
Focus on the numbers and ignore irrelevant details in the story.
Handle one sentence of the problem at a time.
"""

_STRATEGY = """\
Use multiplication for repeated groups and division for sharing equally.
Convert all quantities to the same unit before combining them.
When a price changes by a percent, compute the change and then the new price.
For problems about time, convert hours and minutes carefully.
If the problem mentions ratios, find the value of one part first.
Compare the before and after amounts to find how much changed.
Count money in cents if that avoids fractions.
Use the total and the known parts to find the missing part.
For age problems, write each person's age now and in the future.
Find the rate per unit, then scale it to the amount asked.
If something is shared among people, divide the total by the number of people.
For distance problems, use distance equals speed times time.
When items are bought in packs, work out the number of packs first.
Add the costs of every item before computing change from a payment.
Track what is gained and what is lost separately, then combine them.
"""

_MISC = """\
Solve the following math word problem.
Answer the question below.
Here is a problem; find the number it asks for.
Read the problem and compute the answer.
Please solve this grade-school math question.
Work out the answer to the question that follows.
Find the solution to this problem using basic arithmetic.
Calculate the requested value from the information given.
The question below has a single numeric answer; find it.
Use the facts in the story to calculate the answer.
Explain your reasoning and give the number requested.
Figure out the answer and explain how you got it.
Solve this problem the way you would on a math test.
Give a clear, correct solution to the problem.
Determine the exact numerical answer.
"""

SECTIONS: dict[str, str] = {
    "reasoning": _REASONING, "checking": _CHECKING, "format": _FORMAT, "persona": _PERSONA,
    "pacing": _PACING, "strategy": _STRATEGY, "misc": _MISC,
}

# Generic styles: none may name a task or an answer ("Say positive or negative" would leak
# one task's label set into every other task's search).
_G_ANSWER = """\
Answer with a single word.
Reply with only the answer, no explanation.
Give just the output, nothing else.
Keep your answer as short as possible.
Respond with one short line.
Write the answer and stop.
Do not repeat the input in your answer.
Output only the result.
Answer in as few words as you can.
Give the final answer without any extra text.
"""

_G_PROCESS = """\
Read the input carefully, then respond.
Think step by step before answering.
Work out what the input asks for, then answer it directly.
Look closely at every word of the input before you answer.
Consider the input as a whole, then give your answer.
Take the input apart piece by piece, then give the result.
Think it through quietly, then write only the answer.
Figure out the rule that applies to the input and apply it.
Decide what kind of answer is expected before writing it.
Reason briefly, then state the answer on its own line.
"""

_G_CARE = """\
Double-check your answer before you reply.
Be precise and exact.
Make sure your answer matches what was asked.
Check the input again before committing to an answer.
Pay attention to small details in the input.
Avoid guessing; base the answer on the input.
If the input is tricky, slow down and look again.
Be careful and accurate.
"""

_G_FORMAT = """\
Write the answer in lowercase.
Answer in plain text without quotes or punctuation.
Give the answer first, then a one-sentence reason.
Start your reply with the answer.
Use the same style as the input when you answer.
Put the answer on the first line.
"""

_G_PERSONA = """\
You are a precise assistant; answer exactly what is asked.
You are an expert; give the correct output for the input.
Act as a careful annotator labelling each input.
You are a helpful assistant that follows instructions exactly.
Respond like a concise reference book.
"""

_G_TASK = """\
Given the input, produce the correct output.
Transform the input as required and give the result.
Complete the task for the input below.
Here is an input; write the matching output.
Apply the task to the input and answer.
Answer the following.
"""

GENERIC_SECTIONS: dict[str, str] = {
    "answer": _G_ANSWER, "process": _G_PROCESS, "care": _G_CARE, "format": _G_FORMAT,
    "persona": _G_PERSONA, "task": _G_TASK,
}
BANKS: dict[str, dict[str, str]] = {"gsm8k": SECTIONS, "generic": GENERIC_SECTIONS}


def bank(sections: tuple[str, ...] | None = None, kind: str = "gsm8k") -> list[str]:
    """A seed bank (all its sections by default), de-duplicated, in a fixed order.

    Args:
        sections: section names of that bank to include.
        kind: ``gsm8k`` (:data:`SECTIONS`) or ``generic`` (:data:`GENERIC_SECTIONS`).

    Raises:
        ValueError: an unknown bank or section (the message lists the known ones).
    """
    if kind not in BANKS:
        raise ValueError(f"unknown bank {kind!r}; choose from {sorted(BANKS)}.")
    chosen = BANKS[kind]
    names = sections or tuple(chosen)
    unknown = [n for n in names if n not in chosen]
    if unknown:
        raise ValueError(f"unknown bank sections {unknown} of the {kind} bank; choose from "
                         f"{sorted(chosen)}.")
    seen: dict[str, None] = {}
    for name in names:
        for line in chosen[name].splitlines():
            if line.strip():
                seen.setdefault(line.strip(), None)
    return list(seen)
