"""rayopt.compress: multi-objective search over LLM compression configurations.

- :mod:`moo.pareto`: non-dominated sets, hypervolume and crowding distance over mixed
  max/min objectives (pure; wraps BoTorch).
- :mod:`moo.searchers`: Ray Tune searchers (Ax qLogNEHVI, Optuna NSGA-II/TPE/GP,
  random) built from one :class:`~moo.searchers.problem.SearchProblem`.
- :mod:`compress.space`: the conditional search space (quantization × pruning), methods that
  cannot run here excluded with a reason; :mod:`compress.methods`: the compression functions.
- :mod:`compress.measure`: lm-eval accuracy on local GSM8K tasks, latency, memory, size,
  energy/CO2 of a saved model (in a fresh process).
- :mod:`compress.trial`: compress + measure one config; :mod:`compress.ray_search`: the Ray Tune
  search with resume; :mod:`compress.experiment`: ``events.jsonl`` → ``results.csv``.
- :mod:`compress.design` + :mod:`compress.ray_grid`: a fixed design (standard configs + Sobol)
  measured like a search → ``grid.json``; :mod:`compress.replay`: searching that table
  (``benchmarks/compress_replay.py``).
- :mod:`moo.report`, :mod:`moo.dashboard`: Pareto artifacts and the web page.
"""
