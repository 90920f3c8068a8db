"""OPRO (Yang et al. 2023, "Large Language Models as Optimizers") for instructions.

Each step builds the meta-prompt from the best instructions so far and three random
exemplars, samples ``candidates_per_step`` answers from the optimizer model at temperature
1.0, parses, de-duplicates and filters them, and scores the survivors with the scorer on
the same fixed examples. Every candidate, skip and score is emitted as an event.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tqdm import tqdm

from promptopt.metaprompt import build_meta_prompt, parse_instruction, polish, rejection_reason
from promptopt.protocols import (
    BudgetExceeded,
    EventSink,
    OptimizationResult,
    ScoredInstruction,
    Scorer,
    UsageMeter,
)
from promptopt.recording import Recorder, derive_seed
from promptopt.tasks import Example, PromptFormat
from promptopt.tasks.base import Format
from serving.protocols import LLM

DEFAULT_INITIAL = ("Let's solve the problem.",)  # OPRO's GSM8K starting instruction


class Opro:
    """The OPRO loop; the optimizer LLM and the scorer are injected.

    Args:
        optimizer: the model that proposes instructions (called with ``n`` and a seed).
        scorer: scores an instruction on ``examples`` (the same ones for every candidate).
        examples: the fixed scoring set; exemplars are drawn from it too, as in OPRO.
        prompt_format: where the instruction goes in the task prompt (and in exemplars).
        candidates_per_step: answers sampled from the optimizer per step (paper: 8).
        max_pairs: best instruction–score pairs shown in the meta-prompt (paper: 20).
        num_buckets: scores shown as ``round(score * num_buckets)``; ``None``: 3 decimals.
        threshold: instructions scoring below it are not shown (0: all are).
        num_exemplars: problems shown in the meta-prompt (paper: 3).
        temperature: optimizer sampling temperature (paper: 1.0).
        max_tokens: the optimizer's answer length limit.
        max_chars: longer instructions are skipped (OPRO: 500).
        reject_digits: skip instructions containing digits (OPRO does on GSM8K).
        lenient_parse: an answer without ``<INS>``/``[...]`` gives its first line instead of
            a parse failure (not in the paper; for tiny optimizer models).
        seed: seeds exemplar draws and every optimizer call.
        on_event: receives one dict per event (``meta_prompt``, ``proposal``, ``skipped``,
            ``evaluated``, ``step``, ``stopped``).
        meter: when given, events carry the LLM calls and tokens spent so far.
        stop_on: exceptions that end the run cleanly (the budget ledger's).
        progress: show a progress bar over steps.
    """

    def __init__(
        self,
        optimizer: LLM,
        scorer: Scorer,
        examples: Sequence[Example],
        *,
        prompt_format: Format | None = None,
        candidates_per_step: int = 8,
        max_pairs: int = 20,
        num_buckets: int | None = 100,
        threshold: float = 0.0,
        num_exemplars: int = 3,
        temperature: float = 1.0,
        max_tokens: int = 512,
        max_chars: int = 500,
        reject_digits: bool = True,
        lenient_parse: bool = False,
        seed: int = 0,
        on_event: EventSink | None = None,
        meter: UsageMeter | None = None,
        stop_on: tuple[type[BaseException], ...] = (BudgetExceeded,),
        progress: bool = False,
    ):
        if not examples:
            raise ValueError("`examples` is empty: OPRO needs examples to score instructions on.")
        if candidates_per_step < 1:
            raise ValueError(f"`candidates_per_step` must be >= 1, got {candidates_per_step}.")
        if num_buckets is not None and num_buckets < 1:
            raise ValueError(f"`num_buckets` must be >= 1 or None, got {num_buckets}.")
        if not 0 <= num_exemplars <= len(examples):
            raise ValueError(
                f"`num_exemplars` must be in [0, len(examples)={len(examples)}], "
                f"got {num_exemplars}."
            )
        self.optimizer, self.scorer, self.examples = optimizer, scorer, list(examples)
        self.prompt_format = prompt_format or PromptFormat()
        self.candidates_per_step, self.max_pairs = candidates_per_step, max_pairs
        self.num_buckets, self.threshold, self.num_exemplars = num_buckets, threshold, num_exemplars
        self.temperature, self.max_tokens = temperature, max_tokens
        self.max_chars, self.reject_digits, self.seed = max_chars, reject_digits, seed
        self.lenient_parse = lenient_parse
        self.stop_on, self.progress = stop_on, progress
        self.recorder = Recorder("opro", on_event, meter)

    def optimize(
        self, initial: Sequence[str] = DEFAULT_INITIAL, steps: int = 200
    ) -> OptimizationResult:
        """Scores ``initial`` (step 0), then runs ``steps`` OPRO steps.

        Returns what it has when an exception in ``stop_on`` is raised (``stopped`` says so).
        """
        result = OptimizationResult(best=None)
        seen: set[str] = set()
        try:
            for instruction in dict.fromkeys(initial):
                seen.add(instruction)
                result.history.append(self._evaluate(instruction, 0, "initial"))
            for step in tqdm(range(1, steps + 1), desc="opro", disable=not self.progress):
                for instruction in self._propose(step, result.history, seen):
                    result.history.append(self._evaluate(instruction, step, "generated"))
                result.steps_completed = step
                self._emit_step(step, result.history)
        except self.stop_on as exc:
            self.recorder.stopped(result, exc)
        ranked = sorted(result.history, key=lambda s: s.score, reverse=True)  # stable: first wins
        result.best = ranked[0] if ranked else None
        result.final = ranked[: self.max_pairs]
        return result

    def _emit_step(self, step: int, history: Sequence[ScoredInstruction]) -> None:
        best = max(history, key=lambda s: s.score) if history else None
        self.recorder.emit(
            "step",
            step=step,
            best=best.instruction if best else None,
            best_score=best.score if best else None,
        )

    def exemplars(self, step: int) -> list[Example]:
        """The exemplars of a step: ``num_exemplars`` random examples, in dataset order."""
        rng = random.Random(derive_seed(self.seed, "opro-exemplars", step))
        picked = sorted(rng.sample(range(len(self.examples)), self.num_exemplars))
        return [self.examples[i] for i in picked]

    def meta_prompt(self, step: int, history: Sequence[ScoredInstruction]) -> str:
        """The meta-prompt of ``step`` given the scores so far."""
        return build_meta_prompt(
            history,
            self.exemplars(step),
            self.prompt_format,
            max_pairs=self.max_pairs,
            num_buckets=self.num_buckets,
            threshold=self.threshold,
        )

    def _propose(
        self, step: int, history: Sequence[ScoredInstruction], seen: set[str]
    ) -> list[str]:
        """Samples candidates and returns the new, parsable, admissible ones in order."""
        prompt = self.meta_prompt(step, history)
        self.recorder.emit("meta_prompt", step=step, prompt=prompt)
        completion = self.optimizer.chat(
            [{"role": "user", "content": prompt}],
            n=self.candidates_per_step,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            seed=derive_seed(self.seed, "opro-optimizer", step),
        )
        fresh: list[str] = []
        for raw in completion.texts:
            parsed = parse_instruction(raw, self.lenient_parse)
            if parsed is None:
                self.recorder.skip(step, "parse_failure", raw)
                continue
            instruction = polish(parsed)
            self.recorder.emit("proposal", step=step, raw=raw, instruction=instruction)
            if instruction in seen:
                self.recorder.skip(step, "duplicate", instruction)
                continue
            seen.add(instruction)
            reason = rejection_reason(instruction, self.max_chars, self.reject_digits)
            if reason is not None:
                self.recorder.skip(step, reason, instruction)
                continue
            fresh.append(instruction)
        return fresh

    def _evaluate(self, instruction: str, step: int, source: str) -> ScoredInstruction:
        outcomes = self.scorer.score(instruction, self.examples)
        return self.recorder.evaluated(instruction, outcomes, step, source)
