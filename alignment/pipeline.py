"""The staged pipeline: baseline → per stage (generate → SFT → DPO → evaluate) → report.

Layout of ``results/alignment/<run>/``::

    config.yaml, events.jsonl          the run's config and one event per finished step
    baseline.json                      the base model on the IFEval subset (before stage 1)
    stages/<stage>/data/<stage>/       the stage's store (instructions, revisions, rule
                                       prompts and samples, pairs)
    stages/<stage>/sft|dpo/            Ray Train storage, adapter/, model/, result.json
    stages/<stage>/eval.json, comparison.jsonl    IFEval, stage minus base; judged answers
    report.json, report.md, report.png base vs stages with intervals (table, bar chart)

The yardstick is a fixed, seeded subset of the IFEval prompts (``eval.ifeval_n`` of 541,
folder ``eval.ifeval_dir`` or ``$IFEVAL_DIR``), scored by lm-eval's checker; the same prompts
are scored for the base model and every stage, so stage minus base is a paired difference.

Stage *k*'s data is made by stage *k-1*'s model (the base model for the first stage), served
through the ``llm`` app builder (:mod:`alignment.ray_serve`). Every step is skipped when its
output exists, so rerunning a command resumes it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

from alignment import evaluate as ev
from alignment import report as rep
from alignment.config import AlignmentConfig
from alignment.constitution import load_constitution
from alignment.generate import StageData, split_heldout
from alignment.ifeval.data import load_items, resolve_dir, subset
from alignment.ifeval.score import IFEvalScore, paired_difference
from alignment.pairs import budget_pairs
from alignment.rulegen import passing_records
from alignment.store import StageStore
from alignment.training import dpo_rows, sft_rows
from serving.config import ConfigError
from serving.runs import RunDir, write_json_atomic

log = logging.getLogger(__name__)


class Pipeline:
    """One alignment run (validated, with its run folder) and its steps.

    Raises:
        ConfigError: a malformed constitution, no IFEval folder, a subset larger than IFEval,
            or a stage the constitution lacks, before any work starts.
    """

    def __init__(self, config: AlignmentConfig, root: str | Path | None = None):
        self.config = config
        self.constitution = load_constitution(config.constitution)
        every = load_items(resolve_dir(config.eval.ifeval_dir))
        self.ifeval_prompts = [item.prompt for item in every]  # no training prompt may hold one
        self.ifeval_items = subset(every, config.eval.ifeval_n, config.eval.ifeval_seed)
        names = [s.name for s in self.constitution.stages]
        for stage in config.stages:
            if stage not in names:
                raise ConfigError(f"`stages` names `{stage}`, which the constitution lacks; it has {names}.")
        self.constitution.principle(config.eval.judge_principle)  # KeyError names the valid ones
        self.run = RunDir("alignment", config.run_name, root)
        self.run.save_config(config)
        self._base = None

    # -- where things are ----------------------------------------------------------------------
    def stage_dir(self, index: int) -> Path:
        """Absolute: Ray Train workers and Serve replicas run in other working directories."""
        return self.run.path.resolve() / "stages" / self.config.stages[index]

    def store(self, index: int) -> StageStore:
        return StageStore(self.stage_dir(index) / "data", self.config.stages[index])

    def model_after(self, index: int) -> Path:
        """The merged model a stage ends with (its DPO model)."""
        return self.stage_dir(index) / "dpo" / "model"

    def _base_path(self) -> str:
        from serving.models import resolve_model

        return resolve_model(self.config.model)

    def base(self):
        """The shared ``llm`` app's client; it must serve ``config.model``."""
        if self._base is None:
            from alignment.ray_serve import base_client

            self._base = base_client()
            served = self._base.model
            if served != self.config.model:
                raise ConfigError(f"the running `llm` app serves `{served}`, but `model` is "
                                  f"`{self.config.model}`: set `model={served}` or redeploy it "
                                  "(`python -m serving down`).")
        return self._base

    def llm_before(self, index: int):
        """The model stage ``index`` generates with: the base, or the previous stage's."""
        if index == 0:
            return self.base()
        from alignment.ray_serve import serve_stage_model

        previous = self.model_after(index - 1)
        if not previous.is_dir():
            raise RuntimeError(f"stage `{self.config.stages[index - 1]}` has no trained model yet "
                               f"({previous}); run `train --stage {index}` first.")
        return serve_stage_model(self.config.run_name, self.config.stages[index - 1], previous,
                                 self.config.stage_app_cpus)

    def _done(self, event: str, stage: str | None = None) -> bool:
        return any(e.get("event") == event and e.get("stage") == stage for e in self.run.events())

    # -- steps -----------------------------------------------------------------------------------
    def _ifeval(self, llm, stage: str) -> tuple[dict[str, Any], IFEvalScore]:
        """``llm`` on the IFEval subset: the record (per-prompt data included) and the score;
        every prompt's response and verdict also goes to ``events.jsonl``."""
        c = self.config
        result = ev.ifeval(llm, self.ifeval_items, chat=c.chat, max_tokens=c.eval.max_tokens)
        for key, response, verdict in zip(result.keys, result.responses, result.verdicts, strict=True):
            self.run.append({"event": "ifeval", "stage": stage, "key": key, "response": response,
                             **verdict})
        record = {"stage": stage, "ifeval": result.score.summary(),
                  "checker_errors": result.score.checker_errors, "ifeval_keys": result.keys,
                  "ifeval_vectors": result.score.to_dict(), "ifeval_responses": result.responses,
                  "ifeval_verdicts": result.verdicts}
        return record, result.score

    def baseline(self) -> dict[str, Any]:
        """The base model on the IFEval subset before stage 1 (once per run)."""
        path = self.run.path / "baseline.json"
        if path.exists():
            return json.loads(path.read_text())
        data, _ = self._ifeval(self.base(), "baseline")
        self.run.write_json("baseline.json", data)
        self.run.append({"event": "baseline", "stage": None, **_numbers({"ifeval": data["ifeval"]})})
        return data

    def generate(self, index: int) -> dict[str, Any]:
        """Stage ``index``'s data, made by the model before it."""
        c, stage = self.config, self.config.stages[index]
        store = self.store(index)
        if not store.is_done("pairs"):
            StageData(self.llm_before(index), self.constitution, self.constitution.stage(stage),
                      store, c.generate, chat=c.chat, heldout_prompts=self.ifeval_prompts).run()
        report = store.report().to_dict()
        if not self._done("generate", stage):
            self.run.append({"event": "generate", "stage": stage, "report": report})
        return report

    def _pair_split(self, index: int) -> tuple[list[dict], list[dict]]:
        pairs = budget_pairs(self.store(index).records("pairs"), self.config.generate.pair_budget)
        n_eval = int(round(len(pairs) * self.config.dpo.eval_fraction)) if len(pairs) > 1 else 0
        prompts = [p["prompt"] for p in pairs]
        _, held = split_heldout(prompts, n_eval)
        held_set = set(held)
        return ([p for p in pairs if p["prompt"] not in held_set],
                [p for p in pairs if p["prompt"] in held_set])

    def _sft_records(self, index: int) -> list[dict[str, Any]]:
        """SFT targets: the revisions (CAI sources) and the samples passing every constraint
        (rule source)."""
        store = self.store(index)
        return [*store.records("revisions"), *passing_records(store.records("rule_samples"))]

    def train(self, index: int, crash_after_step: int | None = None) -> dict[str, Any]:
        """SFT on the revisions and passing samples, then DPO on the pairs, under Ray Train.

        Raises:
            RuntimeError: the stage has no finished data, fewer pairs than
                ``dpo.min_pairs``, or no SFT target; before any training starts.
        """
        c, stage, out = self.config, self.config.stages[index], self.stage_dir(index)
        store = self.store(index)
        if not store.is_done("pairs"):
            raise RuntimeError(f"stage `{stage}` has no finished data; run `generate --stage {index + 1}`.")
        train_pairs, eval_pairs = self._pair_split(index)
        sft_records = self._sft_records(index)
        n_pairs = len(train_pairs) + len(eval_pairs)
        if n_pairs < c.dpo.min_pairs:
            raise RuntimeError(
                f"stage `{stage}` has {n_pairs} preference pairs, fewer than `dpo.min_pairs="
                f"{c.dpo.min_pairs}`: make more (e.g. raise `generate.rules.instructions` or "
                "`generate.rules.samples_per_instruction`; see the stage's manifest.json for "
                "what was skipped) or lower `dpo.min_pairs`.")
        if not sft_records:
            raise RuntimeError(f"stage `{stage}` has no SFT target (no revision and no sample "
                               "passing all its constraints): lower `generate.rules."
                               "constraints_per_instruction` or raise `samples_per_instruction`.")
        from alignment.ray_serve import stop_stage_apps
        from alignment.ray_train import fit

        start = self._base_path() if index == 0 else str(self.model_after(index - 1))
        if not (out / "dpo" / "result.json").exists():
            stop_stage_apps()  # their CPUs go to the training workers
        sft = fit("sft", start, sft_rows(sft_records, c.chat), out / "sft", c.train,
                  sft=c.sft, crash_after_step=crash_after_step)
        eps = c.dpo.max_smoothing if c.dpo.smoothing == "confidence" else 0.0
        dpo = fit("dpo", str(out / "sft" / "model"), _no_smoothing(dpo_rows(train_pairs, c.chat, eps), c),
                  out / "dpo", c.train, dpo=c.dpo,
                  eval_rows=_no_smoothing(dpo_rows(eval_pairs, c.chat, eps), c))
        result = {"sft": sft, "dpo": dpo, "train_pairs": len(train_pairs),
                  "eval_pairs": len(eval_pairs), "sft_rows": len(sft_records)}
        if not self._done("train", stage):
            self.run.append({"event": "train", "stage": stage, **_numbers(result)})
        return result

    def evaluate(self, index: int) -> dict[str, Any]:
        """IFEval (and stage minus base), judged win rate vs the base when the stage has
        held-out generated instructions, DPO reward metrics: ``eval.json``."""
        from alignment.ray_serve import serve_stage_model

        c, stage, out = self.config, self.config.stages[index], self.stage_dir(index)
        path = out / "eval.json"
        if path.exists():
            return json.loads(path.read_text())
        base = self.baseline()
        model = serve_stage_model(c.run_name, stage, self.model_after(index), c.stage_app_cpus)
        record, stage_score = self._ifeval(model, stage)
        if record["ifeval_keys"] != base["ifeval_keys"]:
            raise RuntimeError("baseline.json was scored on other IFEval prompts; delete it and "
                               "rerun `baseline`.")
        vs_base = paired_difference(stage_score, IFEvalScore.from_dict(base["ifeval_vectors"]),
                                    c.eval.bootstrap_resamples, seed=c.eval.ifeval_seed)
        comparison = self._compare(index, model)
        trained = json.loads((out / "dpo" / "result.json").read_text())
        sft = json.loads((out / "sft" / "result.json").read_text())
        report = self.store(index).report()
        pairs = budget_pairs(self.store(index).records("pairs"), c.generate.pair_budget)
        data = {**record, "vs_base": vs_base, **comparison,
                "reward_accuracy": trained.get("eval_rewards/accuracies"),
                "reward_margin": trained.get("eval_rewards/margins"),
                "sft_loss": sft.get("train_loss"), "dpo_loss": trained.get("train_loss"),
                "sft_rows": len(self._sft_records(index)), "pairs": len(pairs),
                "pairs_by_source": dict(Counter(p["source"] for p in pairs)),
                "skipped": sum(report.skipped().values()),
                "skipped_by_reason": dict(report.skipped())}
        write_json_atomic(path, data)
        self.run.append({"event": "evaluate", **_numbers(rep.slim(data))})
        return data

    def _compare(self, index: int, model) -> dict[str, Any]:
        """The judged comparison on the stage's held-out Self-Instruct instructions (none
        when the stage made its pairs from rules on built-in tasks)."""
        c, stage, out = self.config, self.config.stages[index], self.stage_dir(index)
        _, heldout = StageData(model, self.constitution, self.constitution.stage(stage),
                               self.store(index), c.generate, chat=c.chat).split()
        if not heldout:
            return {"win_rate": None, "judged": 0, "ties": 0, "comparison_skipped": {}}
        question = self.constitution.principle(c.eval.judge_principle).comparison
        comparison = ev.compare(model, self.base(), self.base(), heldout, question,
                                chat=c.chat, max_tokens=c.eval.max_tokens)
        for row in comparison.rows:
            self.run.append({"event": "comparison", "stage": stage, **row})
        (out / "comparison.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in comparison.rows))
        return {"win_rate": comparison.win_rate, "judged": comparison.judged,
                "ties": comparison.ties, "comparison_skipped": comparison.skipped}

    def report(self) -> dict[str, Any]:
        """``report.json``, ``report.md``, ``report.png``: baseline and every evaluated stage."""
        rows = []
        if (self.run.path / "baseline.json").exists():
            rows.append(self.baseline())
        for index in range(len(self.config.stages)):
            path = self.stage_dir(index) / "eval.json"
            if path.exists():
                rows.append(json.loads(path.read_text()))
        slim = [rep.slim(r) for r in rows]
        self.run.write_json("report.json", {"run": self.config.run_name, "rows": slim})
        (self.run.path / "report.md").write_text(rep.table(slim))
        rep.plot(slim, str(self.run.path / "report.png"))
        return {"rows": slim}

    def stages(self, stage: int | None) -> list[int]:
        """0-based indices for ``--stage N`` (1-based; all stages when ``None``)."""
        if stage is None:
            return list(range(len(self.config.stages)))
        if not 1 <= stage <= len(self.config.stages):
            raise ConfigError(f"`--stage {stage}` is out of range: this run has stages "
                              f"1..{len(self.config.stages)} ({self.config.stages}).")
        return [stage - 1]

    def run_all(self, stage: int | None = None) -> dict[str, Any]:
        """Baseline, then generate → train → evaluate for each stage; the report."""
        self.baseline()
        for index in self.stages(stage):
            self.generate(index)
            self.train(index)
            self.evaluate(index)
        return self.report()


def _no_smoothing(rows: list[dict[str, Any]], config: AlignmentConfig) -> list[dict[str, Any]]:
    """Drop the per-pair ε column when the loss does not use it."""
    if config.dpo.smoothing == "confidence":
        return rows
    return [{k: v for k, v in r.items() if k != "label_smoothing"} for r in rows]


def _numbers(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The scalar entries of a nested result (for ``events.jsonl``)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_numbers(value, f"{prefix}{key}."))
        elif isinstance(value, int | float | str) or value is None:
            out[f"{prefix}{key}"] = value
    return out

