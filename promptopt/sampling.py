"""The baselines every optimizer must beat: APE and random search (sample, score, keep best).

Both sample candidate instructions from the optimizer model, score each new one on the same
examples with the scorer, and keep the best; they differ only in the generation prompt:

- **APE** (Zhou et al. 2022, "Large Language Models Are Human-Level Prompt Engineers"):
  instruction induction from demonstrations, APE's forward-generation template ("I gave a
  friend an instruction and five inputs ..."), a fresh seeded draw of ``num_demos``
  input–output pairs from the demonstration pool each step, then selection on the scored
  examples. (APE's optional iterative Monte-Carlo resampling is not included.)
- **Random search**: a plain request for a new instruction for the task, showing only the
  starting instruction — no demonstrations, no scores.
- **Few-shot search** (:class:`FewShotSearch`; DSPy's labeled few-shot under random search,
  Khattab et al. 2023): no model writes anything. Each step appends a fresh seeded draw of
  ``num_demos`` labeled input–output pairs from a demonstration pool (disjoint from the
  scored examples) to the starting instruction, shown as chat turns; the scored examples
  select. It asks what
  the instruction-writing methods must beat when the optimizer model is too small to write.

Every request, candidate, skip and score is an event, as in OPRO; the budget ledger stops
the run cleanly. No ``ray`` here.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from tqdm import tqdm

from promptopt.protocols import (
    BudgetExceeded,
    EventSink,
    OptimizationResult,
    ScoredInstruction,
    Scorer,
    UsageMeter,
)
from promptopt.recording import Recorder, derive_seed
from promptopt.tasks import Example
from promptopt.tasks.formats import join_demos
from serving.protocols import LLM

APE_TEMPLATE = (
    "I gave a friend an instruction and {n} inputs. The friend read the instruction and wrote "
    "an output for every one of the inputs. Here are the input-output pairs:\n\n{demos}\n\n"
    "The instruction was"
)
RANDOM_TEMPLATE = (
    "Here is an instruction for a task:\n{instruction}\n\n"
    "Write a new instruction for this task. Reply with the instruction only."
)
_LEAD = re.compile(r"^(?:the instruction (?:was|is)|instruction|new instruction)\s*[:\-]?\s*",
                   re.IGNORECASE)  # fmt: skip


def format_demos(demos: Sequence[Example]) -> str:
    """APE's demonstration block: ``Input: ...`` / ``Output: ...`` pairs, blank-line separated."""
    return "\n\n".join(f"Input: {d.question}\nOutput: {d.gold}" for d in demos)


