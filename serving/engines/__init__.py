"""Engines behind the ``llm`` app: ``hf`` (transformers, the light default) and ``vllm``."""
