"""Energy and CO2 of a piece of work with codecarbon's ``OfflineEmissionsTracker``.

codecarbon measures GPU power through NVML and CPU power through Intel RAPL where the kernel
exposes it; otherwise it estimates CPU power from the processor's TDP and its load, and RAM
power always from its size. :func:`power_source` says which happened, so a reader can tell a
measured joule from an estimated one.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
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


@contextmanager
def track_energy(country_iso_code: str, out: dict[str, Any],
                 measure_power_secs: float = 1.0) -> Iterator[None]:
    """Track the energy of the ``with`` body into ``out``.

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
        yield
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
