"""The analysis layer: measurements that read predictions, models and records.

- `table1`: the report's Table 1 beside ours, every run's scores, pairs of rows one change apart;
- `errors`: background use, confusions, kinds of mistakes, wrong labels followed or not;
- `borders`: accuracy by distance to a region border;
- `patchiness`: how fragmented a label map is;
- `inspection`: receptive fields, attention coefficients, a model's sub-network, showcase images;
- `convolutions`: one set of weights on any image size, transposed convolution against
  upsampling;
- `label_noise`: a confident-learning audit of the training labels;
- `verdicts`: what a comparison of runs supports (intervals over the seeds, convergence);
- `intervals`: how sure a gap between recipes is, from their seeds and their scored images;
- `additions`: chapter 13's ideas over every seed of the recipe, each gain with its interval.
"""
