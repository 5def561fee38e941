"""Augmentation: more training pictures from the ones we have, and more Big Rock among them.

- `marslib.augment.hand`: geometric transforms written by hand, applied to image and mask together;
- `marslib.augment.albu`: the same and richer transforms as named Albumentations pipelines;
- `marslib.augment.balance`: Big Rock balancing (crops around rocks, CutMix) and the dataset variants
  balanced_bigrock, augmented_bigrock and cutmix_bigrock;
- `marslib.augment.pipeline`: on-the-fly augmentation in a `tf.data` input pipeline;
- `marslib.augment.bench`: throughput of the three ways to augment;
- `marslib.augment.plots`: the chapter's figures.

Import the submodule you need; importing this package loads neither TensorFlow nor Albumentations.
"""
