"""What the LLM coordinator asks and how its answer is checked (no ``ray`` here).

The prompt describes the :class:`SearchProblem` (parameters with ranges, choices and
conditions; objectives with direction and reference value; outcome constraints), the
history of finished trials with the current Pareto front marked, and asks for one new
configuration as a JSON object. :func:`parse_proposal` extracts that object from the answer
(code fences and chatter around it are fine) and validates it exactly as a warm-start config
is validated (:meth:`SearchProblem.validate`); anything else raises
:class:`InvalidProposal` with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from moo.pareto import pareto_indices
from moo.searchers.problem import Param, SearchProblem
from serving.protocols import Message

SYSTEM = (
    "You coordinate a multi-objective search over model-compression configurations. "
    "Given the search space and the trials so far, propose ONE new configuration that is "
    "likely to extend or improve the Pareto front, and is not a repeat of a tried one. "
    "Answer with a single JSON object mapping parameter names to values and nothing else."
)


class InvalidProposal(ValueError):
    """The LLM's answer is not a valid, new configuration of the search space."""


def describe_param(p: Param) -> str:
    """One line: name, domain, and condition."""
    if p.choices is not None:
        domain = "one of " + json.dumps(list(p.choices))
    else:
        kind = "integer" if p.integer else "number"
        domain = f"{kind} in [{p.low}, {p.high}]" + (" (log scale)" if p.log else "")
    cond = ""
    if p.when:
        parts = [f"{k} is one of {json.dumps(list(v))}" for k, v in p.when.items()]
        cond = "; only set it when " + " and ".join(parts) + " (omit it otherwise)"
    return f"- {p.name}: {domain}{cond}"


def describe_problem(problem: SearchProblem) -> str:
    """The search space, objectives and constraints as prompt text."""
    lines = ["Parameters:", *(describe_param(p) for p in problem.params), "Objectives:"]
    for o in problem.objectives:
        ref = (
            ""
            if o.ref is None
            else f" (worth having only if {'>=' if o.mode == 'max' else '<='} {o.ref})"
        )
        lines.append(f"- {'maximize' if o.mode == 'max' else 'minimize'} {o.name}{ref}")
    if problem.constraints:
        lines += ["Constraints:", *(f"- {c}" for c in problem.constraints)]
    return "\n".join(lines)


def front_of(problem: SearchProblem, history: Sequence[Mapping[str, Any]]) -> list[int]:
    """Indices into ``history`` of the non-dominated successful trials."""
    ok = [i for i, h in enumerate(history) if h.get("metrics")]
    points = [[history[i]["metrics"][n] for n in problem.metric_names] for i in ok]
    return [ok[j] for j in pareto_indices(points, problem.modes)] if points else []


def build_messages(
    problem: SearchProblem, history: Sequence[Mapping[str, Any]], max_history: int = 40
) -> list[Message]:
    """Chat messages asking for the next configuration.

    Args:
        problem: The search problem.
        history: Finished trials in order: ``{"config": {...}, "metrics": {...} | None,
            "error": str | None}``.
        max_history: The most recent trials shown (front trials are always shown).
    """
    front = set(front_of(problem, history))
    shown = sorted(front | set(range(max(0, len(history) - max_history), len(history))))
    rows = []
    for i in shown:
        h = history[i]
        result = h["metrics"] if h.get("metrics") else {"failed": h.get("error") or "failed"}
        mark = " [Pareto front]" if i in front else ""
        rows.append(f"{i + 1}. config={json.dumps(h['config'])} result={json.dumps(result)}{mark}")
    trials = "\n".join(rows) if rows else "(none yet: propose a sensible first configuration)"
    user = (
        f"{describe_problem(problem)}\n\nTrials so far ({len(history)}, "
        f"{len(front)} on the Pareto front):\n{trials}\n\n"
        "Reply with the JSON object of the next configuration."
    )
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def _first_json_object(text: str) -> dict[str, Any]:
    decoder = json.JSONDecoder()
    for start in (i for i, ch in enumerate(text) if ch == "{"):
        try:
            obj, _ = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            return obj
    raise InvalidProposal("the answer holds no JSON object")


def _coerce(p: Param, value: Any) -> Any:
    """Forgive representation only (``4.0`` for int 4, ``"4"`` for choice 4), never range."""
    if p.choices is not None:
        if value in p.choices:
            return value
        matches = [c for c in p.choices if str(c).lower() == str(value).lower()]
        return matches[0] if len(matches) == 1 else value
    if p.integer and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def parse_proposal(
    text: str, problem: SearchProblem, tried: Sequence[Mapping[str, Any]] = ()
) -> dict[str, Any]:
    """The validated configuration in an LLM answer.

    Raises:
        InvalidProposal: No JSON object, an unknown/missing/inactive parameter, a value out
            of its domain, or a configuration already in ``tried``.
    """
    raw = _first_json_object(text)
    by_name = {p.name: p for p in problem.params}
    config = {k: _coerce(by_name[k], v) if k in by_name else v for k, v in raw.items()}
    try:
        config = problem.validate(config)
    except ValueError as exc:
        raise InvalidProposal(str(exc)) from None
    if any(problem.active(t) == config for t in tried):
        raise InvalidProposal(f"{json.dumps(config)} was already tried")
    return config
