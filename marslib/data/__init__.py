"""The data layer: the Mars terrain images and masks, what they hold, and how they are cleaned.

- `loading`: the real `mars_for_students.npz` or the synthetic stand-in, as `MarsData`;
- `synthetic`: the synthetic Mars set, with the real file's format and statistics;
- `splits`: the train/validation split and the test set's public quarter;
- `stats`: pixel frequencies, presence, class weights;
- `cleaning`: the aliens, single- and two-class masks, reviewed label fixes;
- `label_audit`: texture features that propose label fixes for a person to review;
- `describe`: a data set in a few lines of text.

The names a chapter uses most are importable from here::

    from marslib import data as mars_data
    data = mars_data.load()
    train_indices, val_indices = mars_data.split(data)
"""

from marslib.data.loading import (
    MarsData,
    from_arrays,
    load,
    read_npz,
    save_npz,
    synthetic_data,
    to_model_input,
)
from marslib.data.splits import SPLIT_SEED, public_indices, split

__all__ = [
    "MarsData",
    "from_arrays",
    "load",
    "SPLIT_SEED",
    "public_indices",
    "read_npz",
    "save_npz",
    "split",
    "synthetic_data",
    "to_model_input",
]
