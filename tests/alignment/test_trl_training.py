"""TRL training on a tiny random Llama: the DPO loss is ours, LoRA trains only the adapter.

The tiny model (2 layers, width 32) uses the embedded SmolLM2 tokenizer; no Ray here.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from alignment.dpo_math import dpo_loss  # noqa: E402
from alignment.training import DPOSettings, TrainSettings, build_dpo_trainer, dpo_rows  # noqa: E402

pytestmark = pytest.mark.slow

PAIRS = [
    {"prompt": "Name a colour.", "chosen": "Blue.", "rejected": "I refuse to answer that.", "confidence": 0.9},
    {"prompt": "Say hi.", "chosen": "Hi there!", "rejected": "No.", "confidence": 0.7},
]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> str:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from serving.models import resolve_model

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m-instruct"))
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
                         eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=True)
    path = tmp_path_factory.mktemp("tiny") / "model"
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def trained(tiny_model: str, tmp_path, steps: int):
    settings = TrainSettings(tuning="lora", max_steps=steps, batch_size=2, num_workers=1, save_steps=100,
                             lora_r=4, lora_alpha=8)
    dpo = DPOSettings(loss_type="robust", beta=0.5, learning_rate=5e-2)
    rows = dpo_rows(PAIRS, chat=True, max_smoothing=dpo.max_smoothing)
    trainer = build_dpo_trainer(tiny_model, rows, [], settings, dpo, tmp_path)
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    return trainer, before


def test_lora_step_changes_every_adapter_weight_and_no_base_weight(tiny_model, tmp_path):
    trainer, before = trained(tiny_model, tmp_path, steps=2)  # step 1 moves B (init 0), step 2 A
    after = dict(trainer.model.named_parameters())
    lora = [n for n in before if "lora_" in n]
    assert lora and all(after[n].requires_grad for n in lora)
    assert [n for n in lora if torch.equal(before[n], after[n])] == []
    assert [n for n in before if "lora_" not in n and not torch.equal(before[n], after[n])] == []


def _completion_logps(model, batch) -> torch.Tensor:
    """Summed log-probs of the completion tokens of each row (by hand, from the logits)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits
    logps = torch.log_softmax(logits[:, :-1].float(), dim=-1)
    token = logps.gather(-1, batch["input_ids"][:, 1:, None]).squeeze(-1)
    return (token * batch["completion_mask"][:, 1:]).sum(-1)


def test_trl_robust_loss_with_per_pair_smoothing_equals_dpo_math(tiny_model, tmp_path):
    """After a step (policy != reference), TRL's loss on a batch is the rDPO formula
    ``((1-ε)(-log σ(βΔ)) - ε(-log σ(-βΔ))) / (1-2ε)`` with each pair's own ε = 1 - confidence."""
    trainer, _ = trained(tiny_model, tmp_path, steps=1)
    model = trainer.model.eval()
    batch = trainer.data_collator([trainer.train_dataset[i] for i in range(2)])
    assert batch["label_smoothing"].tolist() == pytest.approx([0.1, 0.3])
    with torch.no_grad():
        policy = _completion_logps(model, batch)
        with model.disable_adapter():
            reference = _completion_logps(model, batch)
        expected = dpo_loss(policy[:2], policy[2:], reference[:2], reference[2:], beta=0.5,
                            loss_type="robust", label_smoothing=torch.tensor([0.1, 0.3]))
        got = trainer.compute_loss(model, dict(batch))
    assert abs(expected.reward_margin) > 1e-4  # the policy really moved away from the reference
    assert got.item() == pytest.approx(expected.loss.item(), rel=1e-4, abs=1e-6)
    assert trainer.label_smoothing == pytest.approx(0.4)  # the scalar is restored after the call


def test_sft_loss_is_on_the_response_only(tiny_model, tmp_path):
    from alignment.training import SFTSettings, build_sft_trainer, sft_rows

    rows = sft_rows([{"instruction": "Name a colour.", "revision": "Blue."}], chat=True)
    trainer = build_sft_trainer(tiny_model, rows, TrainSettings(max_steps=1, num_workers=1),
                                SFTSettings(), tmp_path)
    row = trainer.train_dataset[0]
    batch = trainer.data_collator([row])
    labelled = batch["labels"][0][batch["labels"][0] != -100]
    text = trainer.processing_class.decode(labelled)
    assert text.startswith("Blue.") and "Name a colour" not in text  # prompt tokens carry no loss


def test_robust_loss_without_smoothing_uses_epsilon_zero(tiny_model, tmp_path):
    """``dpo.smoothing=none`` with ``robust``: no per-pair ε and a scalar ε of 0 (plain DPO)."""
    rows = [{k: v for k, v in r.items() if k != "label_smoothing"} for r in dpo_rows(PAIRS, True, 0.4)]
    trainer = build_dpo_trainer(tiny_model, rows, [], TrainSettings(max_steps=1, num_workers=1),
                                DPOSettings(loss_type="robust", smoothing="none"), tmp_path)
    assert trainer.args.label_smoothing == 0.0 and trainer.label_smoothing == 0.0
