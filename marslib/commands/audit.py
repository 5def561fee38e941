"""`python -m marslib audit`: propose label fixes for a person to review.

    python -m marslib audit --out review/             # the data `marslib.data.load()` finds
    python -m marslib audit --path my/copy.npz --out review/ --threshold 0.3

Runs `marslib.data.label_audit.audit` on the cleaned training images
and writes to the output folder:

- ``candidates.csv``: every single- and two-class candidate
  (index, given class, suggested class, agreement);
- ``monocolor-NN.png`` and ``bicolor-NN.png``: pages of candidate pictures,
  titled "given -> suggested";
- ``<data key>.draft.json``: every candidate as a proposed fix,
  in the format of `marslib.data.cleaning`.

Nothing is accepted automatically. Look at every page, delete the draft's entries you reject,
describe what you did in its "review" field, and save it as
``marslib/data/label_fixes/<data key>.json`` (see `marslib.data.cleaning.data_key`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from marslib import data as mars_data
from marslib.core.classes import CLASS_NAMES
from marslib.data import cleaning, label_audit

PER_PAGE = 20


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `audit` sub-command."""
    parser = subparsers.add_parser(
        "audit", help="propose label fixes (texture audit) for a person to review"
    )
    parser.add_argument(
        "--path", default=None, help="a file in the real format (default: what load() finds)"
    )
    parser.add_argument(
        "--out", required=True, help="folder for the candidate table, picture pages and draft fixes"
    )
    parser.add_argument(
        "--threshold",
        type=float,
        default=label_audit.DEFAULT_THRESHOLD,
        help="agreement below which a region is a candidate",
    )
    parser.set_defaults(func=run)


def _pages(data: mars_data.MarsData, candidates: pd.DataFrame, out: Path, stem: str) -> list[Path]:
    """Write the candidates' pictures, PER_PAGE a page,
    titled "#index: given -> suggested (agreement)"."""
    # Imported here, not at the top, so that every other command starts without matplotlib.
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from marslib.figures import plots

    written = []
    for page, start in enumerate(range(0, len(candidates), PER_PAGE)):
        rows = candidates.iloc[start : start + PER_PAGE]
        titles = [
            f"#{r.index}: {CLASS_NAMES[r.label]} -> {CLASS_NAMES[r.suggested]} ({r.agreement:.2f})"
            for r in rows.itertuples()
        ]
        indices = rows["index"].to_numpy()
        figure = plots.show_gallery(
            data.train_images[indices], data.train_masks[indices], titles=titles, columns=4
        )
        path = out / f"{stem}-{page:02d}.png"
        figure.savefig(path, dpi=80)
        plt.close(figure)
        written.append(path)
    return written


def run(args: argparse.Namespace) -> int:
    """Audit, then write the candidates, their pictures and a draft fixes file;
    print what to do next."""
    data = mars_data.load(args.path)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table = label_audit.audit(
        data, cleaning.cleaned_indices(data, np.arange(len(data.train_images)))
    )
    mono = label_audit.monocolor_candidates(table, args.threshold)
    bi = label_audit.bicolor_candidates(table, args.threshold)
    pd.concat([mono, bi], ignore_index=True).to_csv(out / "candidates.csv", index=False)
    pages = _pages(data, mono, out, "monocolor") + _pages(data, bi, out, "bicolor")
    draft = cleaning.LabelFixes(
        fingerprint=cleaning.data_key(data),
        source=data.source,
        review=(
            "DRAFT, not reviewed: every candidate of marslib.data.label_audit at threshold "
            f"{args.threshold}"
        ),
        monocolor={int(r.index): int(r.suggested) for r in mono.itertuples()},
        bicolor={int(r.index): {int(r.label): int(r.suggested)} for r in bi.itertuples()},
    )
    draft_path = out / f"{cleaning.data_key(data)}.draft.json"
    cleaning.write_fixes(draft_path, draft)
    print(
        f"{data.source}: {len(mono)} single-class and {len(bi)} two-class candidates; "
        f"{len(pages)} picture pages in {out}"
    )
    print(
        f"review every page, edit {draft_path.name} (drop rejected entries, describe the review), "
        "then save it as"
    )
    print(f"  {cleaning.fixes_path(data)}")
    return 0
