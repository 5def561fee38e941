"""A Sphinx extension: each script once per page.

Inline scripts that an extension adds while the documents are read (sphinx-thebe's configuration,
``const THEBE_JS_URL = ...``; sphinx-togglebutton's selector) reach a page twice with this
theme, and a second ``const`` declaration of the same name is a JavaScript error that stops the
rest of that script. This extension keeps the first of identical scripts on every page; two
scripts are identical when their file (an inline script has none), their attributes and their
body are.
"""

from __future__ import annotations

from typing import Any


def _identity(script: Any) -> tuple[str, tuple[tuple[str, str], ...]]:
    """What makes two `sphinx.builders.html._assets._JavaScript` scripts the same script."""
    return (script.filename or "", tuple(sorted(script.attributes.items())))


def single_scripts(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    """`html-page-context` handler: drop repeated scripts from ``context["script_files"]``."""
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    kept = []
    for script in context.get("script_files", []):
        identity = _identity(script)
        if identity not in seen:
            seen.add(identity)
            kept.append(script)
    context["script_files"] = kept


def setup(app: Any) -> dict[str, Any]:
    """Register the handler after every other extension's (priority 900 of 0-1000)."""
    app.connect("html-page-context", single_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
