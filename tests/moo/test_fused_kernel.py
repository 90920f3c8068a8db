"""BoTorch's fused kernel built once under an flock: a killed or failed build never blocks a
later search. Fast tests inject a fake build; the slow one compiles the real kernel."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from botorch.acquisition.multi_objective import logei

from moo.searchers import fused_kernel
from moo.searchers.fused_kernel import build_once, ensure_fused_kernel

HOLD_LOCK = textwrap.dedent(
    """
    import fcntl, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    print("locked", flush=True)
    time.sleep(600)
    """
)


class FakeBuild:
    """Writes a fake library; records whether torch's stale baton was gone when it ran."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.calls, self.fail, self.saw_baton = 0, fail, None

    def __call__(self, folder: Path) -> Path:
        self.calls += 1
        self.saw_baton = (folder / "lock").exists()
        if self.fail is not None:
            raise self.fail
        library = folder / "fake_ext.so"
        library.write_text("not really a library")
        return library


def hold_lock(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(path)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_builder_killed_mid_build_leaves_no_lock_behind(tmp_path: Path) -> None:
    """A process holding the flock is SIGKILLed (as a timed-out trial is); torch's own baton
    file, which its builds leave behind, is there too. The next search builds at once."""
    folder = tmp_path / "kernel"
    folder.mkdir()
    (folder / "lock").write_text("")  # torch's FileBaton of the killed build
    holder = hold_lock(folder / ".flock")
    build = FakeBuild()
    assert build_once(folder, build, timeout_s=0.5) is None  # a live holder: wait, then give up
    assert build.calls == 0
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    start = time.monotonic()
    assert build_once(folder, build, timeout_s=30) == folder / "fake_ext.so"
    assert time.monotonic() - start < 5 and build.calls == 1 and build.saw_baton is False
    assert build_once(folder, build) == folder / "fake_ext.so" and build.calls == 1  # cached


def test_a_stale_lock_file_without_holder_does_not_block(tmp_path: Path) -> None:
    folder = tmp_path / "kernel"
    folder.mkdir()
    (folder / ".flock").write_text("")  # left by any earlier holder: only the flock matters
    assert build_once(folder, FakeBuild(), timeout_s=0.1) == folder / "fake_ext.so"


def test_a_failed_build_is_remembered_and_an_interrupted_one_retried(tmp_path: Path) -> None:
    failing = FakeBuild(fail=RuntimeError("no compiler"))
    assert build_once(tmp_path / "a", failing) is None
    assert "no compiler" in (tmp_path / "a" / "failed.json").read_text()
    assert build_once(tmp_path / "a", FakeBuild()) is None  # not retried until deleted

    interrupted = FakeBuild(fail=KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        build_once(tmp_path / "b", interrupted)
    assert not (tmp_path / "b" / "failed.json").exists()
    assert build_once(tmp_path / "b", FakeBuild(), timeout_s=0.1) == tmp_path / "b" / "fake_ext.so"


def test_ensure_takes_the_pytorch_path_when_off_or_broken(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logei, "_C", None)
    monkeypatch.setattr(logei, "_load_attempted", False)
    monkeypatch.setenv("RAYOPT_FUSED_KERNEL", "off")
    assert ensure_fused_kernel(FakeBuild(), tmp_path) is False
    assert logei._load_attempted is True  # BoTorch will not compile at run time either

    monkeypatch.setattr(logei, "_load_attempted", False)
    monkeypatch.setenv("RAYOPT_FUSED_KERNEL", "auto")
    build = FakeBuild()
    assert ensure_fused_kernel(build, tmp_path) is False  # the fake library does not load
    assert build.calls == 1 and logei._C is None

    monkeypatch.setattr(logei, "_load_attempted", False)
    monkeypatch.setenv("RAYOPT_FUSED_KERNEL", "yes")
    with pytest.raises(ValueError, match="RAYOPT_FUSED_KERNEL='yes'"):
        ensure_fused_kernel(build, tmp_path)


def test_kernel_dir_is_keyed_by_versions_and_cpu(tmp_path: Path) -> None:
    path = fused_kernel.kernel_dir(tmp_path)
    assert path.parent == tmp_path / "kernels" and path.name.startswith("logei_fused_ext-")
    assert fused_kernel.kernel_dir(tmp_path) == path


REAL_BUILD = textwrap.dedent(
    """
    import os, time
    from botorch.acquisition.multi_objective import logei
    from moo.searchers.fused_kernel import ensure_fused_kernel, kernel_dir
    folder = kernel_dir()
    folder.mkdir(parents=True, exist_ok=True)
    open(folder / "lock", "w").close()  # torch's baton, as a killed compile leaves it
    start = time.time()
    assert ensure_fused_kernel(), "the fused kernel did not load"
    print("fused", type(logei._C).__name__, round(time.time() - start))
    """
)


@pytest.mark.slow
def test_the_real_kernel_builds_once_despite_a_stale_torch_lock(tmp_path: Path) -> None:
    """Compiles logei_fused_ext (about a minute) into a fresh cache; a second process loads
    it without compiling."""
    env = {**os.environ, "RAYOPT_CACHE_DIR": str(tmp_path), "RAYOPT_FUSED_KERNEL": "auto"}
    cwd = Path(__file__).parents[2]
    for _ in range(2):
        done = subprocess.run([sys.executable, "-c", REAL_BUILD], env=env, capture_output=True,
                              text=True, timeout=900, cwd=cwd)
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.split()[:2] == ["fused", "module"]
    assert int(done.stdout.split()[-1]) < 30  # loaded, not rebuilt
