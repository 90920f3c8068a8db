"""The compression search space: quantization method × pruning, conditional parameters.

``method`` picks the quantizer; ``bits``/``group_size`` exist only for GPTQ and RTN,
``double_quant`` only for the 4-bit bitsandbytes formats, ``pruning`` only for methods that
keep pruned zeros (none, RTN, bitsandbytes), ``sparsity`` only for magnitude and Wanda (2:4
is 0.5 by construction). Methods that cannot run here are left out with a logged reason
(:mod:`compress.methods.availability`). :meth:`CompressionSpace.check` turns a hand-written
config (``evaluate``, warm starts) into a :class:`CompressionSpec` or says exactly why not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compress.methods import PRUNING_METHODS, QUANT_METHODS, CompressionSpec, available_methods
from moo.searchers.encoding import config_distance, decode
from moo.searchers.problem import Constraint, Objective, Param, SearchProblem

BITS = (2, 3, 4, 8)
GROUP_SIZES = (32, 64, 128)
BITS_METHODS = ("gptq", "rtn")
DOUBLE_QUANT_METHODS = ("bnb_nf4", "bnb_fp4")
PRUNABLE_METHODS = ("none", "rtn", "bnb_int8", "bnb_nf4", "bnb_fp4")
SPARSITY_PRUNING = ("magnitude", "wanda")


class InvalidConfigError(ValueError):
    """A compression config the space rejects; the message says why and what to change."""


# (rule, reason): a rule returns True when a raw config breaks it.
Rule = tuple[Callable[[Mapping[str, Any]], bool], str]
RULES: tuple[Rule, ...] = (
    (lambda c: c.get("method") in ("gptq", "awq") and c.get("pruning", "none") != "none",
     "pruning cannot be combined with `{method}`: its weight updates/scales refill the "
     "pruned zeros; prune with `rtn` or a bitsandbytes method instead"),
    (lambda c: c.get("pruning") == "nm_2_4" and "sparsity" in c,
     "nm_2_4 (2:4) pruning fixes the sparsity at 0.5; drop `sparsity`"),
    (lambda c: c.get("pruning", "none") not in SPARSITY_PRUNING and "sparsity" in c,
     "`sparsity` needs `pruning` magnitude or wanda"),
    (lambda c: "double_quant" in c and c.get("method") not in DOUBLE_QUANT_METHODS,
     "`double_quant` applies to bnb_nf4 / bnb_fp4 only, not `{method}`"),
    (lambda c: ("bits" in c or "group_size" in c) and c.get("method") not in BITS_METHODS,
     "`bits`/`group_size` apply to gptq and rtn only, not `{method}` (awq is W4 g128, "
     "bitsandbytes fixes its own formats)"),
)


@dataclass
class CompressionSpace:
    """The searchable parameters plus what was excluded and why.

    Attributes:
        params: Parameters in declaration order (parents before children).
        excluded: ``{method: reason}`` for methods left out here.
    """

    params: tuple[Param, ...]
    excluded: dict[str, str] = field(default_factory=dict)

    @property
    def methods(self) -> tuple[str, ...]:
        """The quantization methods in the space."""
        return tuple(next(p for p in self.params if p.name == "method").choices)

    def problem(self, objectives: Sequence[Objective],
                constraints: Sequence[Constraint] = ()) -> SearchProblem:
        """A :class:`SearchProblem` over this space."""
        return SearchProblem(self.params, tuple(objectives), tuple(constraints))

    def active(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The active parameters of ``config``, in the space's order."""
        return SearchProblem(self.params, (Objective("_", "max"),)).active(config)

    def distance(self, a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
        """The space's distance between two configs (see the module doc)."""
        return config_distance(self.params, self.active(a), self.active(b))

    def decode(self, u: Sequence[float],
               steps: Mapping[str, float] | None = None) -> dict[str, Any]:
        """The config at unit point ``u`` (one coordinate per parameter, in order)."""
        return decode(self.params, u, steps)

    def check(self, config: Mapping[str, Any]) -> CompressionSpec:
        """Validate a config against the space; return its spec.

        Raises:
            InvalidConfigError: With the reason (an excluded method, an invalid combination,
                an unknown key or a value out of its domain).
        """
        config = dict(config)
        method = config.get("method", "none")
        if method in PRUNABLE_METHODS and any(p.name == "pruning" for p in self.params):
            config.setdefault("pruning", "none")  # "no pruning" need not be spelled out
        if method in self.excluded:
            raise InvalidConfigError(f"method `{method}` is excluded here: "
                                     f"{self.excluded[method]}.")
        for broken, reason in RULES:
            if broken(config):
                raise InvalidConfigError(f"invalid config {dict(config)}: "
                                         + reason.format(method=method) + ".")
        problem = SearchProblem(self.params, (Objective("_", "max"),))
        try:
            return CompressionSpec.from_params(problem.validate(dict(config)))
        except ValueError as exc:
            raise InvalidConfigError(f"invalid config {dict(config)}: {exc}") from exc


def build_space(methods: Sequence[str] = QUANT_METHODS,
                pruning: Sequence[str] = PRUNING_METHODS,
                bits: Sequence[int] = BITS, group_sizes: Sequence[int] = GROUP_SIZES,
                max_sparsity: float = 0.7, cuda: bool | None = None) -> CompressionSpace:
    """The space over ``methods`` × ``pruning`` that can run here.

    Args:
        methods: Quantization methods wanted (unavailable ones are excluded with a reason).
        pruning: Pruning methods wanted ("none" is added if missing when others are given).
        bits: GPTQ/RTN bit widths.
        group_sizes: GPTQ/RTN group sizes.
        max_sparsity: Upper bound of magnitude/Wanda sparsity (lower bound 0).
        cuda: Override GPU detection (tests).

    Raises:
        ValueError: If fewer than two methods remain or a name is unknown.
    """
    for name in pruning:
        if name not in PRUNING_METHODS:
            raise ValueError(f"unknown pruning `{name}`; choose from {PRUNING_METHODS}.")
    keep, excluded = available_methods(tuple(methods), cuda)
    if len(keep) < 2:
        raise ValueError(f"the space needs at least two runnable methods, got {keep} "
                         f"(excluded: {excluded}).")

    def among(group: Sequence[str]) -> tuple[str, ...]:
        return tuple(m for m in keep if m in group)

    params = [Param("method", choices=keep)]
    if among(BITS_METHODS):
        params += [Param("bits", choices=tuple(bits), when={"method": among(BITS_METHODS)}),
                   Param("group_size", choices=tuple(group_sizes),
                         when={"method": among(BITS_METHODS)})]
    if among(DOUBLE_QUANT_METHODS):
        params.append(Param("double_quant", choices=(False, True),
                            when={"method": among(DOUBLE_QUANT_METHODS)}))
    prune = tuple(dict.fromkeys(["none", *pruning])) if pruning else ()
    if len(prune) > 1 and among(PRUNABLE_METHODS):
        params.append(Param("pruning", choices=prune, when={"method": among(PRUNABLE_METHODS)}))
        sparse = tuple(p for p in prune if p in SPARSITY_PRUNING)
        if sparse:
            params.append(Param("sparsity", 0.0, max_sparsity, when={"pruning": sparse}))
    return CompressionSpace(tuple(params), excluded)
