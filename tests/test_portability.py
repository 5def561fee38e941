"""The book runs on Linux, macOS and Windows: marslib needs no POSIX-only module or call, the run
lock and the liveness check work without them, and the test suite collects on Windows.

Checked here on whatever system runs the tests: marslib imports and trains with `fcntl`
unavailable (as on Windows), the liveness check sends no signal, bfloat16 detection answers (or
says it cannot) without ``/proc/cpuinfo``, and two scans fail on a new POSIX-only use: one in
marslib outside a guarded branch, one in a test file where Windows would meet it.
"""

from __future__ import annotations

import ast
import errno
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from types import SimpleNamespace

import pytest

import marslib
from marslib.core import hardware, locks
from marslib.evaluation import submission

PACKAGE = Path(marslib.__file__).resolve().parent
TESTS = Path(__file__).resolve().parent
POSIX_MODULES = frozenset({"fcntl", "termios", "tty", "pty", "pwd", "grp", "resource", "posix"})
POSIX_CALLS = frozenset(
    {"os.kill", "os.killpg", "os.fork", "os.forkpty", "os.setsid", "os.getuid", "os.geteuid"}
    | {"os.getpgid", "os.setpgrp", "os.uname", "os.getloadavg", "signal.alarm", "signal.pause"}
    | {"signal.setitimer", "signal.pthread_kill"}
)
POSIX_SIGNALS = frozenset(
    f"signal.{name}"
    for name in ("SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGALRM", "SIGCHLD")
    + ("SIGPIPE", "SIGSTOP", "SIGCONT", "SIGTSTP")
)
POSIX_PATHS = ("/proc/", "/sys/", "/dev/")
PLATFORM_TESTS = ("sys.platform", "os.name", "platform.system")
FALLBACK_ERRORS = frozenset({"OSError", "FileNotFoundError", "ImportError", "ModuleNotFoundError"})
# Module constants that hold POSIX paths as data, read only under a platform test, and where.
PATH_CONSTANTS: dict[str, str] = {
    "GPU_DEVICE_PATTERNS": "marslib.core.profiles.gpu_device_present, on Linux only",
}


# ---------------------------------------------------------------- marslib without fcntl

NO_FCNTL = """
import importlib, importlib.abc, json, pkgutil, sys
from pathlib import Path

class NoFcntl(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "fcntl":
            raise ModuleNotFoundError("No module named 'fcntl'", name="fcntl")
        return None

sys.modules.pop("fcntl", None)
sys.meta_path.insert(0, NoFcntl())

import marslib
names = [m.name for m in pkgutil.walk_packages(marslib.__path__, "marslib.")]
for name in names:
    if name != "marslib.__main__":  # running it is the command line
        importlib.import_module(name)
assert "fcntl" not in sys.modules

from marslib import data, training
tiny = data.synthetic_data(seed=3, n_train=24, n_test=8)
experiment = training.Experiment.from_dict({
    "name": "tiny", "model": "unet", "model_options": {"base_filters": 4, "depth": 2},
    "epochs": 1, "batch_size": 16, "patience": 1, "profile": "quick",
})
record = training.run(experiment, tiny, Path(sys.argv[1]), verbose=0)
print(json.dumps({"modules": len(names), "epochs": record.metrics["epochs_run"]}))
"""


