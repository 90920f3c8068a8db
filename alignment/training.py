"""SFT and DPO with TRL on one process (no Ray here; :mod:`alignment.ray_train` places it on workers).

- **Data.** SFT rows are prompt-completion pairs (``instruction`` → ``revision``); the loss is
  on the completion only (TRL's ``completion_only_loss``). Instruct models get conversational
  rows (the chat template is applied by TRL), base models the CAI transcript
  (``Human: ...\\n\\nAssistant:``). DPO rows are TRL's ``prompt``/``chosen``/``rejected`` plus
  our per-pair ``label_smoothing`` (``1 - confidence`` of the judge).
- **Label smoothing from confidence.** TRL's ``robust`` loss reads one scalar
  ``label_smoothing``; :class:`ConfidenceDPOTrainer` sets it to the batch's per-pair tensor
  for each loss call, so each pair gets its own ε (the rDPO formula is elementwise). TRL's
  ``sigmoid`` ignores label smoothing altogether, so :class:`DPOSettings` rejects
  ``smoothing: confidence`` with ``sigmoid`` and says to use ``robust`` (``ipo`` has none).
- **LoRA / QLoRA / full.** ``lora`` adds a peft adapter on every linear layer; ``qlora``
  loads the base in bitsandbytes nf4 first; neither trains every weight. The DPO reference
  is the policy with its adapter disabled (LoRA) or a frozen copy (full).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

log = logging.getLogger(__name__)

Tuning = Literal["lora", "qlora", "full"]


@dataclass
class TrainSettings:
    """What SFT and DPO share.

    Attributes:
        tuning: ``lora``, ``qlora`` (4-bit nf4 base + LoRA) or ``full`` fine-tuning.
        lora_r, lora_alpha, lora_dropout: the adapter's rank, scale and dropout.
        batch_size: pairs (DPO) or rows (SFT) per worker per step.
        max_steps: optimizer steps (``-1``: ``epochs`` passes over the data).
        epochs: passes over the data when ``max_steps`` is -1.
        max_length: tokens per sequence (longer ones are truncated).
        save_steps: checkpoint every this many steps (and at the end).
        num_workers: Ray Train workers (DDP).
        cpus_per_worker: CPUs per worker (its torch threads follow).
        use_gpu: one GPU per worker, nccl and bf16; else gloo and fp32.
        max_failures: worker-failure restarts from the latest checkpoint.
        seed: data order and adapter initialization.
    """

    tuning: Tuning = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.0
    batch_size: int = 2
    max_steps: int = -1
    epochs: float = 1.0
    max_length: int = 512
    save_steps: int = 50
    num_workers: int = 2
    cpus_per_worker: float = 1.0
    use_gpu: bool = False
    max_failures: int = 1
    seed: int = 0


@dataclass
class SFTSettings:
    """Supervised fine-tuning on the revisions.

    Attributes:
        learning_rate: AdamW learning rate.
    """

    learning_rate: float = 2e-4


@dataclass
class DPOSettings:
    """Direct preference optimization on the pairs.

    Attributes:
        loss_type: ``sigmoid`` (DPO), ``ipo`` or ``robust`` (rDPO, unbiased under label noise).
        beta: KL strength β (τ for ``ipo``).
        smoothing: ``confidence`` (per-pair ε = 1 - judge confidence, ``robust`` only) or
            ``none``.
        max_smoothing: ε is capped here (rDPO divides by 1 - 2ε).
        learning_rate: AdamW learning rate.
        eval_fraction: share of the pairs held out for reward accuracy / margins.
        min_pairs: a stage with fewer pairs stops before training, with the fix named.
    """

    loss_type: Literal["sigmoid", "ipo", "robust"] = "robust"
    beta: float = 0.1
    smoothing: Literal["confidence", "none"] = "confidence"
    max_smoothing: float = 0.4
    learning_rate: float = 5e-5
    eval_fraction: float = 0.2
    min_pairs: int = 16

    def __post_init__(self) -> None:
        from serving.config import ConfigError

        if self.smoothing == "confidence" and self.loss_type != "robust":
            raise ConfigError(
                f"`dpo.smoothing: confidence` needs `dpo.loss_type: robust`; TRL's `{self.loss_type}` "
                "loss ignores label smoothing. Set `dpo.smoothing=none` or `dpo.loss_type=robust`.")
        if not 0.0 <= self.max_smoothing < 0.5:
            raise ConfigError("`dpo.max_smoothing` must lie in [0, 0.5).")
        if self.beta <= 0:
            raise ConfigError("`dpo.beta` must be > 0.")


# -- data -----------------------------------------------------------------------------------
def transcript_prompt(instruction: str) -> str:
    """A base model's prompt (the CAI transcript the data was generated with)."""
    return f"Human: {instruction}\n\nAssistant:"


