"""A :class:`~promptopt.protocols.Scorer` that asks a task LLM, with an evaluation table.

All questions of one call go out in a single ``chat_many`` (the client runs them
concurrently); results are kept in a table keyed on (model, sampling params, format,
instruction, example id), so no optimizer pays twice for the same evaluation. The table is
any mutable mapping: a dict here, a persistent store in a run.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from typing import Any

from promptopt.extract import extract_number, is_correct
from promptopt.protocols import Outcome
from promptopt.task import Example, PromptFormat
from serving.protocols import LLM

EvalKey = tuple[str, str, str, str, str]


class LLMScorer:
    """Scores an instruction by greedy answers of a chat model on GSM8K problems.

    Args:
        llm: the task model; each prompt is sent as the user message.
        prompt_format: where the instruction goes (OPRO's ``Q_begin``/``Q_end``/``A_begin``).
        model: the model name, part of the table key (share a table across models safely).
        table: evaluation table; defaults to a private dict.
        **params: sampling parameters; defaults ``temperature=0.0``, ``max_tokens=400``.
    """

    def __init__(
        self,
        llm: LLM,
        prompt_format: PromptFormat | None = None,
        *,
        model: str = "",
        table: MutableMapping[EvalKey, Outcome] | None = None,
        **params: Any,
    ):
        self.llm = llm
        self.prompt_format = prompt_format or PromptFormat()
        self.model = model
        self.table: MutableMapping[EvalKey, Outcome] = {} if table is None else table
        self.params: dict[str, Any] = {"temperature": 0.0, "max_tokens": 400, **params}
        self._params_key = json.dumps(self.params, sort_keys=True)
        fmt = self.prompt_format
        self._format_key = f"{fmt.position}|qa={int(fmt.include_qa)}"

    def key(self, instruction: str, example: Example) -> EvalKey:
        """The table key of one evaluation."""
        return (self.model, self._params_key, self._format_key, instruction, example.id)

    def score(self, instruction: str, examples: Sequence[Example]) -> list[Outcome]:
        """One :class:`Outcome` per example; only evaluations not in the table call the LLM."""
        keys = [self.key(instruction, e) for e in examples]
        todo = list(
            {k: e for k, e in zip(keys, examples, strict=True) if k not in self.table}.items()
        )
        if todo:
            conversations = [self.prompt_format.messages(e.question, instruction) for _, e in todo]
            completions = self.llm.chat_many(conversations, **self.params)
            for (k, e), completion in zip(todo, completions, strict=True):
                text = completion.text
                self.table[k] = Outcome(e.id, is_correct(text, e.gold), text, extract_number(text))
        return [self.table[k] for k in keys]
