"""Bayesian optimization of prompts through a flow over sentence embeddings.

One round: fit the GP on the scored texts' embeddings (normalized by the flow), draw ``q``
guided samples (:class:`~ecoflow.guidance.GuidedFlowSampler`), decode them to text,
drop texts already scored, re-encode the new texts, score them, record one
:class:`BOEvent` per evaluation. Round 0 scores the initial texts.

Pure code: the encoder, decoder and ``evaluate`` are injected (``serving.protocols``), and
``on_event`` receives each event as soon as it exists (a run appends it to ``events.jsonl``).

Resume: pass the past events back. Round ``r`` fits the GP on the events of rounds ``< r`` only
and draws its noise from a generator seeded by ``(seed, r)``, so a run killed in the middle of
round ``r`` redoes that round's sampling identically (with deterministic collaborators) and
scores only the candidates it had not scored: a resumed run repeats no evaluation and, given
deterministic collaborators, ends with exactly the events of an uninterrupted run.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import torch
from torch import Tensor

from ecoflow.guidance import GuidedFlowSampler
from ecoflow.surrogate import GPSurrogate
from serving.ledger import BudgetExceeded
from serving.protocols import Decoder, Encoder

log = logging.getLogger(__name__)

WARM_START = "warm_start"  # events imported from another run: they train the GP, cost nothing


@dataclass(frozen=True)
class BOEvent:
    """One evaluation (one line of ``events.jsonl``).

    Attributes:
        index: position in the run's event list (0-based).
        round: 0 for initial (and warm-start) texts, then 1, 2, ... for guided rounds.
        text: the text that was scored.
        score: its score (higher is better unless the loop minimizes).
        source: ``"initial"``, ``"guided"`` or ``"warm_start"``.
        embedding: the encoder's vector of ``text`` (what the GP is fitted on); ``None`` in
            an imported event means "encode it on replay".
        round_trip_cosine: for guided texts, cosine between the sampled vector and the
            re-encoded decoded text (encode → decode → re-encode fidelity); else ``None``.
    """

    index: int
    round: int
    text: str
    score: float
    source: str
    embedding: tuple[float, ...] | None = None
    round_trip_cosine: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``embedding`` as a list)."""
        d = asdict(self)
        d["embedding"] = None if self.embedding is None else list(self.embedding)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BOEvent:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        emb = d.get("embedding")
        return cls(
            index=int(d["index"]),
            round=int(d["round"]),
            text=str(d["text"]),
            score=float(d["score"]),
            source=str(d.get("source", "initial")),
            embedding=None if emb is None else tuple(float(v) for v in emb),
            round_trip_cosine=d.get("round_trip_cosine"),
        )


@dataclass(frozen=True)
class BOResult:
    """The run's events (replayed ones included), its best event and why it stopped
    (``"budget"``, ``"stale"``: ``patience`` rounds without a new text, ``"max_rounds"``, or
    the message of a ``stop_on`` exception such as the LLM ledger's ``BudgetExceeded``)."""

    events: list[BOEvent]
    best: BOEvent | None
    stop_reason: str

    @property
    def evaluations(self) -> int:
        """Evaluations charged to the budget (warm-start events excluded)."""
        return sum(e.source != WARM_START for e in self.events)


def cosine(a: Sequence[float], b: Sequence[float]) -> float:
    """Cosine similarity of two vectors (0.0 if either is zero)."""
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    na, nb = math.sqrt(sum(x * x for x in a)), math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


