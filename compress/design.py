"""The fixed design of ``python -m compress grid``: standard configs + a scrambled Sobol
sample over the space's own encoding, topped up until it covers the space. No ``ray`` here.

Order: the standard configs (``search.warm_start``), then the points of one scrambled Sobol
sequence decoded by :func:`moo.searchers.encoding.decode` (range parameters rounded to
``steps``) until ``samples`` new configs are kept, then, if ``cover``, further points of the
same sequence, each kept only when it covers a target not covered yet. Targets: every value of every choice parameter (``method``, ``bits``,
``group_size``, ``double_quant``, ``pruning``), and every quarter of every range
(``sparsity``), each where the parameter is active. A config the space rejects, or one that
repeats an earlier config (or the baseline), is dropped with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compress.space import CompressionSpace, InvalidConfigError
from moo.searchers.encoding import config_key, decode, sobol_points
from moo.searchers.problem import Param

logger = logging.getLogger(__name__)

#: Sobol points tried at most while topping up coverage, per point of ``samples``.
TOP_UP_FACTOR = 64
QUARTERS = 4


@dataclass
class Design:
    """A grid design.

    Attributes:
        configs: Active configs to measure, in order.
        sources: ``"standard"``, ``"sobol"`` or ``"coverage"`` per config.
        dropped: ``{"config", "source", "reason"}`` of each config left out.
        missing: Coverage targets no config hits (empty when fully covered).
    """

    configs: list[dict[str, Any]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    dropped: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``design.json`` / ``grid.json``."""
        return {"configs": self.configs, "sources": self.sources, "dropped": self.dropped,
                "missing_coverage": self.missing}


def targets_of(params: Sequence[Param], config: Mapping[str, Any]) -> set[str]:
    """The coverage targets ``config`` hits (``"bits=4"``, ``"sparsity in Q2"``)."""
    out = set()
    for p in params:
        if p.name not in config:
            continue
        if p.choices is not None:
            out.add(f"{p.name}={config[p.name]!r}")
        else:
            frac = (float(config[p.name]) - p.low) / (p.high - p.low)
            out.add(f"{p.name} in Q{min(int(frac * QUARTERS), QUARTERS - 1) + 1}")
    return out


def all_targets(params: Sequence[Param]) -> set[str]:
    """Every coverage target of the space."""
    out = set()
    for p in params:
        if p.choices is not None:
            out |= {f"{p.name}={v!r}" for v in p.choices}
        else:
            out |= {f"{p.name} in Q{q + 1}" for q in range(QUARTERS)}
    return out


def grid_design(space: CompressionSpace, standard: Sequence[Mapping[str, Any]], samples: int,
                seed: int = 0, steps: Mapping[str, float] | None = None, cover: bool = True,
                baseline: Mapping[str, Any] | None = None) -> Design:
    """The design (see the module doc); drops are logged and kept in ``Design.dropped``.

    Args:
        space: The compression space (its parameter order is the encoding).
        standard: Hand-written configs measured first.
        samples: New Sobol configs kept (points repeating a config are dropped, logged).
        seed: Seeds the scrambled Sobol sequence.
        steps: Grid steps of range parameters.
        cover: Top up from the same sequence until every target is covered.
        baseline: The uncompressed config (measured anyway; never repeated in the design).
    """
    params = space.params
    design = Design()
    seen: dict[str, str] = {}
    if baseline is not None:
        seen[config_key(space.active(space.check(baseline).params()))] = "the baseline"

    def add(config: Mapping[str, Any], source: str) -> bool:
        try:
            active = space.check(config).params()
        except InvalidConfigError as exc:
            return _drop(design, config, source, str(exc))
        active = space.active(active)
        key = config_key(active)
        if key in seen:
            return _drop(design, active, source, f"duplicate of {seen[key]}")
        seen[key] = f"{source} #{len(design.configs)}"
        design.configs.append(active)
        design.sources.append(source)
        return True

    for config in standard:
        add(config, "standard")
    points = _sequence(len(params), seed, TOP_UP_FACTOR * max(samples, 8))
    kept = 0
    while kept < samples and (u := next(points, None)) is not None:
        kept += add(decode(params, u, steps), "sobol")
    wanted = all_targets(params)
    covered = set().union(*(targets_of(params, c) for c in design.configs))
    while cover and wanted - covered and (u := next(points, None)) is not None:
        config = decode(params, u, steps)
        new = targets_of(params, config) - covered
        if new and add(config, "coverage"):
            covered |= new
    design.missing = sorted(wanted - covered)
    if design.missing:
        logger.warning("grid design misses %s", design.missing)
    logger.info("grid design: %d configs (%s), %d dropped", len(design.configs),
                {s: design.sources.count(s) for s in dict.fromkeys(design.sources)},
                len(design.dropped))
    return design


def _sequence(dim: int, seed: int, limit: int, batch: int = 64) -> Iterator[list[float]]:
    """The points of one scrambled Sobol sequence, at most ``limit``."""
    for start in range(0, limit, batch):
        yield from sobol_points(dim, min(batch, limit - start), seed, skip=start)


def _drop(design: Design, config: Mapping[str, Any], source: str, reason: str) -> bool:
    logger.info("grid design drops %s config %s: %s", source, dict(config), reason)
    design.dropped.append({"config": dict(config), "source": source, "reason": reason})
    return False
