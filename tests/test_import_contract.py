"""The import contract: algorithm cores import no Ray; Ray wiring is named as such.

Every module of the packages is a core unless it is wiring: a module named ``ray_*.py``
or one listed in :data:`WIRING` with the reason. Each core is imported in a fresh process and
``ray`` must not be in its ``sys.modules`` afterwards. compress's measuring child
(``python -m compress.measure.run``, a fresh process per trial so that its peak memory is the
compressed model's own) must not load Ax or BoTorch either.

Fresh process: one probe interpreter imports torch and numpy (slow to import, and neither
imports Ray, Ax or BoTorch: the probe checks), then forks one child per module; each child
starts with no project module loaded, imports its module, reports ``sys.modules`` and exits.
So no module is checked after another one has already imported something.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("serving", "moo", "promptopt", "ecoflow", "compress", "alignment")

#: Wiring not named ``ray_*``: module → why it imports Ray when imported.
WIRING = {
    "serving.llm_app": "the `llm` Serve deployment and its builder",
    "serving.embed_app": "the `embed` Serve deployment and its builder",
}
#: Module → what else it must not load (beyond ``ray``).
EXTRA_FORBIDDEN = {"compress.measure.run": ("ax", "botorch")}

PROBE = r"""
import importlib, json, os, sys
WATCH = ("ray", "ax", "botorch")
PROJECT = tuple(os.environ["PROBE_PACKAGES"].split(","))
for name in ("torch", "numpy"):
    importlib.import_module(name)
clean = [m for m in sys.modules if m.split(".")[0] in WATCH + PROJECT]
assert not clean, f"the probe itself loaded {clean}"
report = {}
for mod in sys.argv[1:]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            importlib.import_module(mod)
            res = {"loaded": [x for x in WATCH if x in sys.modules]}
        except BaseException as exc:
            res = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(w, json.dumps(res).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 1 << 16):
        data += chunk
    os.close(r)
    _, status = os.waitpid(pid, 0)
    report[mod] = json.loads(data) if data else {"error": f"child died (status {status})"}
print(json.dumps(report))
"""


def module_names() -> list[str]:
    names = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names.append(".".join(parts))
    return names


def is_wiring(module: str) -> bool:
    return module.rsplit(".", 1)[-1].startswith("ray_") or module in WIRING


def test_wiring_list_names_existing_modules() -> None:
    stale = sorted(set(WIRING) - set(module_names()))
    assert not stale, f"WIRING lists modules that no longer exist: {stale}"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="the probe forks")
def test_cores_import_no_ray() -> None:
    cores = [m for m in module_names() if not is_wiring(m)]
    proc = subprocess.run([sys.executable, "-c", PROBE, *cores], cwd=ROOT, capture_output=True,
                          text=True, timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT),
                                                "PROBE_PACKAGES": ",".join(PACKAGES)})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    errors = {m: r["error"] for m, r in report.items() if "error" in r}
    assert not errors, f"cores that fail to import: {errors}"
    leaks = {}
    for mod, res in report.items():
        forbidden = {"ray", *EXTRA_FORBIDDEN.get(mod, ())}
        if bad := forbidden & set(res["loaded"]):
            leaks[mod] = sorted(bad)
    assert not leaks, (
        f"cores that load Ray (or, for the measuring child, Ax/BoTorch) on import: {leaks}. "
        "Import it inside the function that needs it, or move the Ray code into a `ray_*.py` "
        "module.")
    assert set(report) == set(cores)

