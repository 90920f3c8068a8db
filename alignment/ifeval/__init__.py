"""IFEval (Zhou et al. 2023) as the alignment yardstick, scored by the checker lm-eval ships.

- :mod:`~alignment.ifeval.offline`: NLTK's ``punkt_tab`` data supplied offline, then
  lm-eval's ``lm_eval.tasks.ifeval`` modules imported (its import-time download never runs).
- :mod:`~alignment.ifeval.checker`: one response against a list of constraints, strict and
  loose, through lm-eval's own evaluation functions; a checker exception fails that
  constraint and is logged.
- :mod:`~alignment.ifeval.data`: the 541 IFEval prompts from a folder (``$IFEVAL_DIR``) and
  a fixed, seeded evaluation subset.
- :mod:`~alignment.ifeval.score`: prompt- and instruction-level accuracy with Wilson
  intervals, and the paired bootstrap of a difference.
- :mod:`~alignment.ifeval.templates`: IFEval-style constraints for *training* instructions,
  their text written by lm-eval's own ``build_description`` so text and checker agree.

Nothing here imports ``ray``.
"""
