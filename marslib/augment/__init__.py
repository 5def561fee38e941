"""Augmentation: more training pictures from the ones we have, and more Big Rock among them.

- `marslib.augment.hand`: geometric transforms written by hand, applied to image and mask together;
- `marslib.augment.albu`: the same and richer transforms as named Albumentations pipelines;
- `marslib.augment.balance`: Big Rock balancing (crops around rocks, CutMix, oversampling) and the
  builders of the datasets balanced_bigrock, augmented_bigrock_level, augmented_bigrock_vflip,
  cutmix_bigrock_level, oversampled_bigrock_level, cutmix_bigrock and oversampled_bigrock;
- `marslib.augment.pipeline`: on-the-fly augmentation in a `tf.data` input pipeline;
- `marslib.bench.augment`: throughput of the three ways to augment;
- `marslib.figures.augmentation`: the chapter's figures.

Import the submodule you need; importing this package loads neither TensorFlow nor Albumentations.
"""

# The on-the-fly augmentations of `marslib.augment.pipeline`, by name: the steps each applies.
AUGMENTATIONS: dict[str, tuple[str, ...]] = {
    "hflip": ("hflip",),
    "flips": ("hflip", "vflip"),
    "safe": ("hflip", "shift"),
    "safe_vflip": ("hflip", "vflip", "shift"),
}
