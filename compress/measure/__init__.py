"""Measurements of a compressed model: lm-eval accuracy on local tasks, latency, memory,
size, energy and CO2. :func:`~compress.measure.run.measure_in_subprocess` runs them all in a
fresh process."""
