"""Benchmarks: each area is a module with ``benchmark(scale: str) -> list[Measurement]``.

`scale` is "small" (a fast look, under a minute or two) or "full" (the real sizes). The command
``python -m marslib bench [AREA ...]`` prints them; `AREAS` names the module of each area.
"""

AREAS: dict[str, str] = {
    "data": "marslib.bench.data",
    "augment": "marslib.bench.augment",
    "models": "marslib.bench.models",
    "train": "marslib.bench.train",
    "gpu": "marslib.bench.gpu",
}
