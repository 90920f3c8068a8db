"""ProTeGi's textual gradients, edits and paraphrases (Pryzant et al. 2023).

The templates follow microsoft/LMOps ``prompt_optimization/optimizers.py``, with the task
kind as a parameter (the original says "classifier"; GSM8K needs a math problem solver).
Gradient and edit models are separate collaborators; paraphrases use the edit model unless
one is given.
"""

from __future__ import annotations

from collections.abc import Sequence

from promptopt.protocols import Outcome
from promptopt.tasks import Example
from serving.protocols import LLM

GRADIENT_TEMPLATE = """I'm trying to write a zero-shot {task} prompt.

My current prompt is:
"{prompt}"

But this prompt gets the following examples wrong:
{errors}

give {num_feedbacks} reasons why the prompt could have gotten these examples wrong.
Wrap each reason with <START> and <END>"""

EDIT_TEMPLATE = """I'm trying to write a zero-shot {task}.

My current prompt is:
"{prompt}"

But it gets the following examples wrong:
{errors}

Based on these examples the problem with this prompt is that {feedback}

Based on the above information, I wrote {num_prompts} different improved prompts.
Each prompt is wrapped with <START> and <END>.

The {num_prompts} new prompts are:"""

PARAPHRASE_TEMPLATE = (
    "Generate a variation of the following instruction while keeping the semantic meaning."
    "\n\nInput: {prompt}\n\nOutput:"
)


def parse_tagged(text: str, start: str = "<START>", end: str = "<END>") -> list[str]:
    """Every stripped ``start ... end`` span in order; an unclosed last span is dropped."""
    spans, pos = [], 0
    while (begin := text.find(start, pos)) != -1:
        stop = text.find(end, begin + len(start))
        if stop == -1:
            break
        spans.append(text[begin + len(start) : stop].strip())
        pos = stop + len(end)
    return spans


def error_string(errors: Sequence[tuple[Example, Outcome]]) -> str:
    """The ``## Example i`` block of wrong answers shown to the gradient model."""
    blocks = []
    for i, (example, outcome) in enumerate(errors, start=1):
        pred = "none" if outcome.prediction is None else outcome.prediction
        blocks.append(
            f'## Example {i}\nText: "{example.question.strip()}"\n'
            f"Label: {example.gold}\nPrediction: {pred}"
        )
    return "\n\n".join(blocks)


class TextualGradients:
    """Asks LLMs for criticisms of a prompt ("gradients"), edits and paraphrases.

    Args:
        gradient_llm: writes the reasons a prompt fails.
        edit_llm: rewrites the prompt from a reason.
        paraphrase_llm: writes Monte-Carlo paraphrases; defaults to ``edit_llm``.
        task: the kind of prompt, substituted into the templates.
        temperature: sampling temperature of every call (LMOps: 0.7).
        max_tokens: length limit of every call (LMOps: 1024).
    """

    def __init__(
        self,
        gradient_llm: LLM,
        edit_llm: LLM,
        paraphrase_llm: LLM | None = None,
        *,
        task: str = "math word problem solver",
        temperature: float = 0.7,
        max_tokens: int = 1024,
    ):
        self.gradient_llm, self.edit_llm = gradient_llm, edit_llm
        self.paraphrase_llm = paraphrase_llm or edit_llm
        self.task, self.temperature, self.max_tokens = task, temperature, max_tokens

    def _ask(self, llm: LLM, prompt: str, n: int, seed: int) -> list[str]:
        completion = llm.chat(
            [{"role": "user", "content": prompt}],
            n=n,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=seed,
        )
        return completion.texts

    def gradient_prompt(self, prompt: str, errors: str, num_feedbacks: int) -> str:
        return GRADIENT_TEMPLATE.format(
            task=self.task, prompt=prompt, errors=errors, num_feedbacks=num_feedbacks
        )

    def edit_prompt(self, prompt: str, errors: str, feedback: str, num_prompts: int) -> str:
        return EDIT_TEMPLATE.format(
            task=self.task, prompt=prompt, errors=errors, feedback=feedback, num_prompts=num_prompts
        )

    def gradients(self, prompt: str, errors: str, num_feedbacks: int, seed: int) -> list[str]:
        """Reasons why ``prompt`` got the ``errors`` wrong (one call)."""
        text = self.gradient_prompt(prompt, errors, num_feedbacks)
        return [g for r in self._ask(self.gradient_llm, text, 1, seed) for g in parse_tagged(r)]

    def edit(
        self, prompt: str, errors: str, feedback: str, num_prompts: int, seed: int
    ) -> list[str]:
        """Improved prompts that address ``feedback`` (one call)."""
        text = self.edit_prompt(prompt, errors, feedback, num_prompts)
        return [p for r in self._ask(self.edit_llm, text, 1, seed) for p in parse_tagged(r)]

    def paraphrase(self, prompt: str, n: int, seed: int) -> list[str]:
        """``n`` sampled paraphrases of ``prompt`` (one call), blanks dropped."""
        text = PARAPHRASE_TEMPLATE.format(prompt=prompt)
        return [p.strip() for p in self._ask(self.paraphrase_llm, text, n, seed) if p.strip()]
