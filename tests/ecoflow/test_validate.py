"""Sample-quality statistics on hand-checkable point sets."""


import pytest
import torch

from ecoflow.validate import compare, nearest_distances


def test_nearest_distances_by_hand():
    a = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    b = torch.tensor([[0.0, 1.0], [3.0, 0.0]])
    assert nearest_distances(a, b).tolist() == [1.0, 4.0]
    assert nearest_distances(a, a, exclude_self=True).tolist() == [5.0, 5.0]


def test_identical_sets_have_no_gaps_and_shifted_sets_do():
    ref = torch.randn(200, 3, generator=torch.Generator().manual_seed(0))
    same = compare(ref, ref, train=ref)
    assert same.nn_sample_to_ref == 0.0 and same.nn_sample_to_train == 0.0
    assert same.mean_gap == pytest.approx(0.0, abs=1e-12) and same.cov_gap == pytest.approx(0.0, abs=1e-12)
    shifted = compare(ref + torch.tensor([3.0, 4.0, 0.0]), ref)
    assert shifted.mean_gap == pytest.approx(5.0)
    assert shifted.cov_gap == pytest.approx(0.0, abs=1e-6)  # float32 rounding of the shift
    assert shifted.nn_sample_to_train is None
    assert compare(ref * 2, ref).cov_gap == pytest.approx(3.0)  # cov scales by 4
