"""rayopt.alignment: constitutional data generation, then SFT + DPO under Ray Train.

Pure algorithm modules (no ``ray``; collaborators such as the LLM are injected):
``constitution`` (principles + curriculum, validated), ``selfinstruct`` (+ ``rouge``),
``dialogue`` and ``critique`` (responses, critiques, revisions), ``judge`` (A/B from
log-probs), ``pairs`` (preference pairs), ``store`` (resumable per-stage JSONL),
``dpo_math`` (the DPO losses), ``fakes`` (test doubles).
"""
