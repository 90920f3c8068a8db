"""The space's own encoding, Sobol designs and distance, on hand-made values."""

from __future__ import annotations

import pytest

from compress.space import build_space
from moo.searchers import Param
from moo.searchers.encoding import (
    config_distance,
    decode,
    iter_sobol_configs,
    nearest,
    sobol_configs,
)

PARAMS = (
    Param("method", choices=("none", "rtn", "nf4")),
    Param("bits", choices=(2, 4, 8), when={"method": ("rtn",)}),
    Param("dq", choices=(False, True), when={"method": ("nf4",)}),
    Param("sparsity", 0.0, 0.8, when={"method": ("none", "rtn")}),
)


def test_decode_maps_cells_and_skips_inactive_coordinates() -> None:
    # method: 3 cells of 1/3; bits: 3 cells; sparsity: 0.8 * u, rounded to 0.05
    assert decode(PARAMS, [0.5, 0.9, 0.1, 0.5]) == {"method": "rtn", "bits": 8, "sparsity": 0.4}
    assert decode(PARAMS, [0.99, 0.0, 0.6, 0.99]) == {"method": "nf4", "dq": True}
    assert decode(PARAMS, [0.0, 0.5, 0.5, 0.33], {"sparsity": 0.05}) == {
        "method": "none", "sparsity": 0.25}  # 0.264 → 0.25, not 0.25000000000000006
    assert decode(PARAMS, [0.0, 0.0, 0.0, 1.0])["sparsity"] < 0.8 + 1e-12  # u = 1 stays inside
    with pytest.raises(ValueError, match="needs 4 coordinates"):
        decode(PARAMS, [0.5])


def test_distance_by_hand() -> None:
    """Categorical mismatch 1; numeric |a-b| over the range; a parameter in one config only 1."""
    rtn4 = {"method": "rtn", "bits": 4, "sparsity": 0.2}
    assert config_distance(PARAMS, rtn4, rtn4) == 0.0
    # bits (8-4)/(8-2) = 2/3, sparsity 0.4/0.8 = 1/2
    assert config_distance(PARAMS, rtn4, {"method": "rtn", "bits": 8, "sparsity": 0.6}) == \
        pytest.approx(2 / 3 + 1 / 2)
    # method 1, bits only in one 1, dq only in one 1, sparsity only in one 1
    assert config_distance(PARAMS, rtn4, {"method": "nf4", "dq": True}) == 4.0
    assert config_distance(PARAMS, {"method": "nf4", "dq": True},
                           {"method": "nf4", "dq": False}) == 1.0


def test_compression_space_distance_examples_from_its_docs() -> None:
    space = build_space(cuda=False)
    w4 = {"method": "rtn", "bits": 4, "group_size": 64}
    assert space.distance(w4, {**w4, "bits": 8}) == pytest.approx(4 / 6)
    assert space.distance({"method": "bnb_int8"}, {"method": "bnb_nf4", "double_quant": True}) \
        == 2.0
    assert space.decode([0.0] * len(space.params)) == {"method": "none", "pruning": "none"}


def test_sobol_configs_are_seeded_valid_and_continue_the_sequence() -> None:
    a, b = sobol_configs(PARAMS, 16, seed=3), sobol_configs(PARAMS, 16, seed=3)
    assert a == b and a != sobol_configs(PARAMS, 16, seed=4)
    assert list(iter_sobol_configs(PARAMS, 3, batch=5, limit=16)) == a
    for config in a:
        assert ("bits" in config) == (config["method"] == "rtn")
        assert ("dq" in config) == (config["method"] == "nf4")


def test_nearest_breaks_ties_by_order() -> None:
    candidates = [{"method": "none", "sparsity": 0.4}, {"method": "rtn", "bits": 2,
                                                        "sparsity": 0.0}]
    assert nearest(PARAMS, {"method": "none", "sparsity": 0.0}, candidates) == (0, 0.5)
    assert nearest(PARAMS, {"method": "nf4", "dq": True}, candidates)[0] == 0  # both 3.0
    with pytest.raises(ValueError, match="no candidates"):
        nearest(PARAMS, {"method": "none"}, [])
