"""marslib: the small tested library under the Mars terrain segmentation book.

Importing the package is cheap: TensorFlow and Keras are imported only by the modules
that need them (`marslib.models`, `marslib.losses`, `marslib.train`, ...).
"""

import os as _os

# Albumentations asks the web for a newer version at import; this book works offline.
_os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
# Keep TensorFlow's start-up chatter out of the chapters.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from marslib.profiles import PROFILES, Profile, profile  # noqa: E402

__version__ = "0.1.0"

__all__ = ["PROFILES", "Profile", "profile", "__version__"]
