"""Pareto set, hypervolume and crowding distance on hand-made points."""

import math

import pytest

from moo.pareto import (
    crowding_distance,
    hypervolume,
    noise_dominators,
    non_dominated_mask,
    pareto_indices,
)

# (accuracy: max, latency: min). D is dominated by B, E by C; F is non-dominated (fastest)
# but worse than the reference accuracy, so it adds no hypervolume.
POINTS_2D = [
    [9.0, 4.0],  # A
    [8.0, 2.0],  # B
    [6.0, 1.0],  # C
    [7.0, 3.0],  # D
    [5.0, 1.5],  # E
    [3.0, 0.5],  # F
]
DIRS_2D = ["max", "min"]
REF_2D = [4.0, 5.0]


def test_non_dominated_mixed_directions() -> None:
    assert non_dominated_mask(POINTS_2D, DIRS_2D) == [True, True, True, False, False, True]
    assert pareto_indices(POINTS_2D, DIRS_2D) == [0, 1, 2, 5]


def test_non_dominated_flips_with_directions() -> None:
    """Minimizing both: F (3, 0.5) dominates everything."""
    assert pareto_indices(POINTS_2D, ["min", "min"]) == [5]


def test_duplicates_stay_on_the_front_and_empty_input() -> None:
    assert non_dominated_mask([[1.0, 1.0], [1.0, 1.0], [0.0, 0.0]], ["max", "max"]) == [
        True,
        True,
        False,
    ]
    assert non_dominated_mask([], DIRS_2D) == []


def test_hypervolume_2d_by_hand() -> None:
    """Gains over the reference (acc - 4, 5 - latency): A (5, 1), B (4, 3), C (2, 4).

    Sweep along the accuracy gain: [0, 2] under height 4 (C) = 8, [2, 4] under height 3
    (B) = 6, [4, 5] under height 1 (A) = 1; total 15. D and E sit inside that region and
    F is outside the reference box, so neither changes it.
    """
    assert hypervolume(POINTS_2D, DIRS_2D, REF_2D) == 15.0
    assert hypervolume(POINTS_2D[:3], DIRS_2D, REF_2D) == 15.0


def test_hypervolume_3d_by_hand() -> None:
    """Boxes from the origin to (2,1,1), (1,2,1), (1,1,2): each has volume 2, every pair
    and the triple overlap in the unit cube, so 3*2 - 3*1 + 1 = 4. The point (1,1,1) is
    dominated and adds nothing. The second objective is minimized here (signs flipped).
    """
    points = [[2.0, -1.0, 1.0], [1.0, -2.0, 1.0], [1.0, -1.0, 2.0], [1.0, -1.0, 1.0]]
    assert hypervolume(points, ["max", "min", "max"], [0.0, 0.0, 0.0]) == 4.0


def test_hypervolume_nothing_beats_reference() -> None:
    assert hypervolume([[3.0, 6.0], [4.0, 5.0]], DIRS_2D, REF_2D) == 0.0
    assert hypervolume([], DIRS_2D, REF_2D) == 0.0


def test_crowding_distance_by_hand() -> None:
    """Front A (9,4), H (8.5,3), B (8,2), C (6,1); both objectives span 3.

    Accuracy order C, B, H, A: B gets (8.5-6)/3, H gets (9-8)/3. Latency order C, B, H, A:
    B gets (3-1)/3, H gets (4-2)/3. So B = 4.5/3 = 1.5, H = 3/3 = 1; A and C are
    boundary points (infinite).
    """
    d = crowding_distance([[9.0, 4.0], [8.5, 3.0], [8.0, 2.0], [6.0, 1.0]])
    assert d[0] == math.inf and d[3] == math.inf
    assert d[1] == pytest.approx(1.0, abs=1e-15)
    assert d[2] == pytest.approx(1.5, abs=1e-15)


def test_crowding_distance_small_and_flat_fronts() -> None:
    assert crowding_distance([[1.0, 2.0], [2.0, 1.0]]) == [math.inf, math.inf]
    # The constant objective adds nothing; the other gives the middle point (3-1)/2.
    assert crowding_distance([[1.0, 5.0], [2.0, 5.0], [3.0, 5.0]])[1] == 1.0
    assert crowding_distance([]) == []


def test_bad_inputs_fail_with_a_reason() -> None:
    with pytest.raises(ValueError, match="'max' or 'min'"):
        non_dominated_mask([[1.0, 2.0]], ["max", "down"])
    with pytest.raises(ValueError, match="finite"):
        hypervolume([[math.nan, 1.0]], DIRS_2D, REF_2D)
    with pytest.raises(ValueError, match="one reference value per objective"):
        hypervolume(POINTS_2D, DIRS_2D, [0.0])
    with pytest.raises(ValueError, match="2 values"):
        non_dominated_mask([[1.0, 2.0, 3.0]], DIRS_2D)


def test_noise_dominators_by_hand() -> None:
    """(accuracy: max, latency: min), SEMs 0.5 (accuracy) and 0.05 (latency) on every point,
    so the difference's SE is 0.707 and 0.0707 and the 2-SE margins are 1.414 and 0.141.

    A (10, 5.0), B (12, 5.1), C (9, 4.0), D (12, 6.0). A, B and C are on the exact front.
    B beats A's accuracy by 2 > 1.414 and is slower by only 0.1 < 0.141; C is faster than A
    by 1.0 > 0.141 and less accurate by only 1 < 1.414: both dominate A within noise. B and
    C each have a real advantage over the other (3 in accuracy, 1.1 in latency): neither is
    marked. D is plainly dominated by B (same accuracy, 0.9 slower).
    """
    points = [[10.0, 5.0], [12.0, 5.1], [9.0, 4.0], [12.0, 6.0]]
    sems = [[0.5, 0.05]] * 4
    assert noise_dominators(points, sems, ["max", "min"]) == [[1, 2], [], [], [1]]
    # Without noise the rule is plain dominance: only D is dominated.
    assert noise_dominators(points, [[0.0, 0.0]] * 4, ["max", "min"]) == [[], [], [], [1]]
    # Unknown SEMs count as 0. With z = 3 the margins for A vs B are 3 * 0.5 = 1.5 and
    # 3 * 0.05 = 0.15: B's +2 accuracy is still real, its 0.1 s slower still noise.
    assert noise_dominators(points[:2], [[None, None], [0.5, 0.05]], ["max", "min"], z=3.0) \
        == [[1], []]
    assert noise_dominators([], [], ["max"]) == []
    with pytest.raises(ValueError, match="one row per point"):
        noise_dominators(points, sems[:2], ["max", "min"])
