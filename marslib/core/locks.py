"""The run lock: one process at a time trains in a run folder, on Linux, macOS and Windows.

    with RunLock(directory):     # refused (ValueError) while another process holds it
        ...                      # train, writing into `directory`

The lock is the operating system's own file lock on ``<run>/.lock``, taken through the `filelock`
library (``flock`` on Linux and macOS, ``LockFileEx`` on Windows) without waiting: the system
releases it when the holder exits, however it exits, so a killed run never leaves its folder
locked. The holder's process id goes to a second file, ``<run>/.lock.pid``, because on Windows
no other process can read a locked file; a process that is refused names it.

Some file systems cannot lock files (a few network and cloud-drive mounts). There the lock
raises `LockUnavailableError`, an `OSError` whose message names the folder and the fix: keep
the runs on a local disk (``MARSLIB_RUNS`` or ``--runs-dir``).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import filelock

from marslib.core.files import write_text

LOCK_NAME = ".lock"
HOLDER_NAME = ".lock.pid"
# Errors that are about the folder, not about locking: raised as they are, naming the path.
_NOT_THE_LOCK: frozenset[int] = frozenset(
    {errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC}
)


class LockUnavailableError(OSError):
    """The file system of a run folder cannot lock files, so the folder cannot be locked."""


class RunLock:
    """An exclusive lock on a run folder while a process trains in it (``<run>/.lock``).

    A second process that starts the same run while the first trains it is refused with a
    message naming the first one's process id; the operating system releases the lock when the
    holder exits, however it exits, so a killed run never leaves its folder locked. A second
    `RunLock` on the same folder in the same process is refused as well.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self.holder_path = self.directory / HOLDER_NAME
        self._lock = filelock.FileLock(str(self.path), timeout=0)

    def __enter__(self) -> RunLock:
        """Take the lock at once or fail.

        Raises:
            ValueError: another process (or another `RunLock` here) holds it; names its pid.
            FileNotFoundError: the folder does not exist.
            LockUnavailableError: the folder's file system cannot lock files.
        """
        if not self.directory.is_dir():  # filelock would create it; a run folder comes first
            raise FileNotFoundError(
                errno.ENOENT, "no such run folder to lock (create it first)", str(self.directory)
            )
        try:
            self._lock.acquire()
        except filelock.Timeout:  # held by someone else (a TimeoutError, so caught first)
            raise ValueError(
                f"another process (pid {self.holder()}) is training this run in "
                f"{self.directory}; wait until it finishes (its record is then reused) or stop "
                "it, then run again"
            ) from None
        except OSError as error:
            if error.errno in _NOT_THE_LOCK:  # the folder is missing or not writable: say so
                raise
            raise self._unavailable(error) from error
        except NotImplementedError as error:  # filelock 3 on a file system without flock
            raise self._unavailable(error) from error
        try:
            write_text(self.holder_path, f"{os.getpid()}\n")
        except BaseException:
            self._lock.release()
            raise
        return self

    def _unavailable(self, error: Exception) -> LockUnavailableError:
        """The error for a folder whose file system cannot lock files."""
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        return LockUnavailableError(
            f"cannot lock the run folder {self.directory} ({reason}): its file system does "
            "not support file locks (some network and cloud-drive mounts do not); set "
            "MARSLIB_RUNS (or --runs-dir) to a folder on a local disk and run again"
        )

    def __exit__(self, *exc_info: object) -> None:
        """Remove the holder's pid (while still holding the lock), then release the lock."""
        try:
            self.holder_path.unlink(missing_ok=True)
        finally:
            self._lock.release()

    def holder(self) -> str:
        """The process id recorded by the lock's holder, or "unknown" where none is readable."""
        try:
            text = self.holder_path.read_text().strip()
        except OSError:
            return "unknown"
        return text if text.isdigit() else "unknown"
