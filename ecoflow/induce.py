"""The ``induced`` corpus source: instructions induced from a task's demonstrations (pure).

APE's forward template (:func:`promptopt.sampling.ape_prompt`: "I gave a friend an
instruction and five inputs ... The instruction was") is sent to the served LLM with a seeded
draw of demonstrations per request; each request samples ``per_call`` continuations (one LLM
call), and :func:`promptopt.sampling.parse_candidate` takes the instruction out of each. Every
request is seeded, so a rerun makes the same requests and the response cache answers them.

This is what makes the corpus task-shaped without hand-writing a bank per task: the flow
learns the neighbourhood of instructions that describe *this* task's input–output pairs, and
the retrieve-and-rewrite decoder recombines them. The calls are optimizer calls: a caller
comparing methods at equal budget charges them (see :mod:`ecoflow.bench`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from promptopt.recording import derive_seed
from promptopt.sampling import ape_prompt, parse_candidate
from promptopt.tasks import Example
from serving.protocols import LLM

log = logging.getLogger(__name__)
SEED_TAG = "ecoflow-induce"  # the namespace of the request seeds (not APE's own)


@dataclass
class Induction:
    """What :func:`induce_instructions` produced and spent.

    Attributes:
        texts: distinct induced instructions, in generation order.
        calls: LLM requests made (each samples ``per_call`` replies; cache hits included, as
            an equal-budget comparison charges them).
        parse_failures: replies with no instruction in them (skipped).
        duplicates: replies repeating an instruction already kept (skipped).
        too_long: replies longer than ``max_chars`` (skipped).
        requests: one record per request: ``seed``, ``prompt``, raw ``replies``, ``kept``.
    """

    texts: list[str] = field(default_factory=list)
    calls: int = 0
    parse_failures: int = 0
    duplicates: int = 0
    too_long: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def summary(self, requested: int) -> dict[str, int]:
        """The counts for a corpus's metadata (no texts, no prompts)."""
        return {"requested": requested, "texts": len(self.texts), "calls": self.calls,
                "parse_failures": self.parse_failures, "duplicates": self.duplicates,
                "too_long": self.too_long}


def induce_instructions(
    llm: LLM,
    demos: Sequence[Example],
    count: int,
    *,
    num_demos: int = 5,
    per_call: int = 4,
    temperature: float = 0.9,
    max_tokens: int = 64,
    max_chars: int = 300,
    seed: int = 0,
    max_calls: int | None = None,
) -> Induction:
    """Up to ``count`` distinct instructions induced from ``demos`` by ``llm``.

    Args:
        llm: the optimizer model (chat).
        demos: the task's training examples (APE's demonstration pool).
        count: instructions wanted (0: none, no call).
        num_demos: demonstrations shown per request (a fresh seeded draw each).
        per_call: replies sampled per request (``n``; one LLM call).
        temperature: sampling temperature.
        max_tokens: a reply's length cap.
        max_chars: longer instructions are skipped.
        seed: seeds the demonstration draws and every request.
        max_calls: bound on requests (default twice what ``count`` needs): parse failures
            and duplicates cannot make it loop; a short result is logged, not an error.

    Raises:
        ValueError: ``count`` or ``per_call`` below its minimum, or no demonstrations.
    """
    if count < 0 or per_call < 1:
        raise ValueError(f"`count` must be >= 0 and `per_call` >= 1, got {count} and {per_call}.")
    out = Induction()
    if count == 0:
        return out
    prompt = ape_prompt(demos, num_demos, seed)  # raises on an empty pool
    limit = max_calls if max_calls is not None else 2 * math.ceil(count / per_call)
    seen: set[str] = set()
    for step in range(1, limit + 1):
        if len(out.texts) >= count:
            break
        request_seed = derive_seed(seed, SEED_TAG, step)
        text = prompt(step)
        completion = llm.chat([{"role": "user", "content": text}], n=per_call,
                              temperature=temperature, max_tokens=max_tokens, seed=request_seed)
        out.calls += 1
        kept = []
        for raw in completion.texts:
            instruction = parse_candidate(raw)
            if instruction is None:
                out.parse_failures += 1
            elif instruction in seen:
                out.duplicates += 1
            elif len(instruction) > max_chars:
                out.too_long += 1
            elif len(out.texts) < count:
                seen.add(instruction)
                out.texts.append(instruction)
                kept.append(instruction)
        out.requests.append({"seed": request_seed, "prompt": text,
                             "replies": list(completion.texts), "kept": kept})
    if len(out.texts) < count:
        log.warning("induced %d of %d instructions in %d calls (%d unparsable, %d duplicate, "
                    "%d too long replies)", len(out.texts), count, out.calls, out.parse_failures,
                    out.duplicates, out.too_long)
    return out
