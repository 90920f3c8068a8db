"""Energy and CO2 of a piece of work with codecarbon's ``OfflineEmissionsTracker``.

codecarbon measures GPU power through NVML and CPU power through Intel RAPL where the kernel
exposes it; otherwise it estimates CPU power from the processor's TDP and its load, and RAM
power always from its size. :func:`power_source` says which happened, so a reader can tell a
measured joule from an estimated one.

Inside :func:`track_energy`, a :class:`TaskMeter` measures intervals (codecarbon's
``start_task``/``stop_task``): the latency repeats use it for a per-repeat energy, hence a
standard error. :class:`FixedPowerMeter` is the deterministic stand-in for tests.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)

#: codecarbon CPU modes that read a hardware power counter.
MEASURED_CPU_MODES = ("intel_rapl", "intel_power_gadget", "windows_emi")


def power_source(hardware: list[Any]) -> str:
    """``"measured"`` when every tracked CPU/GPU reads a power counter, else ``"estimated"``,
    followed by the per-device detail (``"estimated: CPU(cpu_load), RAM(size)"``)."""
    parts, measured = [], True
    for h in hardware:
        kind = type(h).__name__
        if kind == "GPU":
            parts.append("GPU(nvml)")
        elif kind == "CPU":
            mode = getattr(h, "_mode", "unknown")
            parts.append(f"CPU({mode})")
            measured &= mode in MEASURED_CPU_MODES
        elif kind == "RAM":
            parts.append("RAM(size)")  # codecarbon derives RAM power from its size
        else:
            parts.append(kind)
    return ("measured" if measured else "estimated") + ": " + ", ".join(parts)


class TaskMeter:
    """Energy of intervals inside a running codecarbon tracker (its tasks)."""

    def __init__(self, tracker: Any) -> None:
        self.tracker, self.count = tracker, 0

    def start(self) -> None:
        """Begin an interval."""
        self.count += 1
        self.tracker.start_task(f"repeat-{self.count}")

    def stop(self) -> float:
        """kWh of the interval (NaN when codecarbon could not measure it; it logs why)."""
        data = self.tracker.stop_task()
        return float(data.energy_consumed) if data is not None else math.nan


class FixedPowerMeter:
    """A constant ``watts`` over each interval of ``clock``: exact energies for tests."""

    def __init__(self, watts: float, clock: Callable[[], float] = time.perf_counter) -> None:
        self.watts, self.clock, self._t0 = watts, clock, math.nan

    def start(self) -> None:
        """Begin an interval."""
        self._t0 = self.clock()

    def stop(self) -> float:
        """kWh of the interval."""
        return self.watts * (self.clock() - self._t0) / 3.6e6


@contextmanager
def track_energy(country_iso_code: str, out: dict[str, Any],
                 measure_power_secs: float = 1.0) -> Iterator[TaskMeter]:
    """Track the energy of the ``with`` body into ``out``; yields a :class:`TaskMeter`.

    Writes ``energy_kwh`` (CPU + GPU + RAM), ``cpu_energy_kwh``, ``gpu_energy_kwh``,
    ``co2_kg``, ``energy_duration_s``, ``power_source`` and ``country_iso_code``.

    Args:
        country_iso_code: Three-letter ISO code for the grid's carbon intensity ("USA").
        out: Dict the results go to (filled when the body finishes).
        measure_power_secs: codecarbon's sampling interval.
    """
    from codecarbon import OfflineEmissionsTracker

    tracker = OfflineEmissionsTracker(
        country_iso_code=country_iso_code, measure_power_secs=measure_power_secs,
        tracking_mode="process", log_level="error", output_methods=[],
        allow_multiple_runs=True,  # Tune trials on one node each run their own tracker
    )
    tracker.start()
    try:
        yield TaskMeter(tracker)
    finally:
        tracker.stop()
        data = tracker.final_emissions_data
        out.update({
            "energy_kwh": float(data.energy_consumed),
            "cpu_energy_kwh": float(data.cpu_energy),
            "gpu_energy_kwh": float(data.gpu_energy),
            "co2_kg": float(data.emissions),
            "energy_duration_s": float(data.duration),
            "power_source": power_source(tracker._hardware),
            "country_iso_code": country_iso_code,
        })
