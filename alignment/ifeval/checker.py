"""One response against IFEval constraints, scored by lm-eval's own checker.

Each constraint is scored by lm-eval's ``test_instruction_following_strict`` and
``test_instruction_following_loose`` (``lm_eval/tasks/ifeval/utils.py``) on a one-constraint
``InputExample``. Those functions score every instruction of an example independently, so
one call per constraint gives the same verdicts as one call per example, and lets a check
that raises (lm-eval's checks can, on odd text) fail only its own constraint: it is logged
and counted in :attr:`Verdict.errors`, never a crash.

- **strict**: the response as written (an empty response fails everything);
- **loose**: also the response without its first line, its last line, both, and each of
  those with ``*`` removed (lm-eval's variants): "Sure, here it is:" does not fail it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from alignment.ifeval.offline import ifeval_modules
from serving.config import ConfigError

log = logging.getLogger(__name__)


class UnknownConstraintError(ConfigError):
    """A constraint kind that neither lm-eval's checker nor our templates know."""


@dataclass(frozen=True)
class Constraint:
    """One IFEval instruction: an lm-eval instruction id and its arguments.

    Attributes:
        kind: the instruction id, e.g. ``punctuation:no_comma`` or
            ``length_constraints:number_words``.
        kwargs: the arguments of the instruction's ``build_description`` (e.g.
            ``{"num_words": 50, "relation": "less than"}``); falsy values are ignored, as
            lm-eval does.
    """

    kind: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "kwargs": dict(self.kwargs)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Constraint:
        return cls(str(data["kind"]), dict(data.get("kwargs") or {}))


def known_kinds() -> list[str]:
    """Every instruction id lm-eval's IFEval checker implements."""
    registry, _, _ = ifeval_modules()
    return sorted(registry.INSTRUCTION_DICT)


def validate(constraints: Sequence[Constraint]) -> None:
    """Raise :class:`UnknownConstraintError` for a kind lm-eval has no checker for."""
    known = known_kinds()
    for c in constraints:
        if c.kind not in known:
            raise UnknownConstraintError(
                f"unknown constraint kind `{c.kind}`: lm-eval's IFEval checker has no such "
                f"instruction id; known kinds: {', '.join(known)}.")


@dataclass(frozen=True)
class Verdict:
    """Per-constraint results for one response (in the constraints' order).

    Attributes:
        strict: the strict verdict of each constraint.
        loose: the loose verdict of each constraint.
        errors: ``"kind: ExceptionType: message"`` for each check that raised (and so failed).
    """

    strict: tuple[bool, ...]
    loose: tuple[bool, ...]
    errors: tuple[str, ...] = ()

    @property
    def passed(self) -> int:
        """Constraints passed (strict)."""
        return sum(self.strict)

    def to_dict(self) -> dict[str, Any]:
        return {"strict": list(self.strict), "loose": list(self.loose), "errors": list(self.errors)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(tuple(data["strict"]), tuple(data["loose"]), tuple(data.get("errors", ())))


def _one(fn: Any, example: Any, response: str, kind: str, errors: list[str]) -> bool:
    try:
        return bool(fn(example, response).follow_instruction_list[0])
    except Exception as exc:  # noqa: BLE001 - a checker bug on odd text fails the constraint
        message = f"{kind}: {type(exc).__name__}: {exc}"
        log.warning("IFEval check raised (counted as failed): %s; response: %r", message, response)
        errors.append(message)
        return False


def check(prompt: str, response: str, constraints: Sequence[Constraint]) -> Verdict:
    """Strict and loose verdicts of ``response`` for each constraint.

    Args:
        prompt: the instruction the response answers (lm-eval passes it to the
            ``combination:repeat_prompt`` check).
        response: the model's answer.
        constraints: the instructions to check.

    Raises:
        UnknownConstraintError: a kind lm-eval does not implement (names the known ones).
    """
    validate(constraints)
    _, _, utils = ifeval_modules()
    strict, loose, errors = [], [], []
    for c in constraints:
        example = utils.InputExample(key=0, instruction_id_list=[c.kind], prompt=prompt,
                                     kwargs=[dict(c.kwargs)])
        strict.append(_one(utils.test_instruction_following_strict, example, response, c.kind, errors))
        loose.append(_one(utils.test_instruction_following_loose, example, response, c.kind, errors))
    return Verdict(tuple(strict), tuple(loose), tuple(errors))
