"""Instruction-following checks that need no judge (in the spirit of IFEval).

A held-out item is an instruction plus the rules its response must meet, e.g.::

    - instruction: Name three fruits as a bulleted list, all in lowercase.
      rules: [{kind: bullets, value: 3}, {kind: lowercase}]

A response follows the instruction when every rule passes; accuracy is the share of items
that pass (``strict``) and the share of single rules that pass (``loose``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from serving.config import ConfigError, load_config

_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+\S", re.MULTILINE)


def _words(text: str) -> int:
    return len(text.split())


def _is_json(text: str) -> bool:
    body = text.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        json.loads(body)
    except json.JSONDecodeError:
        return False
    return True


# kind -> (needs a value, check(response, value))
CHECKS: dict[str, tuple[bool, Callable[[str, str | int], bool]]] = {
    "max_words": (True, lambda r, v: _words(r) <= int(v)),
    "min_words": (True, lambda r, v: _words(r) >= int(v)),
    "contains": (True, lambda r, v: str(v).lower() in r.lower()),
    "not_contains": (True, lambda r, v: str(v).lower() not in r.lower()),
    "starts_with": (True, lambda r, v: r.strip().lower().startswith(str(v).lower())),
    "ends_with": (True, lambda r, v: r.strip().lower().rstrip(".!").endswith(str(v).lower().rstrip(".!"))),
    "bullets": (True, lambda r, v: len(_BULLET.findall(r)) == int(v)),
    "lowercase": (False, lambda r, v: r == r.lower() and any(c.isalpha() for c in r)),
    "uppercase": (False, lambda r, v: r == r.upper() and any(c.isalpha() for c in r)),
    "json": (False, lambda r, v: _is_json(r)),
    "no_commas": (False, lambda r, v: "," not in r),
}


@dataclass(frozen=True)
class Rule:
    """One check: ``kind`` from :data:`CHECKS`, and its ``value`` where it takes one."""

    kind: str
    value: str | int | None = None

    def __post_init__(self) -> None:
        if self.kind not in CHECKS:
            raise ConfigError(f"unknown rule kind `{self.kind}`; use one of {sorted(CHECKS)}.")
        if CHECKS[self.kind][0] and self.value is None:
            raise ConfigError(f"rule `{self.kind}` needs a `value`.")

    def passes(self, response: str) -> bool:
        return CHECKS[self.kind][1](response, self.value if self.value is not None else "")


@dataclass(frozen=True)
class RuleItem:
    """A held-out instruction and the rules its response must meet."""

    instruction: str
    rules: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.instruction.strip() or not self.rules:
            raise ConfigError("every held-out item needs an `instruction` and at least one rule.")


@dataclass(frozen=True)
class RuleSet:
    """The rule-checked held-out set (``configs/alignment/heldout.yaml``)."""

    items: list[RuleItem]

    def __post_init__(self) -> None:
        if not self.items:
            raise ConfigError("the held-out rule set is empty.")


def load_rules(path: str | Path) -> RuleSet:
    """Load and validate the held-out rule set."""
    return load_config(RuleSet, path)


@dataclass(frozen=True)
class RuleScore:
    """Accuracy over items (every rule passed) and over single rules."""

    strict: float
    loose: float
    passed: list[bool]


def score(items: Sequence[RuleItem], responses: Sequence[str]) -> RuleScore:
    """Score ``responses[i]`` against ``items[i]``."""
    if len(items) != len(responses):
        raise ValueError(f"{len(items)} items but {len(responses)} responses.")
    passed, rule_hits, rule_total = [], 0, 0
    for item, response in zip(items, responses, strict=True):
        hits = [rule.passes(response) for rule in item.rules]
        passed.append(all(hits))
        rule_hits, rule_total = rule_hits + sum(hits), rule_total + len(hits)
    return RuleScore(sum(passed) / len(passed) if passed else 0.0,
                     rule_hits / rule_total if rule_total else 0.0, passed)
