"""rayopt.ecoflow: flow matching on sentence embeddings + GP-guided Bayesian optimization.

Pure algorithm modules (no ``ray``; collaborators come in through ``serving.protocols``):

- :mod:`ecoflow.model`: ``VelocityNetwork`` (DiT-style AdaLN MLP), ``FlowMatchingModel``
  (linear path, loss, normalization statistics), ``GaussianFlow`` (closed-form stand-in).
- :mod:`ecoflow.solver`: Euler and Heun from noise (t = 0) to data (t = 1).
- :mod:`ecoflow.surrogate`: ``GPSurrogate`` (BoTorch ``SingleTaskGP``), its confidence bound
  and gradient. Sign convention: the score is maximized; guidance ascends ``mu + kappa sigma``.
- :mod:`ecoflow.guidance`: ``GuidedFlowSampler`` (velocity + lambda(t) grad bound, CFG-Zero*).
- :mod:`ecoflow.bo`: ``FlowBO``, the sample → decode → score → refit loop, with resume.
- :mod:`ecoflow.bank` / :mod:`ecoflow.corpus`: seed instructions; texts → ``corpus.pt``.
- :mod:`ecoflow.induce` / :mod:`ecoflow.sources`: instructions induced from a task's examples;
  which sources a task's corpus uses by default (task-general; GSM8K's only on gsm8k).
- :mod:`ecoflow.training`: the epoch loop, split/sharding, parameter digests (pure torch).
- :mod:`ecoflow.decoder`: retrieve-and-rewrite decoder (the ``embed`` app's plugin).
- :mod:`ecoflow.validate`: samples vs held-out embeddings (NN distances, mean/cov gaps).
- :mod:`ecoflow.history`: BO events as ``events.jsonl`` lines (promptopt's format), warm start.

Ray wiring: :mod:`ecoflow.ray_train` (``TorchTrainer`` + DDP), :mod:`ecoflow.jobs` (embed, train,
validate), :mod:`ecoflow.optimize` (the BO run against the shared apps with promptopt's
evaluator and report), :mod:`ecoflow.demo` (all of them in turn) and ``python -m ecoflow``
(configs in :mod:`ecoflow.config`).
:mod:`ecoflow.bench` is one equal-budget run for ``benchmarks/optimizer_gains.py`` without
Ray: the deployed apps over HTTP, the flow trained in-process (``docs/ecoflow.md``).
"""
