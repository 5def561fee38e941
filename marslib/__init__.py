"""marslib: the small tested library under the Mars terrain segmentation book.

The package is cut into layers, one folder (or module) each, listed here from the bottom up.
Each imports only the layers above it in this list (a test checks it), so the list reads as the
data flow from a file on disk to a score:

- `core`: classes, folders, the profile switch, argument checks, atomic files, code versions;
- `data`: loading the real file or the synthetic set, splits, statistics, cleaning;
- `augment`: hand-written and Albumentations transforms, Big Rock balancing, the tf.data pipeline;
- `models`: the five architectures and prediction;
- `losses`: the segmentation losses, named by spec;
- `metrics`: the competition's mIoU and the scores of a prediction;
- `datasets`: the named training datasets a run trains on;
- `training`: experiments, the registry of named runs, the trainer, run records;
- `evaluation`: submissions, ensembles, the refinement net;
- `analysis`: reading results: Table 1, mistakes, borders, patchiness, label noise;
- `bench`: benchmarks that print figures measured on this machine;
- `figures`: every picture the book draws;
- `commands` and `cli`: ``python -m marslib``.

Importing the package is cheap: TensorFlow and Keras are imported only by the modules that
need them (the model builders, the losses, the trainer, ...).
"""

import os as _os

# Albumentations asks the web for a newer version at import; this book works offline.
_os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
# Keep TensorFlow's start-up chatter out of the chapters.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from marslib.core.profiles import PROFILES, Profile, profile  # noqa: E402

__version__ = "0.2.0"

__all__ = ["PROFILES", "Profile", "__version__", "profile"]
