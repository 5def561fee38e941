"""What a comparison of runs supports, in words computed from their records.

    print(verdicts.training_state(record))            # converged, or stopped at its budget?
    print(verdicts.compare_runs(unet_record, record))  # who is ahead, by how much, and how sure
    verdicts.against(baseline, [run_a, run_b])         # each run's gain over one, and its reading
    gain = verdicts.effect([(0.5, a), (0.5, b), (-0.5, c), (-0.5, d)], "test")  # any contrast
    verdicts.reading(gain)                             # True, False, or None: cannot tell
    print(verdicts.rule(records))                      # the rule those verdicts read by
    verdicts.recipe_beats_model(edges, runs, "test")   # the report's claim, on an ablation

A verdict rests on how much the runs would move if trained again, and on convergence:

- **seeds**: a shipped reference of the current recipe carries every seed of its run
  (`RunRecord.seed_records`, three: `marslib.training.registry.SEEDS`). A verdict on such runs
  compares the means over their seeds with a 95% interval that adds the seeds' spread and the
  sampling of the scored images (`marslib.analysis.intervals`): "ahead" or "behind" only when
  the interval excludes 0, else "cannot tell", the interval printed;
- **runs of one seed** (runs trained now, where no reference was shipped) have no measured seed
  spread: whatever their gap, the verdict cannot tell, and says so with the gap;
- **convergence**: a run is converged when early stopping ended it, that is when its validation
  mIoU stopped improving for `patience` epochs before the epoch budget ran out. A run that used
  its whole budget (every quick-profile run: five epochs, patience ten) is not converged: its
  score says how far its recipe gets in that many epochs, not where it would end, and recipes
  that learn slowly rank low in such runs whatever they would reach. A run of a fixed budget by
  design (patience 0: the current reference recipe, its rate decayed to 0, the last epoch kept)
  ends where its recipe ends; a run that early stopping could have ended but its budget did first
  `stopped_short`, and no verdict on such runs reads "ahead" or "behind": it says it cannot tell
  and names the command that trains the converged references (`short_runs_note`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from marslib.analysis import intervals
from marslib.training import registry

if TYPE_CHECKING:
    from marslib.training.run_records import RunRecord


def converged(record: RunRecord) -> bool:
    """True when early stopping ended the run before its epoch budget (see the module docstring);
    a run without validation cannot stop early and is never converged in this sense."""
    budget = record.experiment.resolved().epochs
    return bool(record.metrics["val"]) and record.metrics["epochs_run"] < budget


def stopped_short(record: RunRecord) -> bool:
    """True for a run that its epoch budget ended before it converged: early stopping was on
    (patience > 0) but never fired, as in every quick-profile run. A run of a fixed budget by
    design (patience 0: the reference and full profiles' recipe, the rate decayed to 0 and the
    last epoch kept) ends where its recipe ends, and an early-stopped run is converged
    (`converged`): neither stopped short."""
    return not converged(record) and record.experiment.resolved().patience > 0


def short_runs_note(records: Sequence[RunRecord]) -> str | None:
    """The verdict on runs of which one or more `stopped_short`: "cannot tell", why, and the
    command that trains the converged references (None when none stopped short)."""
    short = [record for record in records if stopped_short(record)]
    if not short:
        return None
    on_file = any(
        record.provenance.get("data_source", "synthetic") != "synthetic" for record in records
    )
    data = " --data FILE" if on_file else ""
    epochs = sorted({record.experiment.resolved().epochs for record in short})
    names = ", ".join(record.experiment.name for record in short)
    return (
        f"cannot tell: these runs stopped at their budget ({names}: "
        f"{' or '.join(map(str, epochs))} epochs) before they converged, so a gap between them "
        "is no verdict on the recipes. Train the converged references for this data with "
        f"`python -m marslib experiments run all --profile reference --seeds 0 1 2{data}` "
        f"(hours on a CPU), then `python -m marslib experiments publish all --profile reference "
        f"--seeds 0 1 2{data}`, or install the archive of them (`python -m marslib references "
        "install ARCHIVE`)."
    )


def finished_schedule(record: RunRecord) -> bool:
    """True for a run of a fixed budget by design (patience 0: the reference and full profiles'
    recipe, the rate decayed to 0, the last epoch kept) that trained every epoch of it."""
    experiment = record.experiment.resolved()
    return experiment.patience == 0 and record.metrics["epochs_run"] == experiment.epochs


def seeded(records: Sequence[RunRecord]) -> bool:
    """True when every record carries two or more seeds of its run (`RunRecord.seed_records`):
    a verdict on them reads an interval; on runs of one seed it cannot tell."""
    return all(len(record.seed_records()) > 1 for record in records)


def rule(records: Sequence[RunRecord]) -> str:
    """One sentence: the rule the verdicts on `records` read by (`seeded`: an interval; else none
    can be told), for a chapter to print beside them rather than type."""
    if not records:
        raise ValueError("no records given")
    if seeded(records):
        seeds = min(len(record.seed_records()) for record in records)
        return (
            f"The verdicts compare means over {seeds} seeds a run: ahead or behind only where "
            "the 95% interval of the gap, from the seeds' spread and the sampling of the scored "
            "images, leaves out 0 (chapter 15)."
        )
    return (
        "These runs have one seed each, so their seed spread is unmeasured and no gap between "
        "them can be told from it: every verdict reads cannot tell (chapter 15). The shipped "
        f"references carry {len(registry.SEEDS)} seeds each."
    )


def _score_name(score: str) -> str:
    """The intervals' name of a table's score column: "miou" for "val mIoU" or "test mIoU",
    the class name for "Big Rock IoU"."""
    if score in ("miou", "val mIoU", "test mIoU"):
        return intervals.MIOU
    return score.removesuffix(" IoU")


def effect(
    terms: Sequence[tuple[float, RunRecord]], split: str = "val", score: str = "miou"
) -> intervals.Gap:
    """A weighted sum of runs' scores on `split`, over every seed of each run, with its 95%
    interval (`marslib.analysis.intervals.contrast`): ``[(1, b), (-1, a)]`` is b's gain over a;
    ``[(0.5, a), (0.5, b), (-0.5, c), (-0.5, d)]`` a main effect in a two-by-two ablation.
    Runs of one seed give the value with no interval (read it with `reading`).

    Args:
        terms: (weight, record) pairs; a run named twice is one run, its weights added.
        split: "val" or "test".
        score: "miou" (or a table's "val mIoU" / "test mIoU") or a class's IoU ("Big Rock",
            "Big Rock IoU").
    """
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    grouped = [(weight, record.seed_records()) for weight, record in terms]
    return intervals.contrast(grouped, split, _score_name(score))


def reading(gain: intervals.Gap, *, runs: Sequence[RunRecord] = ()) -> bool | None:
    """What a gain (`effect`) supports: True (positive), False (negative) or None (cannot tell).

    True or False only when its interval excludes 0; None without an interval (runs of one
    seed), and whenever one of `runs`, the records the gain comes from, `stopped_short`.
    """
    if any(stopped_short(record) for record in runs) or math.isnan(gain.low):
        return None
    return {"ahead": True, "behind": False}.get(gain.verdict)


def gain(
    run: RunRecord, base: RunRecord, split: str = "val", score: str = "miou"
) -> tuple[float, bool | None]:
    """`run`'s score minus `base`'s on `split` ("miou" or a class name: its IoU), and what the
    gap supports (True: `run` ahead, False: behind, None: cannot tell). Seeded runs (`seeded`):
    the gap of the means over their seeds, read by its interval (`effect`, `reading`); runs of
    one seed: the records' own scores, and None."""
    if seeded([run, base]):
        found = effect([(1.0, run), (-1.0, base)], split, score)
        return found.gap, reading(found, runs=[run, base])
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    return _score(run, split, score) - _score(base, split, score), None


def training_state(record: RunRecord) -> str:
    """One sentence: how the run ended, and whether it counts as finished.

    Examples:

    >>> import dataclasses
    >>> import pandas as pd
    >>> from marslib import training
    >>> from marslib.analysis import verdicts
    >>> def record(name, val_miou, epochs_run=30, **changes):  # a chapter's: training.show(...)
    ...     experiment = dataclasses.replace(training.get(name, "reference"), **changes)
    ...     return training.RunRecord(
    ...         directory=None, experiment=experiment, history=pd.DataFrame(), provenance={},
    ...         metrics={"val": {"miou": val_miou}, "test": None,
    ...                  "best_epoch": epochs_run - 1, "epochs_run": epochs_run})
    >>> print(verdicts.training_state(record("unet_baseline", 0.512)))
    unet_baseline: trained its fixed budget of 30 epochs (reference profile), the learning rate
    decayed to 0 and the last epoch kept: a finished run
    >>> short = record("unet_baseline", 0.312, epochs_run=5, profile="quick")
    >>> print(verdicts.training_state(short))
    unet_baseline: trained its whole budget of 5 epochs (quick profile), its validation mIoU
    still improving at its last epoch: not a converged run
    >>> early = record("unet_baseline", 0.512, epochs_run=24, patience=10, epochs=80)
    >>> early.metrics["best_epoch"] = 13
    >>> verdicts.converged(early)
    True
    >>> print(verdicts.training_state(early))
    unet_baseline: early stopping ended it after 24 of at most 80 epochs (best epoch 14):
    converged, as far as its validation score can tell
    """
    name, epochs = record.experiment.name, record.metrics["epochs_run"]
    best = record.metrics["best_epoch"] + 1
    if finished_schedule(record):
        return (
            f"{name}: trained its fixed budget of {epochs} epochs ({record.experiment.profile} "
            "profile), the learning rate decayed to 0 and the last epoch kept: a finished run"
        )
    if converged(record):
        return (
            f"{name}: early stopping ended it after {epochs} of at most "
            f"{record.experiment.resolved().epochs} epochs (best epoch {best}): converged, as far "
            "as its validation score can tell"
        )
    improving = (
        "still improving at its last epoch" if best == epochs else f"at its best at epoch {best}"
    )
    return (
        f"{name}: trained its whole budget of {epochs} epochs ({record.experiment.profile} "
        f"profile), its validation mIoU {improving}: not a converged run"
    )


def main_effects(
    edges: pd.DataFrame, runs: Mapping[str, RunRecord], split: str, score: str = "miou"
) -> dict[str, intervals.Gap]:
    """Each ingredient's main effect in an ablation, over every seed of its runs (`effect`).

    Args:
        edges: the ablation's one-change pairs (`marslib.analysis.table1.one_change_pairs`).
        runs: run name -> its record (the names of `edges`' "from" and "to" columns).
        split, score: as for `effect`.

    Returns:
        ingredient ("changed") -> the mean gain of its pairs, with its interval.
    """
    from marslib.analysis import table1

    return {
        ingredient: _weighted(weights, runs, split, score)
        for ingredient, weights in table1.main_effect_weights(edges).items()
    }


def _weighted(
    weights: Mapping[str, float], runs: Mapping[str, RunRecord], split: str, score: str = "miou"
) -> intervals.Gap:
    """`effect` of runs named by `weights` (run name -> weight), looked up in `runs`."""
    return effect([(weight, runs[name]) for name, weight in weights.items()], split, score)


def _difference(first: Mapping[str, float], second: Mapping[str, float]) -> dict[str, float]:
    """The contrast `first` minus `second` (run name -> weight): a run both name counts once,
    and a run whose weights cancel drops out."""
    both = dict(first)
    for name, weight in second.items():
        both[name] = both.get(name, 0.0) - weight
    return {name: weight for name, weight in both.items() if weight != 0}


def recipe_beats_model(
    edges: pd.DataFrame,
    runs: Mapping[str, RunRecord],
    split: str,
    *,
    recipe: str = "data + loss",
    model: str = "model",
) -> bool | None:
    """The report's claim that the data and loss, "rather than the model", made the score, judged
    on the main effects of a two-by-two ablation (`main_effects`).

    Returns:
        True when the recipe's main effect is positive and larger than the model's; False when
        it is smaller than the model's, or negative; None when the runs cannot tell. Each of the
        two readings is `reading`'s: an interval over the seeds (the recipe's effect, and the
        recipe's minus the model's: one contrast, so the runs they share count once); None for
        runs of one seed, or when one of the runs `stopped_short`.
    """
    from marslib.analysis import table1

    weights = table1.main_effect_weights(edges)
    both = _difference(weights[recipe], weights[model])
    used = [runs[name] for name in {*weights[recipe], *weights[model]}]
    gain = _weighted(weights[recipe], runs, split)
    over = _weighted(both, runs, split)
    beats = reading(over, runs=used)
    helps = reading(gain, runs=used)
    if beats and helps:
        return True
    if beats is False or helps is False:
        return False
    return None


def smaller_than_recipe(
    gain: Mapping[str, float],
    edges: pd.DataFrame,
    runs: Mapping[str, RunRecord],
    split: str,
    *,
    recipe: str = "data + loss",
) -> bool | None:
    """Whether a gain is smaller than the recipe's main effect in a two-by-two ablation
    (`main_effects`): the report's "not a big source of improvement", set against what it names
    as the main one.

    Args:
        gain: run name -> weight, e.g. ``{"unet_fixed_monocolor": 1, "unet_baseline": -1}``.
        edges: the ablation's one-change pairs (`marslib.analysis.table1.one_change_pairs`).
        runs: every run that `gain` and the ablation name.
        split: "val" or "test".
        recipe: the ingredient of `edges` to compare with.

    Returns:
        True when the recipe's main effect minus the gain is positive, False when it is
        negative, None when the runs cannot tell (`reading`: an interval over the seeds, one
        contrast so that a run both name counts once).
    """
    from marslib.analysis import table1

    weights = table1.main_effect_weights(edges)[recipe]
    both = _difference(weights, gain)
    used = [runs[name] for name in {*weights, *gain}]
    return reading(_weighted(both, runs, split), runs=used)


def _score(record: RunRecord, split: str, score: str = "miou") -> float:
    """A record's own mIoU ("miou") or class IoU on `split` ("val" or "test"), from its metrics."""
    found = record.metrics[split] if split in ("val", "test") else None
    if not found:
        raise ValueError(f"{record.experiment.name} has no {split} score")
    name = _score_name(score)
    return float(found["miou"] if name == intervals.MIOU else found["per_class_iou"][name])


def compare_runs(first: RunRecord, second: RunRecord, *, split: str = "val") -> str:
    """What the two runs' mIoU on `split` ("val" or "test") supports, in two or three sentences:
    which is ahead over their seeds (or that they cannot be told apart), and whether the runs
    are finished. Runs of one seed cannot tell, whatever their gap; where one of them
    `stopped_short`, it says so and names the command that trains the converged references
    (`short_runs_note`).

    Examples:

    >>> import pandas as pd
    >>> from marslib import training
    >>> from marslib.analysis import verdicts
    >>> def record(name, val_miou, epochs_run=30):  # a chapter's: training.show(name, SHOWN, data)
    ...     return training.RunRecord(
    ...         directory=None, experiment=training.get(name, "reference"),
    ...         history=pd.DataFrame(), provenance={},
    ...         metrics={"val": {"miou": val_miou}, "test": None,
    ...                  "best_epoch": epochs_run - 1, "epochs_run": epochs_run})
    >>> base = record("unet_baseline", 0.512)
    >>> print(verdicts.compare_runs(base, record("unet_weighted", 0.604)))
    On validation mIoU, unet_weighted (0.604) and unet_baseline (0.512) cannot be told apart: a
    gap of +0.092 from single runs, whose seed spread is unmeasured (chapter 15). All 2 runs
    trained their whole fixed schedule, the learning rate decayed to 0 and the last epoch kept:
    finished runs.
    """
    if split not in ("val", "test"):
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    a, b = _score(first, split), _score(second, split)
    one, two = first.experiment.name, second.experiment.name
    what = "validation mIoU" if split == "val" else "test mIoU (public quarter)"
    short = short_runs_note([first, second])
    if short is not None:
        text = f"On {what}, {two} {b:.3f} and {one} {a:.3f} (a gap of {b - a:+.3f}): {short}"
    elif seeded([first, second]):
        text = _seeded_comparison(first, second, split, what)
    else:
        text = (
            f"On {what}, {two} ({b:.3f}) and {one} ({a:.3f}) cannot be told apart: a gap of "
            f"{b - a:+.3f} from single runs, whose seed spread is unmeasured (chapter 15)."
        )
    return f"{text} {describe_training([first, second])}"


def _seeded_comparison(first: RunRecord, second: RunRecord, split: str, what: str) -> str:
    """compare_runs' sentence for runs that carry their seeds: means and the gap's interval."""
    found = effect([(1.0, second), (-1.0, first)], split)
    one, two = first.experiment.name, second.experiment.name
    seeds = f"{found.seeds_b} and {found.seeds_a} seeds"
    interval = f"{found.confidence:.0%} interval {found.low:+.3f} to {found.high:+.3f}"
    if found.verdict == "cannot tell":
        return (
            f"On {what}, {two} ({found.mean_a:.3f}, mean of {found.seeds_a} seeds) and {one} "
            f"({found.mean_b:.3f}, of {found.seeds_b}) cannot be told apart: a gap of "
            f"{found.gap:+.3f}, {interval}, which holds 0: another draw of seeds or of images "
            "could reverse it."
        )
    lead, trail = (two, one) if found.verdict == "ahead" else (one, two)
    return (
        f"On {what}, {lead} is ahead of {trail} by {abs(found.gap):.3f} over {seeds} ({two} "
        f"{found.mean_a:.3f}, {one} {found.mean_b:.3f}; {interval} for {two} minus {one}, "
        "clear of 0)."
    )


def against(
    base: RunRecord, others: Sequence[RunRecord], *, splits: Sequence[str] | None = None
) -> pd.DataFrame:
    """Each run of `others` set against `base`, one row each: its mIoU on every split of `splits`
    ("val", "test"; default: validation, and the test set's public quarter where every run has a
    test score), the gain over `base` there, its 95% interval and what the gap supports.

    Where every run carries its seeds (`seeded`), the scores are the means over the seeds and
    the reading is the interval's ("ahead", "behind" or "cannot tell": `effect`, `reading`);
    runs of one seed give their own scores, no interval and "cannot tell"; so does every run
    when one of them `stopped_short`.

    Returns:
        DataFrame indexed by experiment name, base first (gain 0, verdict "(base)"), with columns
        "<split> mIoU", "<split> gain" (float), "<split> interval" (str, "" without one) and
        "<split>" (str) for each split; where the verdicts read "cannot tell" because runs
        stopped short, ``table.attrs["note"]`` holds the sentence that says why and how to train
        the references (`short_runs_note`).

    Examples:

    >>> import pandas as pd
    >>> from marslib import training
    >>> from marslib.analysis import verdicts
    >>> def record(name, val_miou, epochs_run=30):  # a chapter's: training.show(name, SHOWN, data)
    ...     return training.RunRecord(
    ...         directory=None, experiment=training.get(name, "reference"),
    ...         history=pd.DataFrame(), provenance={},
    ...         metrics={"val": {"miou": val_miou}, "test": None,
    ...                  "best_epoch": epochs_run - 1, "epochs_run": epochs_run})
    >>> base = record("unet_baseline", 0.512)
    >>> others = [record("unet_weighted", 0.604), record("unet_dice", 0.521)]
    >>> verdicts.against(base, others).round(3)  # one seed each: no interval
                   val mIoU  val gain val interval          val
    unet_baseline     0.512     0.000                    (base)
    unet_weighted     0.604     0.092               cannot tell
    unet_dice         0.521     0.009               cannot tell
    """
    if not others:
        raise ValueError("no runs to set against the base run")
    if splits is None:
        tested = all(record.test_miou is not None for record in (base, *others))
        splits = ("val", "test") if tested else ("val",)
    unknown = [split for split in splits if split not in ("val", "test")]
    if unknown:
        raise ValueError(f"splits must be 'val' or 'test', got {unknown}")
    short = short_runs_note([base, *others])
    with_seeds = short is None and seeded([base, *others])
    rows = {}
    for record in (base, *others):
        row: dict[str, float | str] = {}
        for split in splits:
            if record is base:
                mean = effect([(1.0, base)], split).gap if with_seeds else _score(base, split)
                row[f"{split} mIoU"], row[f"{split} gain"] = mean, 0.0
                row[f"{split} interval"], row[split] = "", "(base)"
            elif with_seeds:
                found = effect([(1.0, record), (-1.0, base)], split)
                row[f"{split} mIoU"], row[f"{split} gain"] = found.mean_a, found.gap
                row[f"{split} interval"] = f"{found.low:+.3f} to {found.high:+.3f}"
                row[split] = found.verdict
            else:
                score = _score(record, split)
                row[f"{split} mIoU"], row[f"{split} gain"] = score, score - _score(base, split)
                row[f"{split} interval"], row[split] = "", "cannot tell"
        rows[record.experiment.name] = row
    table = pd.DataFrame(rows).T.infer_objects()
    if short is not None:
        table.attrs["note"] = short
    return table


def describe_training(records: Sequence[RunRecord]) -> str:
    """One sentence on how far a set of runs trained, and so what their scores can stand for."""
    if not records:
        raise ValueError("no records given")
    fixed = [r for r in records if finished_schedule(r)]
    done = [r for r in records if converged(r) or finished_schedule(r)]
    if len(done) == len(records):
        if len(fixed) == len(records):
            return (
                f"All {len(records)} runs trained their whole fixed schedule, the learning rate "
                "decayed to 0 and the last epoch kept: finished runs."
            )
        if not fixed:
            return (
                f"All {len(records)} runs ended by early stopping: the scores are those of "
                "converged runs, one seed each."
            )
        return (
            f"All {len(records)} runs are finished: ended by early stopping or by their fixed "
            "schedule."
        )
    short = [r for r in records if r not in done]
    budgets = sorted({r.experiment.resolved().epochs for r in short})
    profiles = sorted({r.experiment.profile for r in short})
    stopped = "all" if not done else f"{len(records) - len(done)} of the {len(records)}"
    improving = sum(r.metrics["best_epoch"] + 1 == r.metrics["epochs_run"] for r in short)
    return (
        f"These are short runs, not converged ones: {stopped} stopped at their budget of "
        f"{' or '.join(map(str, budgets))} epochs ({' and '.join(profiles)} profile), "
        f"{improving} of them still improving at the last epoch. Their scores say how far each "
        "recipe gets in a short run, not where it would end, and a recipe that learns slowly "
        "ranks low in such runs whatever it would reach."
    )
