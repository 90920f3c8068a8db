"""Rule pairs: RLAIF with a verifiable reward, resumably, in a stage's store.

Base tasks get IFEval-style constraints (:mod:`alignment.ifeval.templates`); the served
model answers each constrained instruction ``samples_per_instruction`` times (one request
with ``n`` choices, seeded); lm-eval's checker scores every sample; samples passing more
constraints are preferred to those passing fewer (:meth:`~alignment.pairs.PairBuilder.from_rules`).
Samples that pass every constraint are SFT targets (:func:`passing_records`). Steps in the
stage folder, beside the judged pairs' steps::

    rule_prompts.jsonl  constrained instructions (prompt, task, constraints)
    rule_samples.jsonl  per instruction: its samples and each one's strict/loose verdicts
    pairs.jsonl         rule pairs (``source: rules``) beside the judged ones

A killed run keeps every finished shard; a rerun samples only instructions not yet keyed.
No training prompt may equal or contain a held-out IFEval prompt: such a prompt is skipped
(``ifeval_overlap``) before any sampling.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from tqdm import tqdm

from alignment.dialogue import clean_generation, generate_many
from alignment.ifeval.checker import check
from alignment.ifeval.templates import DEFAULT_KINDS, RulePrompt, check_kinds, make_prompts
from alignment.pairs import PairBuilder
from alignment.store import StageStore, content_key
from serving.config import ConfigError
from serving.protocols import LLM

log = logging.getLogger(__name__)


@dataclass
class RuleSettings:
    """Verifiable-rule preference pairs (``generate.pair_source: rules | both``).

    Attributes:
        instructions: constrained training instructions to make.
        samples_per_instruction: samples per instruction (one request with ``n`` choices).
        constraints_per_instruction: IFEval-style constraints per instruction (fewer when a
            kind that excludes the others, such as JSON output, is drawn first).
        pairs_per_instruction: at most this many pairs per instruction, largest margin first.
        temperature, top_p: sampling of the samples.
        max_tokens: length limit of a sample.
        base_tasks: ``builtin`` (:data:`alignment.base_tasks.BUILTIN_TASKS`) or
            ``selfinstruct`` (the stage's Self-Instruct training instructions).
        kinds: the lm-eval instruction ids to draw constraints from.
        shard_size: instructions per request batch (the unit of resume).
        seed: seeds the constraints and the samples.
    """

    instructions: int = 100
    samples_per_instruction: int = 4
    constraints_per_instruction: int = 2
    pairs_per_instruction: int = 3
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 160
    base_tasks: Literal["builtin", "selfinstruct"] = "builtin"
    kinds: list[str] = field(default_factory=lambda: list(DEFAULT_KINDS))
    shard_size: int = 8
    seed: int = 0

    def __post_init__(self) -> None:
        if self.samples_per_instruction < 2:
            raise ConfigError("`generate.rules.samples_per_instruction` must be at least 2 "
                              "(a pair needs two samples).")
        if min(self.instructions, self.constraints_per_instruction, self.pairs_per_instruction,
               self.shard_size) < 1:
            raise ConfigError("`generate.rules.instructions`, `constraints_per_instruction`, "
                              "`pairs_per_instruction` and `shard_size` must be at least 1.")
        check_kinds(self.kinds)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def overlaps(prompt: str, heldout: Sequence[str]) -> bool:
    """Whether ``prompt`` equals or contains a held-out prompt (case and spacing ignored)."""
    text = _norm(prompt)
    return any(h and h in text for h in (_norm(p) for p in heldout))


def passing_records(samples: Sequence[dict[str, Any]]) -> list[dict[str, str]]:
    """SFT records (``instruction`` → ``revision``) from the samples that pass every
    constraint (strict), one per distinct text."""
    out, seen = [], set()
    for record in samples:
        for sample in record["samples"]:
            if sample["text"] and all(sample["strict"]) and (record["prompt"], sample["text"]) not in seen:
                seen.add((record["prompt"], sample["text"]))
                out.append({"instruction": record["prompt"], "revision": sample["text"]})
    return out


class RuleData:
    """Makes one stage's rule pairs with ``llm`` into ``store``.

    Args:
        llm: the model from the stage before.
        store: the stage's store.
        settings: sizes and sampling.
        chat: instruct model (chat prompts) or base model (completion-style prompts).
        tasks: the base tasks to constrain.
        heldout: the held-out IFEval prompts no training prompt may equal or contain.
    """

    def __init__(self, llm: LLM, store: StageStore, settings: RuleSettings, *, chat: bool,
                 tasks: Sequence[str], heldout: Sequence[str] = ()):
        self.llm, self.store, self.settings, self.chat = llm, store, settings, chat
        self.tasks, self.heldout = list(tasks), list(heldout)

    def run(self) -> None:
        self.prompts()
        self.samples()
        self.pairs()

    def prompts(self) -> list[RulePrompt]:
        """The constrained instructions (made once, then read back)."""
        s, step = self.settings, "rule_prompts"
        if not self.store.is_done(step):
            for p in make_prompts(self.tasks, s.instructions, s.kinds,
                                  s.constraints_per_instruction, s.seed):
                key = content_key(p.prompt)
                if overlaps(p.prompt, self.heldout):
                    self.store.skip(step, key, "ifeval_overlap")
                else:
                    self.store.append(step, key, p.to_dict())
            self.store.mark_done(step)
        return [RulePrompt.from_dict(r) for r in self.store.records(step)]

    def _sample(self, shard: list[RulePrompt]) -> list[dict[str, Any]]:
        s = self.settings
        completions = generate_many(
            self.llm, [[("Human", p.prompt)] for p in shard], "Assistant", chat=self.chat,
            n=s.samples_per_instruction, temperature=s.temperature, top_p=s.top_p,
            max_tokens=s.max_tokens, seed=s.seed)
        records = []
        for prompt, completion in zip(shard, completions, strict=True):
            samples = []
            for raw in completion.texts:
                text = clean_generation(raw)[0] or ""  # empty / junk fails every constraint
                verdict = check(prompt.prompt, text, prompt.constraints)
                samples.append({"text": text, **verdict.to_dict()})
            records.append({**prompt.to_dict(), "samples": samples})
        return records

    def samples(self) -> None:
        """Sample and check every instruction not yet done, shard by shard."""
        s, step = self.settings, "rule_samples"
        if self.store.is_done(step):
            return
        todo = self.store.pending(step, self.prompts(), lambda p: content_key(p.prompt))
        shards = [todo[k:k + s.shard_size] for k in range(0, len(todo), s.shard_size)]
        for shard in tqdm(shards, desc=f"{self.store.stage} rule samples"):
            records = self._sample(shard)
            for record in records:
                self.store.append(step, content_key(record["prompt"]), record)
            errors = sum(len(x["errors"]) for r in records for x in r["samples"])
            self.store.add_counts(step, {"checker_error": errors})
        self.store.mark_done(step)

    def pairs(self) -> None:
        """Rule pairs from the checked samples (no model calls; a rerun writes only the
        pairs not yet written, since their keys are their content)."""
        s, step = self.settings, "pairs"
        if self.store.is_done("rule_pairs"):
            return
        written = self.store.keys(step)
        builder = PairBuilder()
        for record in self.store.records("rule_samples"):
            samples = [(x["text"], sum(x["strict"])) for x in record["samples"] if x["text"]]
            kinds = "+".join(c["kind"] for c in record["constraints"])
            pairs = builder.from_rules(record["prompt"], samples, len(record["constraints"]),
                                       s.pairs_per_instruction, principle=kinds)
            if not pairs and content_key("rules", record["prompt"]) not in written:
                self.store.skip(step, content_key("rules", record["prompt"]), "rules_no_margin")
            for pair in pairs:
                key = content_key("rules", pair.prompt, pair.chosen, pair.rejected)
                if key not in written:
                    self.store.append(step, key, pair.to_record())
        self.store.add_counts(step, dict(builder.skipped))
        self.store.mark_done("rule_pairs")
