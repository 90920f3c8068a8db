"""The seed framework's LLM coordinator, with Ax as its safety net (no Ray here).

Each suggestion asks the served LLM (any :class:`~serving.protocols.LLM`; in real runs
:class:`serving.client.LLMClient` on the shared ``llm`` app) for the next configuration,
given the space, the history and the current Pareto front (:mod:`llm_prompt`). A valid, new
configuration is attached to the wrapped :class:`~moo.searchers.ax_moo.AxMOO`, so Ax's model learns from
every trial whoever chose it. An unparsable, invalid or repeated answer, or a failed LLM
call, falls back to Ax's own suggestion; the full prompt and answer are logged (and written
to ``log_path`` as JSON lines when given). Ray Tune drives it through
:class:`moo.searchers.ray_llm.LLMCoordinatorSearcher`, which the registry builds as ``llm``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from moo.searchers.ax_moo import FINISHED, AxMOO
from moo.searchers.llm_prompt import InvalidProposal, build_messages, parse_proposal
from moo.searchers.problem import SearchProblem
from serving.protocols import LLM
from serving.runs import append_jsonl

logger = logging.getLogger(__name__)


def _prompt_text(messages: Sequence[Mapping[str, str]]) -> str:
    return "\n\n".join(f"[{m['role']}]\n{m['content']}" for m in messages)


class LLMCoordinator:
    """Multi-objective searcher: the LLM proposes, Ax backs it up.

    Args:
        problem: Parameters, objectives and constraints.
        llm: The model asked for each configuration (must pickle: Tune pickles searchers).
        llm_factory: Instead of ``llm``, a zero-argument callable that builds it on first
            use and again after unpickling (for clients holding locks and connections,
            such as :class:`serving.client.LLMClient`).
        fallback: The Ax searcher used on invalid answers (default: a new one, seeded).
        points_to_evaluate: Warm-start configs, run first without asking the LLM.
        seed: Seeds the default fallback.
        log_path: JSONL file receiving every decision with its full prompt and answer.
        max_history: The most recent trials shown to the LLM (front trials always are).
        temperature: Sampling temperature of the LLM call.
        max_tokens: Longest answer.
    """

    def __init__(
        self,
        problem: SearchProblem,
        llm: LLM | None = None,
        *,
        llm_factory: Callable[[], LLM] | None = None,
        fallback: AxMOO | None = None,
        points_to_evaluate: Sequence[Mapping[str, Any]] | None = None,
        seed: int | None = None,
        log_path: str | Path | None = None,
        max_history: int = 40,
        temperature: float = 0.7,
        max_tokens: int = 256,
    ) -> None:
        if (llm is None) == (llm_factory is None):
            raise ValueError("give exactly one of `llm` and `llm_factory`.")
        self.problem = problem
        self._llm, self._llm_factory = llm, llm_factory
        self.fallback = fallback or AxMOO(problem, seed=seed)
        self.log_path = Path(log_path) if log_path else None
        self.max_history, self.temperature, self.max_tokens = max_history, temperature, max_tokens
        self.history: list[dict[str, Any]] = []  # finished trials, in completion order
        self.decisions: list[dict[str, Any]] = []  # who chose each config, and why
        self._warm = [problem.validate(cfg) for cfg in points_to_evaluate or ()]
        self._live: dict[str, dict[str, Any]] = {}
        self._declined_at: int | None = None  # history length when Ax last had to wait

    @property
    def llm(self) -> LLM:
        """The model (built by ``llm_factory`` on first use, when one was given)."""
        if self._llm is None:
            self._llm = self._llm_factory()
        return self._llm

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if self._llm_factory is not None:
            state["_llm"] = None  # rebuilt on first use after unpickling
        return state

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """Warm start first, then the LLM's proposal, else Ax's (None while Ax waits)."""
        if self._warm:
            config = self._warm.pop(0)
            self.fallback.attach(trial_id, config)
            return self._record(trial_id, config, "warm_start")
        if self._declined_at == len(self.history):
            # Ax is waiting for running trials and the LLM already failed at this history:
            # asking again would only spend tokens on the same prompt.
            return self._from_ax(trial_id, None, "", "LLM already failed on this history")
        messages = build_messages(self.problem, self.history, self.max_history)
        answer = ""
        try:
            answer = self.llm.chat(
                messages, temperature=self.temperature, max_tokens=self.max_tokens
            ).text
            tried = [h["config"] for h in self.history] + list(self._live.values())
            config = parse_proposal(answer, self.problem, tried)
        except InvalidProposal as exc:
            return self._from_ax(trial_id, messages, answer, f"invalid answer: {exc}")
        except Exception as exc:  # noqa: BLE001 -- endpoint down, budget spent: Ax carries on
            return self._from_ax(trial_id, messages, answer, f"LLM call failed: {exc!r}")
        self.fallback.attach(trial_id, config)
        logger.info(
            "LLM coordinator: trial %s runs the LLM's proposal %s.\n--- prompt ---\n%s\n"
            "--- answer ---\n%s",
            trial_id, config, _prompt_text(messages), answer,
        )  # fmt: skip
        return self._record(trial_id, config, "llm", messages, answer)

    def _from_ax(
        self, trial_id: str, messages: list | None, answer: str, reason: str
    ) -> dict[str, Any] | None:
        if messages is not None:
            logger.warning(
                "LLM coordinator: %s; using Ax's suggestion for trial %s.\n"
                "--- prompt ---\n%s\n--- answer ---\n%s",
                reason, trial_id, _prompt_text(messages), answer,
            )  # fmt: skip
        config = self.fallback.suggest(trial_id)
        if config is None or config == FINISHED:
            self._declined_at = len(self.history)
            return config
        return self._record(trial_id, config, "ax_fallback", messages, answer, reason)

    def _record(
        self,
        trial_id: str,
        config: dict[str, Any],
        source: str,
        messages: list | None = None,
        answer: str = "",
        reason: str = "",
    ) -> dict[str, Any]:
        self._live[trial_id] = config
        decision = {"trial_id": trial_id, "source": source, "config": config, "reason": reason}
        self.decisions.append(decision)
        if self.log_path is not None:
            append_jsonl(self.log_path, {**decision, "messages": messages, "answer": answer})
        return dict(config)

    def attach(self, trial_id: str, config: Mapping[str, Any]) -> dict[str, Any]:
        """Run a given config (a replacement for a repeat) as Tune trial ``trial_id``."""
        config = self.problem.validate(config)
        self.fallback.attach(trial_id, config)
        return self._record(trial_id, config, "replacement")

    def tell(self, config: Mapping[str, Any], result: Mapping[str, Any] | None) -> None:
        """A config measured outside the search (the baseline): shown to the LLM in the
        history, given to Ax, and never proposed again."""
        config = self.problem.validate(config)
        metrics = self.problem.metric_values(result)
        self.history.append({"config": config, "metrics": metrics,
                             "error": None if metrics else "missing metrics"})
        self.fallback.tell(config, result)

    def observe(
        self, trial_id: str, result: Mapping[str, Any] | None = None, error: bool = False
    ) -> None:
        """Add the trial to the history shown to the LLM, and tell Ax."""
        config = self._live.pop(trial_id, None)
        if config is None:
            logger.warning("LLMCoordinator: unknown or completed trial %s", trial_id)
            return
        metrics = None if error else self.problem.metric_values(result)
        failure = None if metrics else ("trial errored" if error else "missing metrics")
        self.history.append({"config": config, "metrics": metrics, "error": failure})
        self.fallback.observe(trial_id, result, error)

    def get_state(self) -> dict[str, Any]:
        """The coordinator's history and decisions plus Ax's state, as plain data."""
        return {"ax": self.fallback.get_state(), "history": self.history,
                "decisions": self.decisions, "warm": self._warm, "live": self._live,
                "declined_at": self._declined_at}  # fmt: skip

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Load what :meth:`get_state` returned."""
        self.fallback.set_state(state["ax"])
        self.history, self.decisions = list(state["history"]), list(state["decisions"])
        self._warm, self._live = list(state["warm"]), dict(state["live"])
        self._declined_at = state["declined_at"]
