"""Builders: from a :class:`~promptopt.config.PromptOptConfig` to the task, its samples,
clients, the evaluator and the optimizers. Flat arguments go into the algorithm classes; no ``ray`` here
(the Ray fan-out is imported only when a run enables it).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any

from promptopt.config import ApeConfig, PromptOptConfig, RandomConfig
from promptopt.evaltable import SqliteEvalTable
from promptopt.evaluator import Evaluator
from promptopt.gradients import TextualGradients
from promptopt.opro import Opro
from promptopt.protegi import ProTeGi
from promptopt.protocols import EventSink, Outcome, Scorer, UsageMeter
from promptopt.sampling import FewShotSearch, SampleSelect, ape_prompt, random_prompt
from promptopt.scoring import EvalKey, LLMScorer
from promptopt.tasks import Example, PromptFormat, Task, load_task
from promptopt.tasks.base import Format
from serving.client import LLMClient
from serving.ledger import BudgetLedger
from serving.models import cache_dir
from serving.protocols import LLM, Usage
from serving.settings import ClientConfig


class LedgerMeter:
    """A :class:`~promptopt.protocols.UsageMeter` reading a client's ledger."""

    def __init__(self, ledger: BudgetLedger):
        self.ledger = ledger

    def used(self) -> Usage:
        return self.ledger.usage


def task(config: PromptOptConfig) -> Task:
    """The configured task, with the config's baseline and references where it sets them."""
    t = config.task
    fmt = PromptFormat(t.position, t.include_qa) if t.name == "gsm8k" else None
    loaded = load_task(t.name, t.data_dir, prompt_format=fmt, scorer=t.scorer, labels=t.labels,
                       template=t.template)
    changes: dict[str, Any] = {}
    if t.baseline is not None:
        changes["baseline"] = t.baseline
    if t.references is not None:
        changes["references"] = tuple(t.references)
    if t.max_tokens is not None:
        changes["max_tokens"] = t.max_tokens
    return replace(loaded, **changes) if changes else loaded


def initial(config: PromptOptConfig, the_task: Task) -> list[str]:
    """The optimizers' starting instructions: ``task.initial`` (default the baseline), plus
    the references when ``task.include_references`` says so (de-duplicated, in order)."""
    start = list(config.task.initial) if config.task.initial is not None else [the_task.baseline]
    if config.task.include_references:
        start += list(the_task.references)
    return list(dict.fromkeys(start))


def samples(config: PromptOptConfig) -> tuple[list[Example], list[Example], list[Example]]:
    """``(train, validation, test)``: the task's seeded, disjoint splits.

    Validation (``tune.val_size`` examples) is disjoint from train, so Tune never looks at
    the held-out test split. GSM8K draws exactly the samples it always did.
    """
    t = config.task
    split = task(config).splits(t.train_size, config.tune.val_size, t.test_size, t.seed)
    return split.train, split.validation, split.test


def client(section: ClientConfig, base_url: str | None, ledger: BudgetLedger) -> LLMClient:
    """A client on ``section``'s endpoint (else ``base_url``), spending from ``ledger``."""
    return LLMClient(section, base_url=section.base_url or base_url, ledger=ledger)


def editor(
    config: PromptOptConfig, base_url: str | None, ledger: BudgetLedger
) -> LLMClient | None:
    """ProTeGi's edit/paraphrase client when ``editor`` names its own endpoint, else ``None``."""
    return None if config.editor is None else client(config.editor, base_url, ledger)


def eval_table(config: PromptOptConfig) -> MutableMapping[EvalKey, Outcome]:
    """The shared SQLite evaluation table (``evaluation.table`` or the cache folder's)."""
    return SqliteEvalTable(config.evaluation.table or cache_dir() / "promptopt_evals.sqlite")


def evaluator(
    config: PromptOptConfig,
    llm: LLM,
    table: MutableMapping[EvalKey, Outcome] | None = None,
    fan_out: bool = True,
    model: str | None = None,
) -> Evaluator:
    """The evaluator on ``llm`` (greedy, ``task.max_tokens``), with Ray fan-out if asked.

    Args:
        config: the run config.
        llm: the task model (an :class:`LLMClient` unless ``model`` is given).
        table: the evaluation table (default: the shared SQLite one).
        fan_out: fan large sets out over Ray tasks (needs ``llm`` to be an ``LLMClient``).
        model: the model name in table keys (default ``llm.model``).
    """
    the_task = task(config)
    fmt = the_task.prompt_format
    table = eval_table(config) if table is None else table
    params: dict[str, Any] = {"temperature": 0.0, "max_tokens": the_task.max_tokens}
    scorer = LLMScorer(llm, fmt, model=model or llm.model, table=table, judge=the_task.judge,
                       **params)
    mapper = None
    if fan_out:
        from promptopt.ray_tasks import RayFanOut, ScorerSpec

        spec = ScorerSpec(llm.endpoint.config, llm.base_url, llm.model, fmt, scorer.params,
                          the_task.judge)
        mapper = RayFanOut(spec, llm.ledger)
    ev = config.evaluation
    return Evaluator(scorer, mapper, fan_out_above=ev.fan_out_above, chunk_size=ev.chunk_size)


