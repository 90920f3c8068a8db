"""One description of a multi-objective search that every searcher backend translates.

A :class:`SearchProblem` holds the parameters (ranges or choices, optionally active only
when a parent choice has certain values), the objectives (``"max"``/``"min"`` with a
reference value) and simple outcome constraints. The Ax and Optuna adapters read it; so can
promptopt's sweeps. No ``ray`` here.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["max", "min"]
ChoiceValue = bool | int | float | str


@dataclass(frozen=True)
class Param:
    """One search dimension: a range (``low``/``high``) or a set of ``choices``.

    Attributes:
        name: Key in the trial config.
        low: Lower bound of a range (inclusive).
        high: Upper bound of a range (inclusive).
        choices: Allowed values of a categorical parameter (at least two).
        integer: Whether a range is over integers.
        log: Whether a range is searched on a log scale (needs ``low > 0``).
        when: Conditional activation: ``{parent: (values...)}``; the parameter exists only
            when every parent (an earlier choice parameter) takes one of the values.
    """

    name: str
    low: float | None = None
    high: float | None = None
    choices: tuple[ChoiceValue, ...] | None = None
    integer: bool = False
    log: bool = False
    when: Mapping[str, tuple[ChoiceValue, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.choices is not None:
            object.__setattr__(self, "choices", tuple(self.choices))
            if self.low is not None or self.high is not None or len(self.choices) < 2:
                raise ValueError(
                    f"parameter `{self.name}`: give either `choices` (two or more) or "
                    "`low`/`high`, not both."
                )
        elif self.low is None or self.high is None or not self.low < self.high:
            raise ValueError(f"parameter `{self.name}`: a range needs `low` < `high`.")
        elif self.log and self.low <= 0:
            raise ValueError(f"parameter `{self.name}`: `log=True` needs `low` > 0.")
        object.__setattr__(self, "when", {k: tuple(v) for k, v in self.when.items()})

    @property
    def is_choice(self) -> bool:
        """Whether this is a categorical parameter."""
        return self.choices is not None

    def is_active(self, config: Mapping[str, Any]) -> bool:
        """Whether every parent in ``when`` is present in ``config`` with an allowed value."""
        return all(k in config and config[k] in vals for k, vals in self.when.items())

    def placeholder(self) -> ChoiceValue:
        """A valid value for backends that need every parameter set (e.g. Ax)."""
        if self.choices is not None:
            return self.choices[0]
        return int(self.low) if self.integer else float(self.low)

    def check(self, value: Any) -> None:
        """Raise ``ValueError`` if ``value`` is outside this parameter's domain."""
        if self.choices is not None:
            if value not in self.choices:
                raise ValueError(f"`{self.name}`={value!r} is not one of {self.choices}.")
        elif (
            not isinstance(value, numbers.Real)
            or not self.low <= value <= self.high
            or (self.integer and not float(value).is_integer())
        ):
            raise ValueError(f"`{self.name}`={value!r} is outside [{self.low}, {self.high}].")


@dataclass(frozen=True)
class Objective:
    """An objective to maximize or minimize; ``ref`` is its reference-point coordinate.

    The reference value is the worst value still worth having (hypervolume is measured
    from it, and searchers that take objective thresholds get it as one).
    """

    name: str
    mode: Direction
    ref: float | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("max", "min"):
            raise ValueError(f"objective `{self.name}`: `mode` must be 'max' or 'min'.")
        if not self.name.isidentifier():
            raise ValueError(f"objective `{self.name}`: use a Python identifier as the name.")


@dataclass(frozen=True)
class Constraint:
    """An outcome constraint ``metric <= bound`` or ``metric >= bound``."""

    metric: str
    op: Literal["<=", ">="]
    bound: float

    def __post_init__(self) -> None:
        if self.op not in ("<=", ">=") or not self.metric.isidentifier():
            raise ValueError(f"constraint {self}: needs an identifier metric and '<=' or '>='.")

    def violation(self, value: float) -> float:
        """How far ``value`` is past the bound (<= 0 when satisfied), Optuna's convention."""
        return value - self.bound if self.op == "<=" else self.bound - value

    def __str__(self) -> str:
        return f"{self.metric} {self.op} {self.bound!r}"


