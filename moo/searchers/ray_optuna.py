"""Optuna multi-objective searchers (NSGA-II, TPE, GP, random) through Ray's ``OptunaSearch``.

Ray's ``OptunaSearch`` already takes metric and mode lists; this module builds it from a
:class:`SearchProblem` and fixes two gaps for multi-objective use: a trial that errored or
reported a missing/NaN objective is told to Optuna as FAIL (Ray's version tells COMPLETE
with a ``None``/NaN value, Optuna refuses, and the trial stays RUNNING forever; an errored
trial that had reported metrics is told COMPLETE), and outcome constraints are set on each
finished trial, where Optuna 5's samplers read them.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import optuna
from ray.tune.search.optuna import OptunaSearch

from moo.searchers.problem import SearchProblem

SamplerName = Literal["nsga2", "tpe", "gp", "random"]


class DefineByRun:
    """Optuna define-by-run space for a :class:`SearchProblem` (conditional params skipped).

    A class rather than a closure because ``OptunaSearch.save`` pickles its space.
    """

    def __init__(self, problem: SearchProblem) -> None:
        self.problem = problem

    def __call__(self, trial: optuna.Trial) -> None:
        chosen: dict[str, Any] = {}
        for p in self.problem.params:
            if not p.is_active(chosen):
                continue
            if p.choices is not None:
                chosen[p.name] = trial.suggest_categorical(p.name, p.choices)
            elif p.integer:
                chosen[p.name] = trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log)
            else:
                chosen[p.name] = trial.suggest_float(p.name, p.low, p.high, log=p.log)


class MOOptunaSearch(OptunaSearch):
    """``OptunaSearch`` that fails bad trials cleanly and records outcome constraints.

    Build it with :func:`make_optuna_searcher`.
    """

    def __init__(self, problem: SearchProblem, **kwargs: Any) -> None:
        super().__init__(
            space=DefineByRun(problem),
            metric=problem.metric_names,
            mode=problem.modes,
            **kwargs,
        )
        self.problem = problem

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        """Tell Optuna; errors or missing/non-finite metrics become FAIL, not a stuck trial."""
        values = None if error else self.problem.metric_values(result)
        if values is None:
            super().on_trial_complete(trial_id, result=None, error=True)
            return
        ot_trial = self._ot_trials.get(trial_id)
        for c in self.problem.constraints if ot_trial is not None else ():
            # Optuna 5's samplers read constraints set on the trial (constraints_func is
            # deprecated there).
            ot_trial.set_constraint(str(c), c.violation(values[c.metric]))
        super().on_trial_complete(trial_id, result=values, error=False)

    def attach(self, trial_id: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Run a given config as Tune trial ``trial_id`` (enqueued in the study and asked
        for at once, so the sampler learns from its result like any other).

        Returns:
            The config that runs (an earlier enqueued warm start would come first).
        """
        self._ot_study.enqueue_trial(self.problem.validate(config), skip_if_exists=False)
        return self.suggest(trial_id)


class _NSGAIISampler(optuna.samplers.NSGAIISampler):
    """NSGA-II that pickles: Optuna 5.1's genetic samplers hold a ``threading.Lock``, and
    Ray's ``OptunaSearch.save`` pickles the sampler with the study."""

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_thread_lock", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._thread_lock = threading.Lock()


def make_sampler(
    name: SamplerName, seed: int | None, **sampler_kwargs: Any
) -> optuna.samplers.BaseSampler:
    """An Optuna sampler by short name, seeded.

    Raises:
        ValueError: On an unknown name.
    """
    samplers = {
        "nsga2": _NSGAIISampler,
        "tpe": optuna.samplers.TPESampler,
        "gp": optuna.samplers.GPSampler,
        "random": optuna.samplers.RandomSampler,
    }
    if name in samplers:
        return samplers[name](seed=seed, **sampler_kwargs)
    raise ValueError(f"`sampler` must be one of nsga2, tpe, gp, random; got {name!r}.")


def make_optuna_searcher(
    problem: SearchProblem,
    sampler: SamplerName = "nsga2",
    seed: int | None = None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
    **sampler_kwargs: Any,
) -> MOOptunaSearch:
    """A Tune searcher for ``problem`` using an Optuna multi-objective sampler.

    Args:
        problem: Parameters, objectives and outcome constraints.
        sampler: "nsga2", "tpe", "gp" (Optuna's GPSampler) or "random".
        seed: Seeds the sampler.
        points_to_evaluate: Warm-start configs, evaluated first (Optuna enqueues them).
        **sampler_kwargs: Passed to the sampler (e.g. ``population_size`` for NSGA-II).

    Returns:
        The searcher; ``save``/``restore`` are Ray's (a pickle of the study).
    """
    warm = [problem.validate(cfg) for cfg in points_to_evaluate or ()]
    ot_sampler = make_sampler(sampler, seed, **sampler_kwargs)
    return MOOptunaSearch(problem, sampler=ot_sampler, points_to_evaluate=warm or None)


def make_random_searcher(
    problem: SearchProblem,
    seed: int | None = None,
    points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
) -> MOOptunaSearch:
    """A seeded uniform random baseline (Optuna's ``RandomSampler``), with conditionals."""
    return make_optuna_searcher(problem, "random", seed, points_to_evaluate)
