"""The bandit math of ProTeGi's selection: UCB bounds and successive rejects, exactly."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import pytest

from promptopt.bandits import (
    ArmStats,
    rank_by_mean,
    run_ucb,
    sr_schedule,
    successive_rejects,
    ucb_choose,
    ucb_scores,
)


class FakePull:
    """A noiseless pull: arm ``i`` earns exactly ``rates[i] * n``; records every call."""

    def __init__(self, rates: Sequence[float]):
        self.rates = list(rates)
        self.calls: list[tuple[list[int], int]] = []

    def __call__(self, arms: Sequence[int], n: int) -> list[tuple[float, int]]:
        self.calls.append((list(arms), n))
        return [(self.rates[a] * n, n) for a in arms]


def test_stats_means() -> None:
    stats = ArmStats.zeros(3)
    stats.update(0, 3.0, 4)
    stats.update(0, 1.0, 4)
    stats.update(1, 8.0, 10)
    assert stats.means() == [0.5, 0.8, 0.0]
    assert rank_by_mean(stats) == [1, 0, 2]


def test_ucb_scores_exact() -> None:
    stats = ArmStats([3.0, 8.0, 0.0], [4, 10, 0])
    scores = ucb_scores(stats, t=3, c=1.0)
    # 0.75 + sqrt(ln 3 / 4) and 0.8 + sqrt(ln 3 / 10); an unpulled arm is unbounded
    assert scores[0] == pytest.approx(0.75 + math.sqrt(math.log(3) / 4))
    assert scores[0] == pytest.approx(1.274074, abs=1e-6)
    assert scores[1] == pytest.approx(1.131453, abs=1e-6)
    assert scores[2] == math.inf
    assert ucb_scores(stats, t=1, c=5.0)[:2] == [0.75, 0.8]  # ln 1 = 0: no exploration bonus


def test_ucb_picks_the_right_arm() -> None:
    stats = ArmStats([3.0, 8.0, 0.0], [4, 10, 0])
    rng = random.Random(0)
    assert ucb_choose(stats, 1, t=3, c=1.0, rng=rng) == [2]  # never pulled first
    # with c = 1 the less-pulled arm 0 has the higher bound (1.274 > 1.131)...
    assert ucb_choose(stats, 2, t=3, c=1.0, rng=rng) == [2, 0]
    # ...with c = 0.1 the better mean wins: 0.8 + 0.0331 > 0.75 + 0.0524
    assert ucb_choose(stats, 2, t=3, c=0.1, rng=rng) == [2, 1]


def test_run_ucb_finds_the_best_arm() -> None:
    pull = FakePull([0.2, 0.9, 0.5])
    selection = run_ucb(
        3, pull, rounds=3, arms_per_round=2, samples_per_pull=10, c=1.0, rng=random.Random(4)
    )
    first, second = set(pull.calls[0][0]), set(pull.calls[1][0])
    unpulled = ({0, 1, 2} - first).pop()
    assert unpulled in second  # the unpulled arm has an infinite bound in round 2
    assert selection.ranking == [1, 2, 0]
    assert sum(selection.stats.pulls) == 3 * 2 * 10
    assert selection.stats.means()[1] == pytest.approx(0.9)


def test_sr_schedule_exact() -> None:
    # K = 4, budget 100: logbar = 1/2 + 1/2 + 1/3 + 1/4 = 19/12; n_k = ceil(96 / (19/12 (5-k)))
    assert sr_schedule(4, 100) == [16, 21, 31]
    assert 4 * 16 + 3 * (21 - 16) + 2 * (31 - 21) <= 100
    with pytest.raises(ValueError, match="raise the evaluation budget"):
        sr_schedule(4, 4)
    with pytest.raises(ValueError, match="at least 2 arms"):
        sr_schedule(1, 100)


def test_successive_rejects_eliminates_worst_each_phase() -> None:
    pull = FakePull([0.5, 0.9, 0.1, 0.7])
    selection = successive_rejects(4, pull, budget=100, keep=1)
    assert selection.rejected == [2, 0, 3]
    assert selection.ranking == [1, 3, 0, 2]
    assert selection.stats.pulls == [21, 31, 16, 31]
    assert pull.calls == [([0, 1, 2, 3], 16), ([0, 1, 3], 5), ([1, 3], 10)]


def test_successive_rejects_stops_at_the_beam() -> None:
    pull = FakePull([0.5, 0.9, 0.1, 0.7])
    selection = successive_rejects(4, pull, budget=100, keep=2)
    assert selection.rejected == [2, 0]
    assert selection.ranking == [1, 3, 0, 2]
    assert selection.stats.pulls == [21, 21, 16, 21]


def test_successive_rejects_ties_reject_later_arms() -> None:
    selection = successive_rejects(3, FakePull([0.5, 0.5, 0.5]), budget=30, keep=1)
    assert selection.rejected == [2, 1]
    assert selection.ranking == [0, 1, 2]


def test_successive_rejects_with_nothing_to_reject() -> None:
    pull = FakePull([0.5, 0.9])
    selection = successive_rejects(2, pull, budget=100, keep=2)
    assert selection.ranking == [0, 1] and pull.calls == []
