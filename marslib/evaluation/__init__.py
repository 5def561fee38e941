"""The evaluation layer: what is done with trained models beyond their own scores.

- `submission`: the competition's CSV, written and read back, and the local leaderboard;
- `ensemble`: averaging models and flip averaging (TTA), scored by `marslib.metrics.scores`;
- `refine`: the refinement net's rule (background net + multi-class model) and its threshold;
- `scoring`: the images every idea of the chapter "beyond the report" is scored on.
"""
