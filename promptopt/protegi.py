"""ProTeGi (Pryzant et al. 2023, "Automatic Prompt Optimization with Gradient Descent and
Beam Search").

Each step expands every prompt of the beam: score it on a random minibatch, sample groups
of its errors, ask for textual gradients, apply each as an edit, add Monte-Carlo
paraphrases, then pick the next beam among all candidates with a bandit (UCB or successive
rejects) or by brute force. Structure and defaults follow microsoft/LMOps
``prompt_optimization``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from tqdm import tqdm

from promptopt.bandits import (
    ArmStats,
    PullFn,
    Selection,
    rank_by_mean,
    run_ucb,
    successive_rejects,
)
from promptopt.gradients import TextualGradients, error_string
from promptopt.protocols import (
    BudgetExceeded,
    EventSink,
    OptimizationResult,
    Outcome,
    ScoredInstruction,
    Scorer,
    UsageMeter,
    mean_correct,
)
from promptopt.recording import Recorder, derive_seed
from promptopt.tasks import Example

SELECTORS = ("ucb", "sr", "bf")


class ProTeGi:
    """Beam search over prompts with textual gradients; LLMs and scorer are injected.

    Args:
        editor: gradient, edit and paraphrase models (:class:`TextualGradients`).
        scorer: scores a prompt on examples.
        examples: the training pool for minibatches and bandit pulls.
        beam_width: prompts kept per step (LMOps: 4).
        minibatch_size: examples scored to find errors (LMOps: 64).
        n_gradients: error groups (one gradient call each) per prompt (LMOps: 4).
        errors_per_gradient: errors shown per gradient call (LMOps: 4).
        gradients_per_error: reasons asked for per call (LMOps: 1).
        steps_per_gradient: edited prompts asked for per reason (LMOps: 1).
        mc_samples_per_step: paraphrases per edited or original prompt (LMOps: 2).
        max_expansion_factor: new candidates kept per beam prompt (LMOps: 8).
        selector: ``"ucb"``, ``"sr"`` (successive rejects) or ``"bf"`` (brute force).
        c: UCB exploration weight (LMOps: 1.0).
        eval_rounds: UCB rounds (LMOps: 8).
        prompts_per_round: arms pulled per UCB round (LMOps: 8).
        samples_per_eval: examples per pull (LMOps: 32); the evaluation budget of every
            selector is ``samples_per_eval * eval_rounds * prompts_per_round`` (LMOps).
        seed: seeds minibatches, error samples, pulls and every LLM call.
        on_event: receives one dict per event (``evaluated``, ``gradient``, ``edit``,
            ``paraphrase``, ``candidates``, ``pulled``, ``beam``, ``stopped``).
        meter: when given, events carry the LLM calls and tokens spent so far.
        stop_on: exceptions that end the run cleanly (the budget ledger's).
        progress: show a progress bar over steps.
    """

    def __init__(
        self,
        editor: TextualGradients,
        scorer: Scorer,
        examples: Sequence[Example],
        *,
        beam_width: int = 4,
        minibatch_size: int = 64,
        n_gradients: int = 4,
        errors_per_gradient: int = 4,
        gradients_per_error: int = 1,
        steps_per_gradient: int = 1,
        mc_samples_per_step: int = 2,
        max_expansion_factor: int = 8,
        selector: str = "ucb",
        c: float = 1.0,
        eval_rounds: int = 8,
        prompts_per_round: int = 8,
        samples_per_eval: int = 32,
        seed: int = 0,
        on_event: EventSink | None = None,
        meter: UsageMeter | None = None,
        stop_on: tuple[type[BaseException], ...] = (BudgetExceeded,),
        progress: bool = False,
    ):
        if not examples:
            raise ValueError("`examples` is empty: ProTeGi needs a training pool.")
        if selector not in SELECTORS:
            raise ValueError(f"`selector` must be one of {SELECTORS}, got {selector!r}.")
        if min(beam_width, minibatch_size, eval_rounds, prompts_per_round, samples_per_eval) < 1:
            raise ValueError(
                "`beam_width`, `minibatch_size`, `eval_rounds`, `prompts_per_round` and "
                "`samples_per_eval` must all be >= 1."
            )
        self.editor, self.scorer, self.examples = editor, scorer, list(examples)
        self.beam_width, self.minibatch_size = beam_width, minibatch_size
        self.n_gradients, self.errors_per_gradient = n_gradients, errors_per_gradient
        self.gradients_per_error, self.steps_per_gradient = gradients_per_error, steps_per_gradient
        self.mc_samples, self.max_expansion = mc_samples_per_step, max_expansion_factor
        self.selector, self.c = selector, c
        self.eval_rounds, self.prompts_per_round = eval_rounds, prompts_per_round
        self.samples_per_eval, self.seed = samples_per_eval, seed
        self.stop_on, self.progress = stop_on, progress
        self.recorder = Recorder("protegi", on_event, meter)

    @property
    def eval_budget(self) -> int:
        """Example evaluations per selection (LMOps' ``eval_budget``)."""
        return self.samples_per_eval * self.eval_rounds * self.prompts_per_round

    def optimize(self, initial: str | Sequence[str], steps: int = 6) -> OptimizationResult:
        """Runs ``steps`` expand-and-select steps from the initial prompt(s).

        Returns what it has when an exception in ``stop_on`` is raised: the last complete
        beam, and ``stopped`` says why.
        """
        beam = [initial] if isinstance(initial, str) else list(dict.fromkeys(initial))
        result = OptimizationResult(best=None)
        try:
            for step in tqdm(range(1, steps + 1), desc="protegi", disable=not self.progress):
                candidates = self.expand(beam, step, result.history)
                ranked = self.select(candidates, step, result.history)[: self.beam_width]
                beam = [s.instruction for s in ranked]
                result.final, result.best, result.steps_completed = ranked, ranked[0], step
                self.recorder.emit(
                    "beam",
                    step=step,
                    beam=[
                        {"instruction": s.instruction, "score": s.score, "n": s.n} for s in ranked
                    ],
                )
        except self.stop_on as exc:
            self.recorder.stopped(result, exc)
        if result.best is None and result.history:  # stopped in step 1: best minibatch score
            result.best = max(result.history, key=lambda s: s.score)
        return result

    def expand(self, beam: Sequence[str], step: int, history: list[ScoredInstruction]) -> list[str]:
        """The beam plus up to ``max_expansion_factor`` new candidates per beam prompt."""
        rng = random.Random(derive_seed(self.seed, "protegi-expand", step))
        minibatch = rng.sample(self.examples, min(self.minibatch_size, len(self.examples)))
        new: list[str] = []
        for b, prompt in enumerate(beam):
            outcomes = self.scorer.score(prompt, minibatch)
            history.append(self.recorder.evaluated(prompt, outcomes, step, "minibatch"))
            errors = [(e, o) for e, o in zip(minibatch, outcomes, strict=True) if not o.correct]
            edited = self._edits(prompt, errors, step, b, rng)
            paraphrased = self._paraphrases(list(dict.fromkeys([*edited, prompt])), step, b)
            fresh = [p for p in dict.fromkeys(edited + paraphrased) if p and p not in beam]
            if len(fresh) > self.max_expansion:
                fresh = rng.sample(fresh, self.max_expansion)
            new += fresh
        candidates = list(dict.fromkeys([*new, *beam]))
        self.recorder.emit("candidates", step=step, candidates=candidates)
        return candidates

    def _edits(
        self,
        prompt: str,
        errors: Sequence[tuple[Example, Outcome]],
        step: int,
        b: int,
        rng: random.Random,
    ) -> list[str]:
        """Gradients from ``n_gradients`` error samples, each applied as an edit."""
        edited: list[str] = []
        if not errors:
            return edited
        for g in range(self.n_gradients):
            errs = error_string(
                rng.sample(list(errors), min(self.errors_per_gradient, len(errors)))
            )
            seed = derive_seed(self.seed, "protegi-gradient", step, b, g)
            feedbacks = self.editor.gradients(prompt, errs, self.gradients_per_error, seed)
            self.recorder.emit(
                "gradient", step=step, prompt=prompt, errors=errs, feedbacks=feedbacks
            )
            for f, feedback in enumerate(feedbacks):
                seed = derive_seed(self.seed, "protegi-edit", step, b, g, f)
                out = self.editor.edit(prompt, errs, feedback, self.steps_per_gradient, seed)
                self.recorder.emit("edit", step=step, prompt=prompt, feedback=feedback, edits=out)
                edited += out
        return edited

    def _paraphrases(self, prompts: Sequence[str], step: int, b: int) -> list[str]:
        out: list[str] = []
        if self.mc_samples < 1:
            return out
        for i, prompt in enumerate(prompts):
            seed = derive_seed(self.seed, "protegi-paraphrase", step, b, i)
            variants = self.editor.paraphrase(prompt, self.mc_samples, seed)
            self.recorder.emit("paraphrase", step=step, prompt=prompt, paraphrases=variants)
            out += variants
        return out

    def select(
        self, candidates: Sequence[str], step: int, history: list[ScoredInstruction]
    ) -> list[ScoredInstruction]:
        """All candidates ranked best first by the configured selector's estimates."""
        rng = random.Random(derive_seed(self.seed, "protegi-select", step))

        def pull(arms: Sequence[int], n: int) -> list[tuple[float, int]]:
            sample = rng.sample(self.examples, min(n, len(self.examples)))
            rewards = []
            for arm in arms:
                outcomes = self.scorer.score(candidates[arm], sample)
                self.recorder.emit(
                    "pulled",
                    step=step,
                    instruction=candidates[arm],
                    n=len(outcomes),
                    reward=mean_correct(outcomes),
                    correct=[int(o.correct) for o in outcomes],
                )
                rewards.append((float(sum(o.correct for o in outcomes)), len(outcomes)))
            return rewards

        selection = self._run_selector(len(candidates), pull, rng)
        means = selection.stats.means()
        ranked = [
            ScoredInstruction(candidates[i], means[i], selection.stats.pulls[i], step, "bandit")
            for i in selection.ranking
        ]
        history.extend(ranked)
        return ranked

    def _run_selector(self, num_arms: int, pull: PullFn, rng: random.Random) -> Selection:
        if self.selector == "ucb":
            return run_ucb(
                num_arms,
                pull,
                rounds=self.eval_rounds,
                arms_per_round=self.prompts_per_round,
                samples_per_pull=self.samples_per_eval,
                c=self.c,
                rng=rng,
            )
        if self.selector == "sr" and num_arms > self.beam_width:
            return successive_rejects(num_arms, pull, budget=self.eval_budget, keep=self.beam_width)
        # brute force (also SR when every candidate fits in the beam): one shared sample
        stats = ArmStats.zeros(num_arms)
        arms = list(range(num_arms))
        per_arm = max(1, self.eval_budget // num_arms)
        for arm, (reward, count) in zip(arms, pull(arms, per_arm), strict=True):
            stats.update(arm, reward, count)
        return Selection(rank_by_mean(stats), stats)
