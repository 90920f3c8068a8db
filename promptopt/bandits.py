"""Best-arm identification for ProTeGi's beam selection: UCB and successive rejects.

An arm is a candidate prompt; pulling arms evaluates them on a fresh random sample of
examples. ``pull(arms, n)`` returns, for each arm, ``(reward_sum, count)``: the number of
correct answers and how many examples were used (``n``, or fewer when the pool is smaller).
Counts are in examples, as in ProTeGi's code.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

PullFn = Callable[[Sequence[int], int], Sequence[tuple[float, int]]]


@dataclass
class ArmStats:
    """Running totals per arm: summed reward and number of example evaluations."""

    rewards: list[float]
    pulls: list[int]

    @classmethod
    def zeros(cls, num_arms: int) -> ArmStats:
        return cls([0.0] * num_arms, [0] * num_arms)

    def update(self, arm: int, reward_sum: float, count: int) -> None:
        self.rewards[arm] += reward_sum
        self.pulls[arm] += count

    def means(self) -> list[float]:
        """Empirical mean reward per arm (0.0 for an arm never pulled)."""
        return [r / n if n else 0.0 for r, n in zip(self.rewards, self.pulls, strict=True)]


@dataclass(frozen=True)
class Selection:
    """The outcome of a selection: arm indices best first, and the statistics behind it."""

    ranking: list[int]
    stats: ArmStats
    rejected: list[int] = field(default_factory=list)  # successive rejects: in order


def rank_by_mean(stats: ArmStats) -> list[int]:
    """Arms by empirical mean, best first; ties keep the lower index first."""
    means = stats.means()
    return sorted(range(len(means)), key=lambda i: -means[i])


def ucb_scores(stats: ArmStats, t: int, c: float) -> list[float]:
    """``mean + c * sqrt(ln t / pulls)`` per arm, ``inf`` for an arm never pulled.

    ``t`` is the 1-based round, as in ProTeGi's Algorithm 2 (``Q_t(p) + c sqrt(log t / N_t(p))``).
    """
    if t < 1:
        raise ValueError(f"the round `t` is 1-based, got {t}.")
    bonus = math.log(t)
    return [
        m + c * math.sqrt(bonus / n) if n else math.inf
        for m, n in zip(stats.means(), stats.pulls, strict=True)
    ]


def ucb_choose(stats: ArmStats, k: int, t: int, c: float, rng: random.Random) -> list[int]:
    """The ``k`` arms with the highest UCB scores; ties are broken at random by ``rng``."""
    scores = ucb_scores(stats, t, c)
    order = list(range(len(scores)))
    rng.shuffle(order)  # random tie-break; the sort below is stable
    return sorted(order, key=lambda i: -scores[i])[:k]


def run_ucb(
    num_arms: int,
    pull: PullFn,
    *,
    rounds: int,
    arms_per_round: int,
    samples_per_pull: int,
    c: float,
    rng: random.Random,
) -> Selection:
    """UCB selection: each round pulls the ``arms_per_round`` arms with the highest bound.

    Returns the arms ranked by empirical mean (ProTeGi keeps the top ``beam_width``).
    """
    if num_arms < 1 or rounds < 1 or arms_per_round < 1 or samples_per_pull < 1:
        raise ValueError("`num_arms`, `rounds`, `arms_per_round`, `samples_per_pull` must be >= 1.")
    stats = ArmStats.zeros(num_arms)
    for t in range(1, rounds + 1):
        chosen = ucb_choose(stats, min(arms_per_round, num_arms), t, c, rng)
        for arm, (reward, count) in zip(chosen, pull(chosen, samples_per_pull), strict=True):
            stats.update(arm, reward, count)
    return Selection(rank_by_mean(stats), stats)


def sr_schedule(num_arms: int, budget: int) -> list[int]:
    """Cumulative pulls per surviving arm after phases ``1..K-1`` of successive rejects.

    Audibert & Bubeck (2010): ``n_k = ceil((budget - K) / (logbar(K) * (K + 1 - k)))`` with
    ``logbar(K) = 1/2 + sum_{i=2..K} 1/i``; the total spent never exceeds ``budget``.

    Raises:
        ValueError: with fewer than 2 arms or a budget not above the number of arms.
    """
    k_arms = num_arms
    if k_arms < 2 or budget <= k_arms:
        raise ValueError(
            f"successive rejects needs at least 2 arms and `budget` > arms; got {k_arms} arms "
            f"and budget {budget}: raise the evaluation budget."
        )
    logbar = 0.5 + sum(1.0 / i for i in range(2, k_arms + 1))
    return [math.ceil((budget - k_arms) / (logbar * (k_arms + 1 - k))) for k in range(1, k_arms)]


def successive_rejects(num_arms: int, pull: PullFn, *, budget: int, keep: int = 1) -> Selection:
    """Successive rejects: each phase tops every surviving arm up to ``n_k`` pulls, then
    rejects the arm with the lowest cumulative mean, until ``keep`` arms remain.

    Ties for the lowest mean reject the highest index (later candidates go first).
    The ranking lists the survivors by mean, then the rejected arms, last rejected first.
    """
    if keep < 1:
        raise ValueError(f"`keep` must be >= 1, got {keep}.")
    stats = ArmStats.zeros(num_arms)
    if num_arms <= keep:
        return Selection(list(range(num_arms)), stats)
    schedule = sr_schedule(num_arms, budget)
    active, rejected, done = list(range(num_arms)), [], 0
    for n_k in schedule:
        if len(active) <= keep:
            break
        if n_k > done:
            for arm, (reward, count) in zip(active, pull(active, n_k - done), strict=True):
                stats.update(arm, reward, count)
            done = n_k
        means = stats.means()
        worst = min(active, key=lambda i: (means[i], -i))
        active.remove(worst)
        rejected.append(worst)
    survivors = sorted(active, key=lambda i: -stats.means()[i])
    return Selection(survivors + rejected[::-1], stats, rejected)
