"""The figures layer: every picture the book draws, built on the layers below.

- `plots`: galleries of images and masks, class legends, grey-level histograms;
- `charts`: class statistics (pixel frequencies, presence, weights) and the label audit's threshold;
- `augmentation`: transform galleries, rock crops, CutMix, class shares, augmentation throughput;
- `diagrams`: the architectures as block diagrams, atrous kernels;
- `results`: confusion heatmaps, prediction galleries, learning curves, comparisons,
  the threshold sweep;
- `attention`: where attention gates look.
"""
