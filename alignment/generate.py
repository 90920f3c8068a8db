"""One stage's data, resumably: instructions → responses + critiques + revisions → pairs,
and/or verifiable-rule pairs (:mod:`alignment.rulegen`).

Pure orchestration over the algorithm modules (no ``ray``): the model is any
:class:`~serving.protocols.LLM` (the ``llm`` app serving the previous stage's model, through
``serving.client``). Every step writes to the stage's :class:`~alignment.store.StageStore`
as it goes, in shards, so a killed run loses at most the shard in flight and a rerun skips
every finished (or skipped-for-good) item. Steps of a stage folder::

    instructions.jsonl  Self-Instruct output (rejections counted by reason)
    revisions.jsonl     instruction, response, principle, critique, revision
    pairs.jsonl         preference pairs (revision vs original, judged A/B with confidence;
                        rule pairs beside them, ``source: rules``)

``pair_source`` picks the sources: ``judge`` / ``revision`` (the CAI steps), ``rules`` (the
rule steps only; Self-Instruct too when ``rules.base_tasks: selfinstruct``) or ``both``
(judged and rule pairs). ``pairs`` is marked done when every chosen source is done.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tqdm import tqdm

from alignment.base_tasks import BUILTIN_TASKS
from alignment.constitution import Constitution, Stage
from alignment.critique import Reviser, Revision
from alignment.judge import Judge
from alignment.pairs import PairBuilder
from alignment.rulegen import RuleData, RuleSettings
from alignment.selfinstruct import SelfInstruct
from alignment.store import StageStore, content_key
from serving.protocols import LLM

log = logging.getLogger(__name__)


@dataclass
class GenerateSettings:
    """How much data a stage makes and how.

    Attributes:
        instructions: Self-Instruct target per stage (training + held-out).
        heldout: generated instructions kept out of training (judged against the base model
            after the stage).
        max_calls: bound on Self-Instruct calls (a weak model may never reach the target).
        num_in_context: in-context instructions per Self-Instruct prompt (paper: 8).
        temperature: sampling temperature of every generation step.
        max_tokens: length limit of responses, critiques and revisions.
        instruction_max_tokens: length limit of one Self-Instruct answer (a list of tasks).
        instruction_temperature, instruction_top_p: Self-Instruct's sampling (paper: 0.7,
            0.5; a very small model needs more randomness or it repeats its examples).
        selfinstruct_style: ``auto`` (chat for instruct models, completion for base models),
            ``chat`` or ``completion``. A very small instruct model (SmolLM2-135M) continues
            the paper's numbered list far better than it follows the chat request for one.
        shard_size: records per shard (the unit of resume).
        pair_source: ``judge`` (A/B log-prob judgment of revision vs original, confidence
            kept), ``revision`` (revision preferred outright, ``revision_confidence``),
            ``rules`` (verifiable-rule pairs, :class:`~alignment.rulegen.RuleSettings`) or
            ``both`` (judged and rule pairs).
        rules: the rule pairs' settings.
        pair_budget: train on at most this many pairs (``0``: all), the sources taking
            turns (:func:`~alignment.pairs.budget_pairs`); compares sources at equal budget.
        revision_confidence: confidence of ``revision`` pairs.
        judge_chain_of_thought: reason before the A/B letter (then clamped to 40-60 %).
        top_logprobs: top tokens per position the judge reads.
        seed: seeds sampling, principles and the held-out split.
    """

    instructions: int = 24
    heldout: int = 4
    max_calls: int = 20
    num_in_context: int = 8
    temperature: float = 0.7
    max_tokens: int = 192
    instruction_max_tokens: int = 384
    instruction_temperature: float = 0.7
    instruction_top_p: float = 0.5
    selfinstruct_style: Literal["auto", "chat", "completion"] = "auto"
    shard_size: int = 8
    pair_source: Literal["judge", "revision", "rules", "both"] = "judge"
    rules: RuleSettings = field(default_factory=RuleSettings)
    pair_budget: int = 0
    revision_confidence: float = 1.0
    judge_chain_of_thought: bool = False
    top_logprobs: int = 5
    seed: int = 0


def split_heldout(instructions: Sequence[str], heldout: int) -> tuple[list[str], list[str]]:
    """``(train, heldout)``: the held-out ones are those with the smallest content hash, so
    the split is the same on every rerun and does not depend on generation order."""
    ranked = sorted(instructions, key=content_key)
    held = set(ranked[:heldout])
    return [i for i in instructions if i not in held], [i for i in instructions if i in held]


def _shards(items: list[Any], size: int) -> list[list[Any]]:
    return [items[k:k + size] for k in range(0, len(items), size)]


class StageData:
    """Makes one stage's data with ``llm`` into ``store``.

    Args:
        llm: the model from the stage before (generation and judging).
        constitution: principles and the stage's description / seed tasks.
        stage: the curriculum stage.
        store: the stage's store.
        settings: sizes and sampling.
        chat: instruct model (chat prompts) or base model (completion-style prompts).
        heldout_prompts: evaluation prompts (IFEval) no rule-pair prompt may equal or contain.
    """

    def __init__(self, llm: LLM, constitution: Constitution, stage: Stage, store: StageStore,
                 settings: GenerateSettings, *, chat: bool, heldout_prompts: Sequence[str] = ()):
        self.llm, self.constitution, self.stage, self.store = llm, constitution, stage, store
        self.settings, self.chat = settings, chat
        self.heldout_prompts = list(heldout_prompts)

    def run(self) -> dict[str, Any]:
        """Every step of the chosen sources (each skipped if done); the stage report."""
        s = self.settings
        cai = s.pair_source in ("judge", "revision", "both")
        rules = s.pair_source in ("rules", "both")
        if cai or s.rules.base_tasks == "selfinstruct":
            self.instructions()
        if cai:
            self.revisions()
            self.pairs()
        if rules:
            tasks = self.split()[0] if s.rules.base_tasks == "selfinstruct" else BUILTIN_TASKS
            RuleData(self.llm, self.store, s.rules, chat=self.chat, tasks=tasks,
                     heldout=self.heldout_prompts).run()
        self.store.mark_done("pairs")
        return self.store.report().to_dict()

    # -- steps -------------------------------------------------------------------------------
    def instructions(self) -> list[str]:
        s, step = self.settings, "instructions"
        existing = [r["instruction"] for r in self.store.records(step)]
        if self.store.is_done(step):
            return existing
        chat = self.chat if s.selfinstruct_style == "auto" else s.selfinstruct_style == "chat"
        generator = SelfInstruct(self.llm, chat=chat, num_in_context=s.num_in_context,
                                 temperature=s.instruction_temperature, top_p=s.instruction_top_p,
                                 max_tokens=s.instruction_max_tokens,
                                 seed=s.seed)
        result = generator.generate(
            self.stage.description, self.stage.seed_tasks, s.instructions, existing=existing,
            max_calls=s.max_calls,
            on_instruction=lambda i: self.store.append(step, content_key(i), {"instruction": i}))
        self.store.add_counts(step, result.skipped)
        total = len(existing) + len(result.instructions)
        if total < s.instructions:
            log.warning("stage %s: Self-Instruct made %d of %d instructions in %d calls",
                        self.stage.name, total, s.instructions, result.calls)
        self.store.mark_done(step)
        return [*existing, *result.instructions]

    def split(self) -> tuple[list[str], list[str]]:
        """The stage's ``(train, heldout)`` instructions."""
        return split_heldout([r["instruction"] for r in self.store.records("instructions")],
                             self.settings.heldout)

    def revisions(self) -> None:
        s, step = self.settings, "revisions"
        if self.store.is_done(step):
            return
        train, _ = self.split()
        reviser = Reviser(self.llm, self.constitution.principles, chat=self.chat,
                          temperature=s.temperature, max_tokens=s.max_tokens, seed=s.seed)
        todo = self.store.pending(step, train, content_key)
        for shard in tqdm(_shards(todo, s.shard_size), desc=f"{self.stage.name} revisions"):
            responses = reviser.respond(shard)
            usable = [(i, r) for i, r in zip(shard, responses.outputs, strict=True) if r is not None]
            for instruction, response in zip(shard, responses.outputs, strict=True):
                if response is None:
                    self.store.skip(step, content_key(instruction), "empty_or_unparsable_response")
            result = reviser.revise(usable)
            made = {r.instruction for r in result.revisions}
            for revision in result.revisions:
                self.store.append(step, content_key(revision.instruction), vars(revision))
            for instruction, _ in usable:
                if instruction not in made:
                    self.store.skip(step, content_key(instruction), "unusable_critique_or_revision")
        self.store.mark_done(step)

    def pairs(self) -> None:
        """Judged (or revision) pairs; done-flag ``judge_pairs`` (rule pairs share the file)."""
        s, step = self.settings, "pairs"
        if self.store.is_done("judge_pairs"):
            return
        builder = PairBuilder(revision_confidence=s.revision_confidence)
        judge = Judge(self.llm, top_logprobs=s.top_logprobs, chain_of_thought=s.judge_chain_of_thought)
        records = [Revision(**r) for r in self.store.records("revisions")]
        todo = self.store.pending(step, records, lambda r: content_key(r.instruction))
        for revision in tqdm(todo, desc=f"{self.stage.name} pairs"):
            key = content_key(revision.instruction)
            before = builder.skipped.copy()
            if s.pair_source == "revision":
                pair = builder.from_revision(revision)
            else:
                question = self.constitution.principle(revision.principle).comparison
                judgment = judge.judge(f"Human: {revision.instruction}", question,
                                       revision.response, revision.revision)
                if judgment is None:
                    self.store.skip(step, key, "unparsable_judge")
                    continue
                pair = builder.from_judgment(revision.instruction, revision.response,
                                             revision.revision, judgment, revision.principle)
            if pair is None:
                self.store.skip(step, key, next(iter(builder.skipped - before)))
                continue
            self.store.append(step, key, pair.to_record())
        self.store.mark_done("judge_pairs")
