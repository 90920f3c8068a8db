"""BoTorch's fused qLogNEHVI kernel (``logei_fused_ext``), built once per machine, safely.

BoTorch compiles the kernel with ``torch.utils.cpp_extension.load`` the first time the
acquisition is built, behind torch's lock *file* in ``~/.cache/torch_extensions``: a process
killed while compiling (a timed-out trial, Ctrl-C) leaves that file behind and every later
search on the machine waits on it forever (seen in CI). Without the kernel BoTorch takes its
PyTorch path: the same values, measured 2.62 s per Ax step instead of 1.54 s.

Here the kernel is built into ``$RAYOPT_CACHE_DIR/kernels/logei_fused_ext-<key>/`` (the key
hashes the torch, BoTorch and Python versions, the kernel source and the CPU's flags: the
build uses ``-march=native``) under an ``fcntl.flock`` lock, which the kernel releases when
its holder dies, however it dies. The holder removes torch's own stale ``lock`` file first
(no other builder can be running while it holds the flock). A finished build writes
``built.json``; later processes load the library directly, with no lock and no compiler.
A failed build writes ``failed.json`` (delete it to retry) and every search takes the PyTorch
path with a logged warning; an interrupted build leaves neither file, so the next search
builds again. BoTorch itself never compiles at run time.

``RAYOPT_FUSED_KERNEL=off`` skips the build (the tests set it; only the kernel test builds).
No ``ray`` here.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import importlib.util
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

logger = logging.getLogger(__name__)

KERNEL = "logei_fused_ext"
ENV = "RAYOPT_FUSED_KERNEL"
#: How long a search waits for another process's build before taking the PyTorch path.
LOCK_WAIT_S = 600.0

#: ``build(folder) -> library path``: compiles the kernel into ``folder``.
BuildFn = Callable[[Path], Path]


def kernel_source() -> Path:
    """BoTorch's C++ source of the kernel."""
    import botorch

    return Path(botorch.__file__).resolve().parent / "csrc" / "logei_fused.cpp"


def _cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.processor()
    return next((line for line in text.splitlines() if line.startswith(("flags", "Features"))),
                platform.processor())


def kernel_dir(root: Path | None = None) -> Path:
    """The build folder of this machine's kernel (see the module doc for the key)."""
    import botorch
    import torch

    from serving.models import cache_dir

    source = kernel_source()
    parts = [torch.__version__, botorch.__version__, sys.version, platform.machine(),
             _cpu_flags(), source.read_text() if source.is_file() else ""]
    key = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]
    return Path(root or cache_dir()) / "kernels" / f"{KERNEL}-{key}"


def torch_build(folder: Path) -> Path:
    """Compile the kernel into ``folder`` with torch's JIT builder (about a minute)."""
    from torch.utils.cpp_extension import load

    load(name=KERNEL, sources=[str(kernel_source())], extra_cflags=["-O3", "-march=native"],
         build_directory=str(folder), verbose=False, is_python_module=True)
    return folder / f"{KERNEL}.so"


def _acquire(path: Path, timeout_s: float, poll_s: float = 0.2) -> int | None:
    """An fd holding an exclusive flock on ``path``, or None after ``timeout_s``."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(poll_s)


def _built(folder: Path) -> Path | None:
    done = folder / "built.json"
    if not done.is_file():
        return None
    library = Path(json.loads(done.read_text())["library"])
    return library if library.is_file() else None


def build_once(folder: Path, build: BuildFn, timeout_s: float = LOCK_WAIT_S) -> Path | None:
    """The kernel library in ``folder``, built under an flock when missing.

    Returns:
        The library path, or None (logged) when the build failed now or earlier, or another
        process held the lock for longer than ``timeout_s``.
    """
    if (library := _built(folder)) is not None:
        return library  # the common case: no lock, no compiler
    failed = folder / "failed.json"
    folder.mkdir(parents=True, exist_ok=True)
    fd = _acquire(folder / ".flock", timeout_s)
    if fd is None:
        logger.warning("another process has been building BoTorch's fused kernel in %s for "
                       "over %.0f s; this search takes the PyTorch path", folder, timeout_s)
        return None
    try:
        if (library := _built(folder)) is not None:
            return library  # built by the process we waited for
        if failed.is_file():
            logger.warning("BoTorch's fused kernel failed to build earlier (%s); PyTorch path. "
                           "Delete that file to try again.", failed)
            return None
        (folder / "lock").unlink(missing_ok=True)  # torch's baton, left by a killed build
        logger.info("building BoTorch's fused qLogNEHVI kernel once into %s (about a minute)",
                    folder)
        start = time.perf_counter()
        try:
            library = build(folder)
        except Exception as exc:  # noqa: BLE001 -- any compiler failure means the PyTorch path
            failed.write_text(json.dumps({"error": repr(exc), "time": time.time()}))
            logger.warning("building BoTorch's fused kernel failed (%r); searches take the "
                           "PyTorch path (same values, slower). Details: %s", exc, failed)
            return None
        tmp = folder / ".built.json.tmp"
        tmp.write_text(json.dumps({"library": str(library), "seconds": time.perf_counter() - start}))
        tmp.replace(folder / "built.json")
        return library
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def load_library(path: Path) -> ModuleType:
    """Import the built extension module at ``path`` (torch must be imported first)."""
    import torch  # noqa: F401  (the library links against libtorch)

    spec = importlib.util.spec_from_file_location(KERNEL, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as the `{KERNEL}` module.")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ensure_fused_kernel(build: BuildFn = torch_build, root: Path | None = None,
                        timeout_s: float = LOCK_WAIT_S) -> bool:
    """Give BoTorch the fused kernel (built once per machine); never let BoTorch compile it.

    Args:
        build: Compiles the kernel into a folder (tests inject a fake).
        root: Cache root (default ``$RAYOPT_CACHE_DIR``).
        timeout_s: Wait for another process's build at most this long.

    Returns:
        True when BoTorch uses the fused kernel, False for its PyTorch path (logged).

    Raises:
        ValueError: If ``RAYOPT_FUSED_KERNEL`` is not ``auto`` or ``off``.
    """
    from botorch.acquisition.multi_objective import logei

    if logei._C is not None:
        return True
    if logei._load_attempted:
        return False  # decided earlier in this process
    logei._load_attempted = True  # BoTorch's own run-time compile is never attempted
    mode = os.environ.get(ENV, "auto")
    if mode not in ("auto", "off"):
        raise ValueError(f"{ENV}={mode!r}: use `auto` (build once, then load) or `off`.")
    if importlib.util.find_spec(KERNEL) is not None:  # a prebuilt, installed module
        logei._C = importlib.import_module(KERNEL)
        return True
    if mode == "off":
        logger.info("BoTorch's fused qLogNEHVI kernel is off (%s=off): PyTorch path.", ENV)
        return False
    library = build_once(kernel_dir(root), build, timeout_s)
    if library is None:
        return False
    try:
        logei._C = load_library(library)
    except (ImportError, OSError) as exc:
        logger.warning("loading BoTorch's fused kernel %s failed (%r); PyTorch path.", library, exc)
        return False
    return True