class FlowBO:
    """The guided-flow BO loop.

    Args:
        sampler: guided sampler over a trained flow (its ``flow`` gives the normalization the
            GP is fitted in).
        encoder: text → embedding (must match the flow's embedding space).
        decoder: embedding → text.
        evaluate: ``text -> score``; called exactly once per distinct text.
        batch_size: ``q``, samples per guided round.
        beta: GP confidence-bound parameter (``kappa = sqrt(beta)``).
        maximize: True when larger scores are better.
        seed: seeds each round's noise (with the round number) and the GP fits.
        patience: stop after this many consecutive guided rounds that found no new text.
        on_event: called with each new :class:`BOEvent` right after its evaluation.
        decode_options: keyword options passed to ``decoder.decode``; each round also passes
            ``seed`` (derived from ``seed`` and the round) unless these fix one.
        on_fit: called with ``(round, gp)`` after each guided round's GP fit (``gp`` is
            ``None`` below two points); a run checkpoints the surrogate here.
        stop_on: exceptions that end the run cleanly, keeping every event so far (the LLM
            budget ledger's by default).
    """

    def __init__(
        self,
        sampler: GuidedFlowSampler,
        encoder: Encoder,
        decoder: Decoder,
        evaluate: Callable[[str], float],
        *,
        batch_size: int = 4,
        beta: float = 1.0,
        maximize: bool = True,
        seed: int = 0,
        patience: int = 3,
        on_event: Callable[[BOEvent], None] | None = None,
        decode_options: Mapping[str, Any] | None = None,
        on_fit: Callable[[int, GPSurrogate | None], None] | None = None,
        stop_on: tuple[type[BaseException], ...] = (BudgetExceeded,),
    ):
        if batch_size < 1 or patience < 1:
            raise ValueError(
                f"`batch_size` and `patience` must be >= 1, got {batch_size} and {patience}."
            )
        self.sampler, self.encoder, self.decoder = sampler, encoder, decoder
        self.evaluate = evaluate
        self.batch_size, self.beta, self.maximize = batch_size, beta, maximize
        self.seed, self.patience, self.on_event = seed, patience, on_event
        self.decode_options = dict(decode_options or {})
        self.on_fit, self.stop_on = on_fit, stop_on

    def run(
        self,
        initial_texts: Sequence[str],
        budget: int,
        events: Iterable[BOEvent | Mapping[str, Any]] = (),
        max_rounds: int | None = None,
    ) -> BOResult:
        """Run until ``budget`` evaluations (counting replayed non-warm-start events).

        Args:
            initial_texts: scored in round 0 (duplicates and already-scored texts skipped).
            budget: maximum number of evaluations in the run, replayed ones included.
            events: past events (dicts from ``events.jsonl`` or :class:`BOEvent`) to resume
                from; warm-start events only train the GP.
            max_rounds: last guided round to run (``None``: no limit).

        Returns:
            A :class:`BOResult` with all events, replayed ones first.
        """
        history = self._replay(events)
        spent = sum(e.source != WARM_START for e in history)
        start = max((e.round for e in history if e.source != WARM_START), default=0)
        rnd, stale, reason = start, 0, "budget"
        try:
            while spent < budget:
                if max_rounds is not None and rnd > max_rounds:
                    reason = "max_rounds"
                    break
                if rnd == 0:
                    spent += self._score(initial_texts, None, 0, "initial", history, budget - spent)
                else:
                    spent += self._guided_round(rnd, history, budget - spent)
                    stale = 0 if any(e.round == rnd for e in history) else stale + 1
                    if stale >= self.patience:
                        reason = "stale"
                        break
                rnd += 1
        except self.stop_on as exc:
            reason = f"{type(exc).__name__}: {exc}"
            log.info("FlowBO stopped in round %d after %d events: %s", rnd, len(history), reason)
        pick = max if self.maximize else min
        best = pick(history, key=lambda e: e.score) if history else None
        return BOResult(events=history, best=best, stop_reason=reason)

    def _replay(self, events: Iterable[BOEvent | Mapping[str, Any]]) -> list[BOEvent]:
        history = [e if isinstance(e, BOEvent) else BOEvent.from_dict(e) for e in events]
        missing = [i for i, e in enumerate(history) if e.embedding is None]
        if missing:
            vectors = self.encoder.encode([history[i].text for i in missing])
            for i, v in zip(missing, vectors, strict=True):
                history[i] = BOEvent(**{**asdict(history[i]), "embedding": tuple(v)})
        return history

    def _fit(self, events: Sequence[BOEvent]) -> GPSurrogate | None:
        """GP on the flow-normalized embeddings of ``events`` (``None`` below 2 points)."""
        if len(events) < 2:
            return None
        like = self.sampler.flow.mean
        x = torch.tensor([e.embedding for e in events], dtype=like.dtype, device=like.device)
        y = torch.tensor([e.score for e in events], dtype=torch.float64)
        gp = GPSurrogate(beta=self.beta, maximize=self.maximize, seed=self.seed)
        return gp.fit(self.sampler.flow.normalize(x), y)

    def _guided_round(self, rnd: int, history: list[BOEvent], left: int) -> int:
        gp = self._fit([e for e in history if e.round < rnd])
        if self.on_fit is not None:
            self.on_fit(rnd, gp)
        acquisition = None if gp is None else partial(gp.confidence_bound, standardized=True)
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + rnd)
        targets = self.sampler.sample_embeddings(self.batch_size, acquisition, generator)
        # a fresh decode seed per round (reproducible: a resumed round decodes the same texts)
        options = {"seed": self.seed * 1_000_003 + rnd, **self.decode_options}
        texts = self.decoder.decode(targets.tolist(), **options)
        if len(texts) != len(targets) or not all(isinstance(t, str) for t in texts):
            raise ValueError(f"the decoder returned {len(texts)} items for {len(targets)} "
                             f"vectors ({texts!r}); it must return one string per vector.")
        return self._score(texts, targets, rnd, "guided", history, left)

    def _score(
        self,
        texts: Sequence[str],
        targets: Tensor | None,
        rnd: int,
        source: str,
        history: list[BOEvent],
        left: int,
    ) -> int:
        """Score the new distinct ``texts`` (at most ``left``); ``targets``: ``len(texts) x d``
        sampled vectors they were decoded from, or ``None``. Returns the number scored."""
        seen = {e.text for e in history}
        fresh: list[int] = []
        for i, text in enumerate(texts):
            if not text.strip():
                log.warning("round %d: skipping an empty decoded text (item %d)", rnd, i)
            elif text not in seen:
                seen.add(text)
                fresh.append(i)
        fresh = fresh[: max(left, 0)]
        if not fresh:
            return 0
        vectors = self.encoder.encode([texts[i] for i in fresh])
        for i, vector in zip(fresh, vectors, strict=True):
            score = float(self.evaluate(texts[i]))
            if not math.isfinite(score):
                raise ValueError(
                    f"`evaluate` returned {score} for {texts[i]!r}: scores must be finite."
                )
            rt = None if targets is None else cosine(targets[i].tolist(), vector)
            event = BOEvent(len(history), rnd, texts[i], score, source, tuple(vector), rt)
            history.append(event)
            if self.on_event is not None:
                self.on_event(event)
        return len(fresh)