def sft_rows(records: list[dict[str, Any]], chat: bool) -> list[dict[str, Any]]:
    """Prompt-completion rows from revision records (``instruction`` → ``revision``)."""
    if chat:
        return [{"prompt": [{"role": "user", "content": r["instruction"]}],
                 "completion": [{"role": "assistant", "content": r["revision"]}]} for r in records]
    return [{"prompt": transcript_prompt(r["instruction"]), "completion": " " + r["revision"]}
            for r in records]


def dpo_rows(pairs: list[dict[str, Any]], chat: bool, max_smoothing: float) -> list[dict[str, Any]]:
    """TRL preference rows (+ ``label_smoothing``) from :class:`~alignment.pairs.PreferencePair`
    records."""
    rows = []
    for p in pairs:
        eps = min(max(1.0 - float(p["confidence"]), 0.0), max_smoothing)
        if chat:
            row = {"prompt": [{"role": "user", "content": p["prompt"]}],
                   "chosen": [{"role": "assistant", "content": p["chosen"]}],
                   "rejected": [{"role": "assistant", "content": p["rejected"]}]}
        else:
            row = {"prompt": transcript_prompt(p["prompt"]), "chosen": " " + p["chosen"],
                   "rejected": " " + p["rejected"]}
        rows.append({**row, "label_smoothing": eps})
    return rows


# -- models ---------------------------------------------------------------------------------
def load_model(path: str, settings: TrainSettings):
    """The causal LM to train (nf4-quantized for ``qlora``) and its tokenizer."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    dtype = torch.bfloat16 if settings.use_gpu else torch.float32
    kwargs: dict[str, Any] = {"dtype": dtype}
    if settings.tuning == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype,
            bnb_4bit_use_double_quant=True)
    model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
    if settings.tuning == "qlora":
        from peft import prepare_model_for_kbit_training

        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    return model, tokenizer


def peft_config(settings: TrainSettings):
    """The LoRA config (``None`` for full fine-tuning)."""
    if settings.tuning == "full":
        return None
    from peft import LoraConfig

    return LoraConfig(r=settings.lora_r, lora_alpha=settings.lora_alpha,
                      lora_dropout=settings.lora_dropout, target_modules="all-linear",
                      task_type="CAUSAL_LM")


def common_args(settings: TrainSettings, output_dir: Path, learning_rate: float) -> dict[str, Any]:
    """``TrainingArguments`` fields SFT and DPO share."""
    return {
        "output_dir": str(output_dir), "per_device_train_batch_size": settings.batch_size,
        "per_device_eval_batch_size": settings.batch_size, "max_steps": settings.max_steps,
        "num_train_epochs": settings.epochs, "learning_rate": learning_rate,
        "max_length": settings.max_length, "save_strategy": "steps",
        "save_steps": settings.save_steps, "save_total_limit": 2, "logging_steps": 1,
        "report_to": "none", "seed": settings.seed, "bf16": settings.use_gpu,
        "use_cpu": not settings.use_gpu, "ddp_find_unused_parameters": False,
        "dataloader_num_workers": 0, "disable_tqdm": True, "save_only_model": False,
    }


def _trl_dpo_trainer_class():
    from trl import DPOTrainer
    from trl.trainer.dpo_trainer import DataCollatorForPreference

    class ConfidenceDPOTrainer(DPOTrainer):
        """TRL's ``DPOTrainer`` with one label-smoothing ε per pair (see the module doc)."""

        def _set_signature_columns_if_needed(self):
            super()._set_signature_columns_if_needed()
            if "label_smoothing" not in self._signature_columns:
                self._signature_columns.append("label_smoothing")

        def _compute_loss(self, model, inputs, return_outputs):
            eps = inputs.pop("label_smoothing", None)
            if eps is None or self.loss_types != ["robust"]:
                return super()._compute_loss(model, inputs, return_outputs)
            scalar, self.label_smoothing = self.label_smoothing, eps
            try:
                return super()._compute_loss(model, inputs, return_outputs)
            finally:
                self.label_smoothing = scalar

    @dataclass
    class ConfidenceCollator(DataCollatorForPreference):
        """TRL's preference collator, also batching ``label_smoothing``."""

        def torch_call(self, examples):
            out = super().torch_call(examples)
            if "label_smoothing" in examples[0]:
                out["label_smoothing"] = torch.tensor(
                    [float(e["label_smoothing"]) for e in examples], dtype=torch.float32)
            return out

    return ConfidenceDPOTrainer, ConfidenceCollator