def prompt_format(config: PromptOptConfig) -> Format:
    """The task's prompt format (GSM8K: ``task.position`` / ``task.include_qa``)."""
    return task(config).prompt_format


def optimizer(
    method: str,
    config: PromptOptConfig,
    optimizer_llm: LLM,
    scorer: Scorer,
    train: list[Example],
    on_event: EventSink | None,
    meter: UsageMeter | None,
    progress: bool = True,
    edit_llm: LLM | None = None,
    demos: list[Example] | None = None,
) -> tuple[Opro | ProTeGi | SampleSelect, int]:
    """``method``'s optimizer from its config section (seeded by ``config.seed``) and its
    number of steps. ProTeGi's gradients come from ``optimizer_llm``, its edits and
    paraphrases from ``edit_llm`` (default: the same model); APE's and few-shot search's
    demonstrations from ``demos`` (see :func:`sample_select`)."""
    if method == "opro":
        o = config.opro
        built = Opro(
            optimizer_llm, scorer, train,
            prompt_format=prompt_format(config),
            candidates_per_step=o.candidates_per_step, max_pairs=o.max_pairs,
            num_buckets=o.num_buckets, num_exemplars=min(o.num_exemplars, len(train)),
            temperature=o.temperature, max_tokens=o.max_tokens, max_chars=o.max_chars,
            reject_digits=o.reject_digits, lenient_parse=o.lenient_parse, seed=config.seed,
            on_event=on_event, meter=meter, progress=progress,
        )  # fmt: skip
        return built, o.steps
    if method in ("ape", "random", "fewshot"):
        return sample_select(method, config, optimizer_llm, scorer, train, on_event, meter,
                             progress, demos)
    if method != "protegi":
        raise ValueError(f"unknown method {method!r}; one of opro, protegi, ape, random, "
                         "fewshot.")
    p = config.protegi
    editor = TextualGradients(
        optimizer_llm, edit_llm or optimizer_llm, task=task(config).description,
        temperature=p.temperature, max_tokens=p.max_tokens,
    )  # fmt: skip
    built = ProTeGi(
        editor, scorer, train,
        beam_width=p.beam_width, minibatch_size=p.minibatch_size, n_gradients=p.n_gradients,
        errors_per_gradient=p.errors_per_gradient, gradients_per_error=p.gradients_per_error,
        steps_per_gradient=p.steps_per_gradient, mc_samples_per_step=p.mc_samples_per_step,
        max_expansion_factor=p.max_expansion_factor, selector=p.selector, c=p.c,
        eval_rounds=p.eval_rounds, prompts_per_round=p.prompts_per_round,
        samples_per_eval=p.samples_per_eval, seed=config.seed, on_event=on_event, meter=meter,
        progress=progress,
    )  # fmt: skip
    return built, p.steps


def sample_select(
    method: str,
    config: PromptOptConfig,
    generator: LLM,
    scorer: Scorer,
    examples: list[Example],
    on_event: EventSink | None,
    meter: UsageMeter | None,
    progress: bool = True,
    demos: list[Example] | None = None,
) -> tuple[SampleSelect, int]:
    """APE, random search or few-shot search from its config section, and its number of steps.

    APE's demonstrations come from ``demos`` (default: the scored ``examples``); few-shot
    search's from ``demos`` outside the scored examples (required).
    """
    the_task = task(config)
    if method == "fewshot":
        f = config.fewshot
        searcher = FewShotSearch(scorer, examples, demos or [], initial(config, the_task)[0],
                                 num_demos=f.num_demos, candidates_per_step=f.candidates_per_step,
                                 seed=config.seed, on_event=on_event, meter=meter,
                                 progress=progress)  # fmt: skip
        return searcher, f.steps
    if method == "ape":
        a = config.ape
        prompt = ape_prompt(demos or examples, a.num_demos, config.seed)
        section: ApeConfig | RandomConfig = a
    else:
        section = config.random
        prompt = random_prompt(initial(config, the_task)[0])
    built = SampleSelect(
        method, generator, scorer, examples, prompt,
        candidates_per_step=section.candidates_per_step, temperature=section.temperature,
        max_tokens=section.max_tokens, seed=config.seed, on_event=on_event, meter=meter,
        progress=progress,
    )  # fmt: skip
    return built, section.steps