@dataclass(frozen=True)
class SearchProblem:
    """Parameters, objectives and outcome constraints of one search."""

    params: tuple[Param, ...]
    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()

    def __post_init__(self) -> None:
        for attr in ("params", "objectives", "constraints"):
            object.__setattr__(self, attr, tuple(getattr(self, attr)))
        if not self.params or not self.objectives:
            raise ValueError("a SearchProblem needs at least one parameter and one objective.")
        seen: dict[str, Param] = {}
        for p in self.params:
            for parent, vals in p.when.items():
                ref = seen.get(parent)
                if ref is None or not ref.is_choice or not set(vals) <= set(ref.choices):
                    raise ValueError(
                        f"parameter `{p.name}`: `when` parent `{parent}` must be an earlier "
                        "choice parameter and list only its choices."
                    )
            if p.name in seen:
                raise ValueError(f"parameter `{p.name}` is defined twice.")
            seen[p.name] = p
        if len(set(self.metric_names)) != len(self.objectives):
            raise ValueError(f"objective names must be unique, got {self.metric_names}.")

    @property
    def metric_names(self) -> list[str]:
        """Objective names, in order."""
        return [o.name for o in self.objectives]

    @property
    def modes(self) -> list[Direction]:
        """Objective directions, in order."""
        return [o.mode for o in self.objectives]

    @property
    def ref_point(self) -> list[float]:
        """The reference point (one value per objective); raises if any is unset."""
        missing = [o.name for o in self.objectives if o.ref is None]
        if missing:
            raise ValueError(f"objectives {missing} have no `ref`; set one for each.")
        return [float(o.ref) for o in self.objectives]

    def active(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The parameters of ``config`` that are active, in declaration order."""
        out: dict[str, Any] = {}
        for p in self.params:
            if p.name in config and p.is_active(out):
                out[p.name] = config[p.name]
        return out

    def validate(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Check a (warm-start) config and return its active part.

        Raises:
            ValueError: On an unknown key, a missing active parameter, a value out of its
                domain, or a value for a parameter whose condition is not met.
        """
        unknown = set(config) - {p.name for p in self.params}
        if unknown:
            raise ValueError(f"config has unknown parameters {sorted(unknown)}.")
        out: dict[str, Any] = {}
        for p in self.params:
            if not p.is_active(out):
                if p.name in config:
                    raise ValueError(f"`{p.name}` is set but inactive: it needs {p.when}.")
                continue
            if p.name not in config:
                raise ValueError(f"config is missing the active parameter `{p.name}`.")
            p.check(config[p.name])
            out[p.name] = config[p.name]
        return out

    def complete(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """A valid config with every parameter set: inactive ones get a placeholder."""
        active = self.validate(config)
        return {p.name: active.get(p.name, p.placeholder()) for p in self.params}

    def metric_values(self, result: Mapping[str, Any] | None) -> dict[str, float] | None:
        """Objective and constraint values of ``result``, or None if any is missing/non-finite."""
        if not result:
            return None
        out: dict[str, float] = {}
        for name in self.metric_names + [c.metric for c in self.constraints]:
            value = result.get(name)
            if not isinstance(value, numbers.Real) or not math.isfinite(value):
                return None
            out[name] = float(value)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` reads back (for JSON tables such as grid.json)."""
        params: dict[str, Any] = {}
        for p in self.params:
            spec: dict[str, Any] = ({"choices": list(p.choices)} if p.choices is not None
                                    else {"low": p.low, "high": p.high})
            if p.integer:
                spec["integer"] = True
            if p.log:
                spec["log"] = True
            if p.when:
                spec["when"] = {k: list(v) for k, v in p.when.items()}
            params[p.name] = spec
        return {"params": params,
                "objectives": {o.name: {"mode": o.mode, "ref": o.ref} for o in self.objectives},
                "constraints": [str(c) for c in self.constraints]}

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> SearchProblem:
        """Build from plain data (a YAML mapping).

        Example::

            SearchProblem.from_dict({
                "params": {
                    "method": {"choices": ["none", "magnitude"]},
                    "sparsity": {"low": 0.0, "high": 0.7, "when": {"method": ["magnitude"]}},
                },
                "objectives": {"acc": {"mode": "max", "ref": 0.1},
                               "latency": {"mode": "min", "ref": 2.0}},
                "constraints": ["acc_drop <= 0.05"],
            })
        """
        params = [Param(name=k, **v) for k, v in spec["params"].items()]
        objectives = [Objective(name=k, **v) for k, v in spec["objectives"].items()]
        constraints = []
        for text in spec.get("constraints", ()):
            metric, op, bound = text.split()
            constraints.append(Constraint(metric, op, float(bound)))
        return cls(tuple(params), tuple(objectives), tuple(constraints))