def build_sft_trainer(model_path: str, rows: list[dict[str, Any]], settings: TrainSettings,
                      sft: SFTSettings, output_dir: Path, callbacks: list | None = None):
    """TRL's ``SFTTrainer`` with the loss on the completions only."""
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    model, tokenizer = load_model(model_path, settings)
    args = SFTConfig(**common_args(settings, output_dir, sft.learning_rate),
                     completion_only_loss=True, packing=False, dataset_num_proc=None)
    return SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows),
                      processing_class=tokenizer, peft_config=peft_config(settings),
                      callbacks=callbacks)


def build_dpo_trainer(model_path: str, rows: list[dict[str, Any]], eval_rows: list[dict[str, Any]],
                      settings: TrainSettings, dpo: DPOSettings, output_dir: Path,
                      callbacks: list | None = None):
    """TRL's ``DPOTrainer`` (per-pair ε for ``robust``) with held-out pairs for reward metrics."""
    from datasets import Dataset
    from trl import DPOConfig

    trainer_cls, collator_cls = _trl_dpo_trainer_class()
    model, tokenizer = load_model(model_path, settings)
    args = DPOConfig(**common_args(settings, output_dir, dpo.learning_rate),
                     loss_type=[dpo.loss_type], beta=dpo.beta,
                     label_smoothing=dpo.max_smoothing if dpo.smoothing == "confidence" else 0.0,
                     eval_strategy="no", remove_unused_columns=False)
    return trainer_cls(
        model=model, args=args, train_dataset=Dataset.from_list(rows),
        eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
        processing_class=tokenizer, peft_config=peft_config(settings),
        data_collator=collator_cls(pad_token_id=tokenizer.pad_token_id, max_length=settings.max_length),
        callbacks=callbacks)


def save_result(trainer, out_dir: Path, settings: TrainSettings) -> None:
    """Write the adapter (or the full model) and a merged, servable model folder.

    ``out_dir/adapter`` holds the peft adapter (LoRA/QLoRA); ``out_dir/model`` is always a
    plain Hugging Face folder (the adapter merged into an fp32 copy of the base) that the
    ``llm`` app serves and the next step trains from.
    """
    model = trainer.accelerator.unwrap_model(trainer.model)
    tokenizer = trainer.processing_class
    if settings.tuning == "full":
        model.save_pretrained(out_dir / "model")
        tokenizer.save_pretrained(out_dir / "model")
        return
    model.save_pretrained(out_dir / "adapter")
    merge_adapter(out_dir / "adapter", out_dir / "model")


def merge_adapter(adapter_dir: Path, target: Path) -> Path:
    """Merge a peft adapter into an fp32 copy of its base (QLoRA adapters too) and save it."""
    from peft import AutoPeftModelForCausalLM
    from transformers import AutoTokenizer

    model = AutoPeftModelForCausalLM.from_pretrained(str(adapter_dir), dtype=torch.float32)
    merged = model.merge_and_unload()
    merged.config.quantization_config = None
    if hasattr(merged.config, "__dict__"):
        merged.config.__dict__.pop("quantization_config", None)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    merged.save_pretrained(tmp)
    base = model.peft_config["default"].base_model_name_or_path
    AutoTokenizer.from_pretrained(base).save_pretrained(tmp)
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)  # a folder named `model` is always complete
    return target
