"""rayopt.ecoflow: flow matching on sentence embeddings + GP-guided Bayesian optimization.

Pure algorithm modules (no ``ray``; collaborators come in through ``serving.protocols``):

- :mod:`ecoflow.model`: ``VelocityNetwork`` (DiT-style AdaLN MLP), ``FlowMatchingModel``
  (linear path, loss, normalization statistics), ``GaussianFlow`` (closed-form stand-in).
- :mod:`ecoflow.solver`: Euler and Heun from noise (t = 0) to data (t = 1).
- :mod:`ecoflow.surrogate`: ``GPSurrogate`` (BoTorch ``SingleTaskGP``), its confidence bound
  and gradient. Sign convention: the score is maximized; guidance ascends ``mu + kappa sigma``.
- :mod:`ecoflow.guidance`: ``GuidedFlowSampler`` (velocity + lambda(t) grad bound, CFG-Zero*).
- :mod:`ecoflow.bo`: ``FlowBO``, the sample → decode → score → refit loop, with resume.
"""
