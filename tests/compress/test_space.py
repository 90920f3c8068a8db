"""The compression space: conditional parameters, rejected combinations, excluded methods."""

from __future__ import annotations

import pytest

from compress.methods import CompressionSpec, availability, unavailable_reason
from compress.space import InvalidConfigError, build_space
from moo.searchers import Objective, make_optuna_searcher

SPACE = build_space(cuda=False)


def test_excluded_methods_say_why() -> None:
    """gptqmodel / llm-compressor are not installed here; without CUDA they would still be
    excluded; a method whose library is missing is excluded too."""
    assert "gptq" in SPACE.excluded and "awq" in SPACE.excluded
    assert SPACE.methods == ("none", "bnb_int8", "bnb_nf4", "bnb_fp4", "rtn")
    for method in ("gptq", "awq"):
        assert "not installed" in SPACE.excluded[method] or "CUDA" in SPACE.excluded[method]
    assert unavailable_reason("rtn") is None


def test_missing_library_excludes_the_method(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(availability.REQUIREMENTS, "bnb_int8",
                        ("no_such_bnb_pkg", "pip install no-such", False))
    space = build_space(["none", "bnb_int8", "rtn"], cuda=False)
    assert space.methods == ("none", "rtn")
    assert space.excluded == {"bnb_int8": "`bnb_int8` needs the `no_such_bnb_pkg` package, "
                                          "which is not installed (pip install no-such)"}
    with pytest.raises(InvalidConfigError, match="excluded here.*no_such_bnb_pkg"):
        space.check({"method": "bnb_int8"})


def test_gpu_methods_need_cuda_even_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(availability.REQUIREMENTS, "gptq", ("torch", "pip install x", True))
    assert "needs a CUDA GPU" in unavailable_reason("gptq", cuda=False)
    assert unavailable_reason("gptq", cuda=True) is None
    with pytest.raises(ValueError, match="unknown compression method"):
        unavailable_reason("zip")


@pytest.mark.parametrize(("config", "reason"), [
    ({"method": "bnb_int8", "double_quant": True}, "bnb_nf4 / bnb_fp4 only"),
    ({"method": "bnb_nf4", "bits": 4, "double_quant": False}, "gptq and rtn only"),
    ({"method": "none", "pruning": "nm_2_4", "sparsity": 0.5}, "fixes the sparsity"),
    ({"method": "none", "pruning": "none", "sparsity": 0.2}, "needs `pruning` magnitude"),
    ({"method": "rtn", "bits": 5, "group_size": 64}, "`bits`=5 is not one of"),
    ({"method": "rtn", "bits": 4}, "missing the active parameter `group_size`"),
    ({"method": "none", "pruning": "wanda", "sparsity": 0.9}, "outside"),
    ({"method": "none", "pruning": "wanda"}, "missing the active parameter `sparsity`"),
    ({"method": "none", "quality": "high"}, "unknown parameters"),
    ({"method": "gptq", "bits": 4, "group_size": 64}, "excluded here"),
])
def test_invalid_combinations_rejected_with_reason(config: dict, reason: str) -> None:
    with pytest.raises(InvalidConfigError, match=reason):
        SPACE.check(config)


def test_pruning_with_gptq_rejected_where_gptq_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(availability.REQUIREMENTS, "gptq", ("torch", "pip install x", True))
    space = build_space(cuda=True)
    assert "gptq" in space.methods
    pruning = next(p for p in space.params if p.name == "pruning")
    assert "gptq" not in pruning.when["method"]  # never proposed by a searcher
    with pytest.raises(InvalidConfigError, match="refill the pruned zeros"):
        space.check({"method": "gptq", "bits": 4, "group_size": 64, "pruning": "wanda",
                     "sparsity": 0.3})
    assert space.check({"method": "gptq", "bits": 3, "group_size": 128}) == CompressionSpec(
        "gptq", bits=3, group_size=128)


def test_valid_configs_and_defaults() -> None:
    assert SPACE.check({"method": "bnb_int8"}) == CompressionSpec("bnb_int8", pruning="none")
    spec = SPACE.check({"method": "rtn", "bits": 4, "group_size": 64, "pruning": "wanda",
                        "sparsity": 0.3})
    assert spec.label == "rtn w4 g64 + wanda 0.30"
    assert SPACE.check(spec.params()) == spec


def test_searcher_suggestions_are_always_valid() -> None:
    """Optuna's random sampler over the conditional space: every suggestion passes check."""
    searcher = make_optuna_searcher(SPACE.problem([Objective("acc", "max", 0.0)]), "random",
                                    seed=1)
    for i in range(40):
        SPACE.check(searcher.suggest(f"t{i}"))
