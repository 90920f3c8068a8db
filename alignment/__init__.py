"""rayopt.alignment: constitutional data generation, then SFT + DPO under Ray Train.

Pure algorithm modules (no ``ray``; collaborators such as the LLM are injected):
``constitution`` (principles + curriculum, validated), ``selfinstruct`` (+ ``rouge``),
``dialogue`` and ``critique`` (responses, critiques, revisions), ``judge`` (A/B from
log-probs), ``pairs`` (preference pairs), ``store`` (resumable per-stage JSONL),
``generate`` (one stage's data, in resumable shards), ``ifeval`` (lm-eval's IFEval checker
offline, the held-out subset, scores with intervals, constraint templates), ``rulegen`` +
``base_tasks`` (verifiable-rule preference pairs), ``evaluate`` (IFEval, base-vs-stage
comparison), ``report`` (the table and plot),
``dpo_math`` (the DPO losses), ``training`` (TRL SFT/DPO trainers, LoRA/QLoRA/full, per-pair
label smoothing), ``fakes`` (test doubles).

Ray wiring: ``train`` (TorchTrainer workers, checkpoints, resume), ``serve`` (a stage's
model as its own app from the ``llm`` app builder), ``pipeline`` and ``__main__`` (the CLI).
"""