def test_marslib_imports_and_trains_without_fcntl(tmp_path: Path) -> None:
    environment = {**os.environ, "MARSLIB_CACHE": str(tmp_path / "cache")}
    environment.pop("MARSLIB_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-c", NO_FCNTL, str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["modules"] > 50 and result["epochs"] == 1


# ---------------------------------------------------------------- the run lock


def test_a_second_lock_is_refused_naming_the_holder_and_freed_on_exit(tmp_path: Path) -> None:
    with locks.RunLock(tmp_path):
        assert (tmp_path / locks.HOLDER_NAME).read_text().strip() == str(os.getpid())
        with pytest.raises(ValueError, match=f"another process \\(pid {os.getpid()}\\)"):
            with locks.RunLock(tmp_path):
                pass
    assert not (tmp_path / locks.HOLDER_NAME).exists()
    with locks.RunLock(tmp_path):  # free again
        pass


@pytest.mark.skipif(sys.platform == "win32", reason="simulates a mount through fcntl.flock")
def test_a_folder_that_cannot_be_locked_names_the_folder_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl  # guarded by the skip: POSIX only

    def no_locks(*args: object) -> None:  # as a network mount without a lock service answers
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with pytest.raises(OSError, match="cannot lock the run folder") as caught:
        with locks.RunLock(tmp_path):
            pass
    message = str(caught.value)
    assert str(tmp_path) in message and "MARSLIB_RUNS" in message and "local disk" in message


def test_a_missing_folder_is_named_not_blamed_on_locking(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        with locks.RunLock(tmp_path / "missing"):
            pass
    assert "missing" in str(caught.value) and "cannot lock" not in str(caught.value)


# ---------------------------------------------------------------- the liveness check


def test_the_liveness_check_sends_no_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows `os.kill` terminates the process (or sends Ctrl-C for signal 0): it must never
    be called, so it is replaced by a stand-in that fails the test."""
    finished = subprocess.run([sys.executable, "-c", "pass"], check=True)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    del finished

    def kill(pid: int, signal_number: int) -> None:
        raise AssertionError(f"os.kill({pid}, {signal_number}) was called")

    monkeypatch.setattr(os, "kill", kill)
    assert submission._process_alive(os.getpid())
    assert not submission._process_alive(gone.pid)
    alive = tmp_path / f".s.{os.getpid()}.tmp.csv"
    stale = tmp_path / f".s.{gone.pid}.tmp.csv"
    alive.write_text("mine, being written")
    stale.write_text("left by a killed writer")
    submission._remove_stale_temporaries(tmp_path / "s.csv")
    assert alive.exists() and not stale.exists()


# ---------------------------------------------------------------- bfloat16 without /proc


def _system(monkeypatch: pytest.MonkeyPatch, system: str, machine: str, sysctl: str = "") -> None:
    """Make `hardware` see another system: `sys.platform`, `platform.machine()` and sysctl."""

    def run(command: list[str], **kwargs: object) -> SimpleNamespace:
        assert command[0] == "sysctl", command
        return SimpleNamespace(returncode=0 if sysctl else 1, stdout=sysctl)

    fake = {  # raising=False: a version of `hardware` without these modules reads /proc
        "sys": SimpleNamespace(platform=system),
        "platform": SimpleNamespace(machine=lambda: machine),
        "subprocess": SimpleNamespace(run=run, SubprocessError=subprocess.SubprocessError),
    }
    for name, module in fake.items():
        monkeypatch.setattr(hardware, name, module, raising=False)
    monkeypatch.delenv(hardware.ENV_VAR, raising=False)


def test_an_intel_mac_reads_its_features_from_sysctl(monkeypatch: pytest.MonkeyPatch) -> None:
    _system(monkeypatch, "darwin", "x86_64", "FPU SSE4.2 AVX1.0\nAVX2 AVX512F AVX512BW\n")
    assert {"avx2", "avx512f", "sse4_2"} <= hardware.cpu_flags()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not hardware.cpu_bfloat16()
    _system(monkeypatch, "darwin", "x86_64", "AVX2\nAVX512F AMX_BF16\n")
    assert hardware.cpu_bfloat16()


@pytest.mark.parametrize(("system", "machine"), [("darwin", "arm64"), ("win32", "ARM64")])
def test_a_cpu_that_is_not_x86_has_no_bfloat16_units_to_find(
    monkeypatch: pytest.MonkeyPatch, system: str, machine: str
) -> None:
    _system(monkeypatch, system, machine)
    assert hardware.cpu_flags() == set()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not hardware.cpu_bfloat16()


def test_windows_on_x86_says_it_cannot_tell(monkeypatch: pytest.MonkeyPatch) -> None:
    _system(monkeypatch, "win32", "AMD64")
    assert hardware.cpu_flags() is None
    with pytest.warns(UserWarning, match="could not tell whether this CPU has bfloat16 units"):
        assert not hardware.cpu_bfloat16()
    monkeypatch.setenv(hardware.ENV_VAR, "0")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not hardware.cpu_bfloat16()  # switched off: nothing to tell


def test_an_arm_linux_cpuinfo_is_read_from_its_features_line(tmp_path: Path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nFeatures\t: fp asimd bf16 i8mm\n")
    assert hardware.cpu_flags(cpuinfo) == {"fp", "asimd", "bf16", "i8mm"}
    assert not hardware.cpu_bfloat16(cpuinfo)  # the policy's units are x86 AVX512-BF16 or AMX


# ---------------------------------------------------------------- the scans


def _dotted(node: ast.AST) -> str:
    """ "os.kill" for the expression os.kill (empty for anything but names and attributes)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _tests_platform(test: ast.AST) -> bool:
    return any(name in ast.unparse(test) for name in PLATFORM_TESTS)


def _catches(handler: ast.ExceptHandler, names: frozenset[str]) -> bool:
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_dotted(kind) in names for kind in caught if kind is not None)


def _posix_uses(tree: ast.AST) -> list[tuple[ast.AST, str, str]]:
    """(node, what, kind) for each POSIX-only use; kind: import, call or path."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node, a.name, "import") for a in node.names if a.name in POSIX_MODULES]
        elif isinstance(node, ast.ImportFrom) and node.module in POSIX_MODULES:
            found.append((node, node.module, "import"))
        elif isinstance(node, ast.Attribute) and _dotted(node) in POSIX_CALLS | POSIX_SIGNALS:
            found.append((node, _dotted(node), "call"))
        elif isinstance(node, ast.keyword) and node.arg == "preexec_fn":
            found.append((node, "preexec_fn", "call"))
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith(POSIX_PATHS)
        ):
            found.append((node, node.value, "path"))
    return found


def _guarded(parents: list[ast.AST], node: ast.AST, kind: str) -> bool:
    """Whether `node` (below `parents`, outermost first) sits in a branch that keeps it off the
    systems without it: under an `if` on the platform, or, for an import or a path read, in the
    body of a `try` that catches its failure (ImportError, OSError); or a path in one of the
    `PATH_CONSTANTS`."""
    chain = [*parents, node]
    for outer, inner in zip(chain, chain[1:]):
        if isinstance(outer, ast.Assign | ast.AnnAssign) and kind == "path":
            targets = outer.targets if isinstance(outer, ast.Assign) else [outer.target]
            if any(_dotted(target) in PATH_CONSTANTS for target in targets):
                return True
        if isinstance(outer, ast.If | ast.IfExp) and _tests_platform(outer.test):
            if inner is not outer.test:
                return True
        if isinstance(outer, ast.Try) and kind in ("import", "path") and inner in outer.body:
            if any(_catches(handler, FALLBACK_ERRORS) for handler in outer.handlers):
                return True
    return False


def _unguarded(source: str | ast.AST) -> list[str]:
    """The POSIX-only uses in `source` (text or a parsed tree) outside a guarded branch, as
    "line N: what"."""
    tree = ast.parse(source) if isinstance(source, str) else source
    parents: dict[ast.AST, ast.AST] = {
        child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
    }
    problems = []
    for node, what, kind in _posix_uses(tree):
        chain, current = [], node
        while current in parents:
            current = parents[current]
            chain.insert(0, current)
        if not _guarded(chain, node, kind):
            problems.append(f"line {node.lineno}: {what}")
    return problems


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ("import fcntl\n", True),  # the old run lock
        ("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n", False),
        ("def alive(p):\n    try:\n        os.kill(p, 0)\n    except OSError:\n        ...", True),
        ("if sys.platform != 'win32':\n    os.kill(p, signal.SIGKILL)\n", False),
        ("def flags(cpuinfo='/proc/cpuinfo'):\n    return open(cpuinfo).read()\n", True),
        ("if sys.platform.startswith('linux'):\n    text = open('/proc/cpuinfo').read()\n", False),
        ("try:\n    t = open('/proc/cpuinfo').read()\nexcept OSError:\n    t = ''\n", False),
        ("x = 1 if sys.platform == 'win32' else os.getuid()\n", False),
    ],
)
def test_the_scan_tells_guarded_from_unguarded(source: str, flagged: bool) -> None:
    assert bool(_unguarded(source)) == flagged, _unguarded(source)


def test_marslib_has_no_unguarded_posix_only_use() -> None:
    problems = [
        f"{path.relative_to(PACKAGE.parent)} {problem}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for problem in _unguarded(path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "POSIX-only, unguarded (breaks Windows or macOS):\n" + "\n".join(
        problems
    )


def _skips_windows(function: ast.FunctionDef) -> bool:
    """Whether a test carries a ``pytest.mark.skipif`` on the platform."""
    return any(
        isinstance(mark, ast.Call)
        and _dotted(mark.func).endswith("mark.skipif")
        and _tests_platform(mark)
        for mark in function.decorator_list
    )


def _windows_collection_problems(source: str) -> list[str]:
    """POSIX-only uses in a test file that Windows would meet: at import time (module level,
    decorators, parametrize lists) or in a test without a platform skip."""
    tree = ast.parse(source)
    problems = []
    for statement in tree.body:
        functions = (
            [statement] if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef) else []
        )
        if not functions:
            problems += [f"import time, {p}" for p in _unguarded(statement)]
            continue
        (function,) = functions
        for decorator in function.decorator_list:
            problems += [f"{function.name}'s decorator, {p}" for p in _unguarded(decorator)]
        if function.name.startswith("test") and not _skips_windows(function):
            body = ast.Module(body=function.body, type_ignores=[])
            problems += [f"{function.name}, {p}" for p in _unguarded(body)]
    return problems


def test_the_collection_scan_finds_what_windows_would_break_on() -> None:
    old = (
        "@pytest.mark.parametrize('n', [signal.SIGINT, signal.SIGKILL])\n"
        "def test_a(n):\n    pass\n"
        "def test_b():\n    subprocess.Popen(['x'], preexec_fn=f)\n"
    )
    assert len(_windows_collection_problems(old)) == 2
    fixed = (
        "@pytest.mark.skipif(sys.platform == 'win32', reason='POSIX signals')\n"
        "@pytest.mark.parametrize('name', ['SIGINT', 'SIGKILL'])\n"
        "def test_a(name):\n    subprocess.Popen(['x'], preexec_fn=f)\n"
    )
    assert _windows_collection_problems(fixed) == []


def test_the_test_files_collect_on_windows() -> None:
    problems = [
        f"{path.name}: {problem}"
        for path in sorted(TESTS.glob("*.py"))
        if path.name != Path(__file__).name  # this file names them to look for them
        for problem in _windows_collection_problems(path.read_text(encoding="utf-8"))
    ]
    assert problems == [], "needs POSIX without a skip on Windows:\n" + "\n".join(problems)
