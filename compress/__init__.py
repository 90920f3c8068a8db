"""rayopt.compress: multi-objective search over LLM compression configurations.

- :mod:`compress.pareto`: non-dominated sets, hypervolume and crowding distance over mixed
  max/min objectives (pure; wraps BoTorch).
- :mod:`compress.searchers`: Ray Tune searchers (Ax qLogNEHVI, Optuna NSGA-II/TPE/GP,
  random) built from one :class:`~compress.searchers.problem.SearchProblem`.

Compression methods, measurements, reports and the dashboard build on these.
"""
