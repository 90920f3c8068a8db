"""Multi-objective search shared by promptopt and compress (below both, above serving).

- :mod:`moo.searchers`: searchers built from one :class:`~moo.searchers.problem.SearchProblem`
  (Ax, Optuna, random, the LLM coordinator) as Ray Tune ``Searcher`` objects, with the pure
  parts (problem, encoding, exclusion, registry) importable without Ray or Ax;
- :mod:`moo.pareto`: Pareto front, hypervolume and crowding distance;
- :mod:`moo.report` + :mod:`moo.figures`: an experiment folder's Pareto report and figures;
- :mod:`moo.dashboard`: the web dashboard of Pareto fronts.
"""
