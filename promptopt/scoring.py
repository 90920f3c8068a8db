"""A :class:`~promptopt.protocols.Scorer` that asks a task LLM, with an evaluation table.

The task's judge turns each output into an outcome (its extractor's score and APE's strict
score).

All questions of one call go out in a single ``chat_many`` (the client runs them
concurrently); results are kept in a table keyed on (model, sampling params, format,
instruction, example id), so no optimizer pays twice for the same evaluation. The table is
any mutable mapping: a dict here, a persistent store in a run.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from typing import Any

from promptopt.protocols import Outcome
from promptopt.tasks import Example, PromptFormat
from promptopt.tasks.base import Format, Judge
from promptopt.tasks.judges import NumberJudge, judge_key
from serving.protocols import LLM

EvalKey = tuple[str, str, str, str, str]


class LLMScorer:
    """Scores an instruction by greedy answers of a chat model, judged by the task.

    Args:
        llm: the task model; each prompt is sent as the user message.
        prompt_format: where the instruction goes (default: OPRO's GSM8K ``Q_end``).
        model: the model name, part of the table key (share a table across models safely).
        table: evaluation table; defaults to a private dict.
        judge: the task's extractor and scorer (default: GSM8K's last number).
        **params: sampling parameters; defaults ``temperature=0.0``, ``max_tokens=400``.
    """

    def __init__(
        self,
        llm: LLM,
        prompt_format: Format | None = None,
        *,
        model: str = "",
        table: MutableMapping[EvalKey, Outcome] | None = None,
        judge: Judge | None = None,
        **params: Any,
    ):
        self.llm = llm
        self.prompt_format: Format = prompt_format or PromptFormat()
        self.judge: Judge = judge or NumberJudge()
        self.model = model
        self.table: MutableMapping[EvalKey, Outcome] = {} if table is None else table
        self.params: dict[str, Any] = {"temperature": 0.0, "max_tokens": 400, **params}
        self._params_key = json.dumps(self.params, sort_keys=True)
        self._format_key = f"{self.prompt_format.key}|judge={judge_key(self.judge)}"

    def outcome(self, example: Example, text: str) -> Outcome:
        """The judged outcome of one output (an extractor that finds nothing scores 0)."""
        verdict = self.judge.judge(text, example)
        return Outcome(example.id, verdict.correct, text, verdict.prediction, verdict.strict)

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
                self.table[k] = self.outcome(e, completion.text)
        return [self.table[k] for k in keys]
