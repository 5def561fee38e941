"""The bottom layer: what every other layer may use and that uses nothing of marslib.

- `classes`: the five terrain classes, their names, the palette;
- `paths`: where the data cache and the training runs live;
- `profiles`: the one profile switch (quick, full);
- `checks`: argument checks shared by every layer (labels, integers, numbers);
- `files`: atomic writes and JSON files;
- `versions`: the versions of the code that makes cached datasets and run records.
"""
