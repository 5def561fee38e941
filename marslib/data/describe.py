"""A data set in a few lines of text: source, shapes, class shares and presence, planted traps.

print("\n".join(describe(data)))
"""

from __future__ import annotations

from marslib.core.classes import CLASS_NAMES
from marslib.data import stats
from marslib.data.loading import MarsData


def describe(data: MarsData) -> list[str]:
    """Lines describing `data`: source, shapes, class shares and presence, traps (synthetic)."""
    test_labels = "known" if data.test_masks is not None else "unknown"
    lines = [
        f"source        {data.source}",
        f"fingerprint   {data.fingerprint}",
        (
            f"train         images {data.train_images.shape} {data.train_images.dtype}, "
            f"masks {data.train_masks.shape}"
        ),
        f"test          images {data.test_images.shape}, labels {test_labels}",
        "",
        f"{'class':<12} {'pixel share':>12} {'images with it':>15}",
    ]
    shares = stats.pixel_frequencies(data.train_masks)
    present = stats.presence(data.train_masks).mean(axis=0)
    for name, share, images in zip(CLASS_NAMES, shares, present):
        lines.append(f"{name:<12} {100 * share:>11.2f}% {100 * images:>14.1f}%")
    single = (stats.classes_per_image(data.train_masks) == 1).mean()
    lines.append(f"single-class masks: {100 * single:.1f}% of the training images")
    if data.meta:
        lines.append(
            f"planted traps: {len(data.meta['alien_indices'])} aliens, "
            f"{len(data.meta['mislabeled_indices'])} wrong single-class labels, "
            f"{len(data.meta['coarse_indices'])} coarse masks"
        )
    return lines