def parse_candidate(text: str) -> str | None:
    """The instruction in a generation: its first non-blank line without a leading
    "The instruction was" / "Instruction:" and surrounding quotes; ``None`` when blank."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = _LEAD.sub("", line).strip().strip("\"'`“”*").strip()
    return line or None


class SampleSelect:
    """Sample candidates from a prompt, score the new ones, keep the best.

    Args:
        method: ``"ape"``, ``"random"`` or ``"fewshot"`` (the events' ``method``).
        generator: the model that writes candidates (``None`` for :class:`FewShotSearch`).
        scorer: scores an instruction on ``examples``.
        examples: the scored examples (the same for every candidate).
        prompt: ``step -> generation prompt`` (seeded per step; no prompt here reads scores).
        candidates_per_step: samples per step (one call with ``n``).
        temperature: sampling temperature.
        max_tokens: a candidate's length limit.
        max_chars: longer candidates are skipped.
        seed: seeds every generation call.
        on_event / meter / stop_on / progress: as :class:`promptopt.opro.Opro`.
    """

    def __init__(
        self,
        method: str,
        generator: LLM | None,
        scorer: Scorer,
        examples: Sequence[Example],
        prompt: Callable[[int], str] | None,
        *,
        candidates_per_step: int = 8,
        temperature: float = 1.0,
        max_tokens: int = 64,
        max_chars: int = 500,
        seed: int = 0,
        on_event: EventSink | None = None,
        meter: UsageMeter | None = None,
        stop_on: tuple[type[BaseException], ...] = (BudgetExceeded,),
        progress: bool = False,
    ):
        if not examples:
            raise ValueError(f"`examples` is empty: {method} needs examples to score on.")
        if candidates_per_step < 1:
            raise ValueError(f"`candidates_per_step` must be >= 1, got {candidates_per_step}.")
        self.method, self.generator, self.scorer = method, generator, scorer
        self.examples, self.prompt = list(examples), prompt
        self.candidates_per_step, self.temperature = candidates_per_step, temperature
        self.max_tokens, self.max_chars, self.seed = max_tokens, max_chars, seed
        self.stop_on, self.progress = stop_on, progress
        self.recorder = Recorder(method, on_event, meter)

    def optimize(self, initial: Sequence[str], steps: int = 10) -> OptimizationResult:
        """Scores ``initial`` (step 0), then ``steps`` sample-and-score steps."""
        result = OptimizationResult(best=None)
        seen: set[str] = set()
        try:
            for instruction in dict.fromkeys(initial):
                seen.add(instruction)
                result.history.append(self._evaluate(instruction, 0, "initial"))
            for step in tqdm(range(1, steps + 1), desc=self.method, disable=not self.progress):
                for instruction in self._propose(step, seen):
                    result.history.append(self._evaluate(instruction, step, "generated"))
                result.steps_completed = step
                top = max(result.history, key=lambda s: s.score)
                self.recorder.emit("step", step=step, best=top.instruction, best_score=top.score)
        except self.stop_on as exc:
            self.recorder.stopped(result, exc)
        ranked = sorted(result.history, key=lambda s: s.score, reverse=True)  # first wins ties
        result.best = ranked[0] if ranked else None
        result.final = ranked
        return result

    def _propose(self, step: int, seen: set[str]) -> list[str]:
        assert self.generator is not None and self.prompt is not None
        prompt = self.prompt(step)
        self.recorder.emit("meta_prompt", step=step, prompt=prompt)
        completion = self.generator.chat(
            [{"role": "user", "content": prompt}], n=self.candidates_per_step,
            temperature=self.temperature, max_tokens=self.max_tokens,
            seed=derive_seed(self.seed, f"{self.method}-generator", step),
        )  # fmt: skip
        parsed = [(raw, parse_candidate(raw)) for raw in completion.texts]
        return self._keep_fresh(step, seen, parsed)

    def _keep_fresh(self, step: int, seen: set[str],
                    proposals: Sequence[tuple[str, str | None]]) -> list[str]:
        """The ``(raw, instruction)`` proposals that parsed (``None``: not), are new and are
        not too long, each logged in order."""
        fresh = []
        for raw, instruction in proposals:
            if instruction is None:
                self.recorder.skip(step, "parse_failure", raw)
                continue
            self.recorder.emit("proposal", step=step, raw=raw, instruction=instruction)
            if instruction in seen:
                self.recorder.skip(step, "duplicate", instruction)
                continue
            seen.add(instruction)
            if len(instruction) > self.max_chars:
                self.recorder.skip(step, "too_long", instruction)
                continue
            fresh.append(instruction)
        return fresh

    def _evaluate(self, instruction: str, step: int, source: str) -> ScoredInstruction:
        outcomes = self.scorer.score(instruction, self.examples)
        return self.recorder.evaluated(instruction, outcomes, step, source)


class FewShotSearch(SampleSelect):
    """Labeled few-shot search: the start instruction plus seeded draws of demonstrations.

    A candidate is ``with_demos(start, draw)``: the instruction carrying ``num_demos``
    labeled pairs, which the task's prompt format renders as chat turns (each input in the
    task's format, the instruction in the first, answered by its gold output; the scored
    input last). Step 0 scores ``start`` alone, so zero-shot stays a candidate; the best on
    the scored examples wins, ties to the earlier one.

    Args:
        scorer / examples: as :class:`SampleSelect` (the scored examples).
        demos: the demonstration pool; examples whose input is among the scored ones are
            dropped, so no candidate shows an answer it is scored on.
        start: the instruction the demonstrations are appended to.
        num_demos: pairs per candidate.
        candidates_per_step: draws per step.
        seed / on_event / meter / stop_on / progress: as :class:`SampleSelect`.

    Raises:
        ValueError: no scored examples, or a pool with fewer than ``num_demos`` examples
            outside them (``num_demos`` < 1 included).
    """

    def __init__(self, scorer: Scorer, examples: Sequence[Example], demos: Sequence[Example],
                 start: str, *, num_demos: int = 5, candidates_per_step: int = 1,
                 seed: int = 0, on_event: EventSink | None = None,
                 meter: UsageMeter | None = None,
                 stop_on: tuple[type[BaseException], ...] = (BudgetExceeded,),
                 progress: bool = False):
        super().__init__("fewshot", None, scorer, examples, None,
                         candidates_per_step=candidates_per_step, max_chars=1_000_000,
                         seed=seed, on_event=on_event, meter=meter, stop_on=stop_on,
                         progress=progress)  # fmt: skip
        scored = {e.question for e in self.examples}
        self.pool = [d for d in demos if d.question not in scored]
        if num_demos < 1 or len(self.pool) < num_demos:
            raise ValueError(f"few-shot search needs `num_demos` >= 1 demonstrations outside the "
                             f"scored examples: pool {len(self.pool)} (of {len(demos)}), "
                             f"num_demos {num_demos}.")
        self.start, self.num_demos = start, num_demos

    def _propose(self, step: int, seen: set[str]) -> list[str]:
        drawn = []
        for j in range(self.candidates_per_step):
            rng = random.Random(derive_seed(self.seed, "fewshot-demos", step, j))
            picked = [self.pool[i] for i in sorted(rng.sample(range(len(self.pool)),
                                                              self.num_demos))]
            candidate = with_demos(self.start, picked)
            drawn.append((candidate, candidate))
        return self._keep_fresh(step, seen, drawn)


def with_demos(instruction: str, demos: Sequence[Example]) -> str:
    """``instruction`` carrying the demonstrations (:func:`promptopt.tasks.formats.join_demos`:
    the task's format renders each as a user turn answered by its gold output)."""
    return join_demos(instruction, [(d.question, d.gold) for d in demos])


def ape_prompt(demos: Sequence[Example], num_demos: int = 5,
               seed: int = 0) -> Callable[[int], str]:
    """APE's forward-generation prompt with a fresh seeded draw of demonstrations per step.

    Raises:
        ValueError: an empty demonstration pool or ``num_demos`` < 1.
    """
    pool = list(demos)
    if not pool or num_demos < 1:
        raise ValueError(f"APE needs demonstrations and `num_demos` >= 1 (pool {len(pool)}, "
                         f"num_demos {num_demos}).")
    k = min(num_demos, len(pool))

    def prompt(step: int) -> str:
        rng = random.Random(derive_seed(seed, "ape-demos", step))
        picked = [pool[i] for i in sorted(rng.sample(range(len(pool)), k))]
        return APE_TEMPLATE.format(n=k, demos=format_demos(picked))

    return prompt


def random_prompt(start: str) -> Callable[[int], str]:
    """Random search's plain request, showing only the starting instruction (every step
    samples around the start, not around the best: no feedback reaches the generator)."""

    def prompt(step: int) -> str:
        return RANDOM_TEMPLATE.format(instruction=start or "(no instruction)")

    return prompt
