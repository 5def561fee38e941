"""Sub-commands of `python -m marslib`, one module each (see `marslib.cli`)."""
