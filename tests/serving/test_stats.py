"""Wilson intervals and the paired bootstrap on tiny, hand-checkable cases."""

from __future__ import annotations

import pytest

from serving.stats import accuracy, paired_bootstrap, wilson_interval


def test_wilson_half() -> None:
    # p = 0.5, n = 10, z^2 = 3.8415: center 0.5, half = z / 1.38415 * sqrt(0.025 + 0.0096037)
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.236593, abs=1e-6)
    assert high == pytest.approx(0.763407, abs=1e-6)


def test_wilson_zero_and_all() -> None:
    # at 0/10 the lower end is exactly 0 and the upper is z^2/n / (1 + z^2/n) = 0.277533
    assert wilson_interval(0, 10) == pytest.approx((0.0, 0.277533), abs=1e-6)
    assert wilson_interval(10, 10) == pytest.approx((0.722467, 1.0), abs=1e-6)


def test_wilson_rejects_bad_counts() -> None:
    with pytest.raises(ValueError, match="`n` must be at least 1"):
        wilson_interval(0, 0)
    with pytest.raises(ValueError, match="`correct` must be between"):
        wilson_interval(11, 10)


def test_accuracy() -> None:
    acc = accuracy([1, 0, 1, 1, 0, 0, 1, 0, 1, 0])
    assert (acc.correct, acc.n, acc.value) == (5, 10, 0.5)
    assert (acc.low, acc.high) == pytest.approx((0.236593, 0.763407), abs=1e-6)
    assert accuracy([True, False]).correct == 1


def test_bootstrap_identical_systems() -> None:
    res = paired_bootstrap([1, 0, 1], [1, 0, 1], n_resamples=200)
    assert (res.mean_diff, res.low, res.high, res.p_value) == (0.0, 0.0, 0.0, 1.0)


def test_bootstrap_always_better() -> None:
    res = paired_bootstrap([1, 1, 1, 1], [0, 0, 0, 0], n_resamples=200)
    assert (res.mean_diff, res.low, res.high, res.p_value) == (1.0, 1.0, 1.0, 0.0)


def test_bootstrap_two_examples() -> None:
    # d = (1, 0): a resample mean is 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4
    res = paired_bootstrap([1, 0], [0, 0], n_resamples=20_000, seed=3)
    assert res.mean_diff == 0.5
    assert (res.low, res.high) == (0.0, 1.0)
    assert res.p_value == pytest.approx(0.25, abs=0.015)


def test_bootstrap_is_seeded_and_paired() -> None:
    a, b = [1, 1, 0, 1, 0, 1, 1, 0], [1, 0, 0, 1, 0, 0, 1, 1]
    assert paired_bootstrap(a, b, seed=7) == paired_bootstrap(a, b, seed=7)
    # pairing matters: swapping roles negates the difference and mirrors the interval
    ab, ba = paired_bootstrap(a, b, seed=7), paired_bootstrap(b, a, seed=7)
    assert ab.mean_diff == -ba.mean_diff == 0.125
    assert (ab.low, ab.high) == pytest.approx((-ba.high, -ba.low))


def test_bootstrap_rejects_unpaired() -> None:
    with pytest.raises(ValueError, match="paired"):
        paired_bootstrap([1, 0], [1])
    with pytest.raises(ValueError, match="paired"):
        paired_bootstrap([], [])
