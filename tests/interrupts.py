"""For the tests that interrupt a child process as Ctrl-C in a terminal would."""

from __future__ import annotations

import signal


def default_interrupt() -> None:
    """Give the child SIGINT's default action (Python's KeyboardInterrupt) before it starts.

    A shell starts background jobs with SIGINT ignored, and a child inherits that: run from such a
    job (CI in the background, `nohup`), a child would shrug off the interrupt the test sends.
    Pass as `subprocess.Popen(..., preexec_fn=default_interrupt)`.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
