"""Names a package exports from submodules that are imported only when a name is first used.

A package whose submodules import TensorFlow (the models, the losses, the trainer) stays cheap to
import: its ``__init__`` lists what it exports and sets ``__getattr__ = lazy.exports(...)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def exports(package: str, names: Mapping[str, str]) -> Callable[[str], Any]:
    """A module-level ``__getattr__`` (PEP 562) for `package`.

    Args:
        package: the package's ``__name__``.
        names: exported name -> the submodule (relative to `package`) that defines it.
    """

    def __getattr__(name: str) -> Any:
        if name in names:
            return getattr(importlib.import_module(f"{package}.{names[name]}"), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
