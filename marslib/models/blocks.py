"""Building blocks shared by every architecture of the zoo, written once.

Functional helpers take and return symbolic Keras tensors of shape (B, H, W, C) and name
their layers after the block (``{name}_conv``, ``{name}_bn``, ...), so a model summary reads
as the architecture. Two blocks carry weights of their own and are custom layers, registered
serializable so that every model saves to and reloads from ``.keras`` with ``safe_mode`` on:

- `SqueezeExcitation` (Hu et al., 2018): re-weights the channels of a feature map.
- `AttentionGate` (Oktay et al., 2018): re-weights the pixels of an encoder skip connection,
  guided by the coarser decoder features.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers, ops

KerasTensor = keras.KerasTensor


def positive_int(value: object, what: str) -> int:
    """Return `value` if it is a positive int (not a bool),
    else raise a ValueError naming `what`."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return value


def image_input(
    input_shape: Sequence[int], multiple: int, *, architecture: str, why: str
) -> KerasTensor:
    """Validate an input shape and return the model's `keras.Input`.

    Args:
        input_shape: (H, W, 1): greyscale images whose height and width are
            positive multiples of `multiple`.
        multiple: what H and W must be divisible by.
        architecture: model name, for the error message.
        why: the reason for `multiple`, for the error message (e.g. "3 poolings halve them").

    Raises:
        ValueError: when the shape is not three positive integers, has a channel count other
            than 1, or H or W is not a multiple of `multiple`.
    """
    shape = tuple(input_shape) if isinstance(input_shape, Sequence) else (input_shape,)
    if len(shape) != 3 or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in shape
    ):
        raise ValueError(
            f"{architecture}: input_shape must be three positive integers (H, W, 1), "
            f"got {input_shape!r}"
        )
    height, width, channels = shape
    if channels != 1:
        raise ValueError(
            f"{architecture}: expected greyscale images with 1 channel, "
            f"got input_shape {shape} with {channels} channels"
        )
    if height % multiple or width % multiple:
        raise ValueError(
            f"{architecture}: height and width must be multiples of {multiple} ({why}), "
            f"got {height}x{width}"
        )
    return keras.Input(shape=shape, name="image")


def conv_bn_act(
    x: KerasTensor, filters: int, *, name: str, kernel_size: int = 3, dilation_rate: int = 1
) -> KerasTensor:
    """Convolution ("same" padding, no bias) -> batch normalisation -> ReLU.

    The normalisation's running statistics use momentum 0.9 (Keras' default is 0.99), so
    they settle within a few dozen steps: a quick CPU run of a few hundred steps otherwise
    validates with statistics still far from the data's.

    Returns:
        Tensor (B, H, W, filters): same height and width as `x`.
    """
    x = layers.Conv2D(
        filters,
        kernel_size,
        padding="same",
        dilation_rate=dilation_rate,
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv_stack(
    x: KerasTensor, filters: int, *, name: str, se_ratio: int | None = None
) -> KerasTensor:
    """Two `conv_bn_act` 3x3 blocks, then a `SqueezeExcitation` when `se_ratio` is given.

    Returns:
        Tensor (B, H, W, filters).
    """
    x = conv_bn_act(x, filters, name=f"{name}_a")
    x = conv_bn_act(x, filters, name=f"{name}_b")
    if se_ratio is not None:
        x = SqueezeExcitation(ratio=se_ratio, name=f"{name}_se")(x)
    return x


def encoder(
    x: KerasTensor, base_filters: int, depth: int, *, name: str, se_ratio: int | None = None
) -> tuple[KerasTensor, list[KerasTensor]]:
    """The contracting path: `depth` stages of `conv_stack` then 2x2 max pooling.

    Stage i has ``base_filters * 2**i`` filters.

    Returns:
        (x, skips): x (B, H / 2**depth, W / 2**depth, C) after the last pooling; skips the
        feature maps before each pooling, finest first: skip i is
        (B, H / 2**i, W / 2**i, base_filters * 2**i).
    """
    skips = []
    for stage in range(depth):
        x = conv_stack(x, base_filters * 2**stage, name=f"{name}{stage + 1}", se_ratio=se_ratio)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"{name}{stage + 1}_pool")(x)
    return x, skips


def decoder_stage(
    x: KerasTensor,
    skip: KerasTensor,
    filters: int,
    *,
    name: str,
    attention: bool = False,
    se_ratio: int | None = None,
) -> KerasTensor:
    """One expanding step: 2x upsampling, concatenation with the skip, `conv_stack`.

    With `attention`, the skip first passes an `AttentionGate` whose query is `x` (the decoder
    features before upsampling) and whose key/value is the skip.

    Args:
        x: decoder features (B, h, w, C).
        skip: encoder features (B, 2h, 2w, C_skip).

    Returns:
        Tensor (B, 2h, 2w, filters).
    """
    if attention:
        skip = AttentionGate(filters=max(1, skip.shape[-1] // 2), name=f"{name}_gate")([skip, x])
    x = layers.UpSampling2D(2, name=f"{name}_up")(x)
    x = layers.Concatenate(name=f"{name}_concat")([x, skip])
    return conv_stack(x, filters, name=name, se_ratio=se_ratio)


def decoder(
    x: KerasTensor,
    skips: Sequence[KerasTensor],
    base_filters: int,
    *,
    name: str,
    attention: bool = False,
    se_ratio: int | None = None,
) -> KerasTensor:
    """The expanding path: one `decoder_stage` per skip, coarsest first.

    Returns:
        Tensor (B, H, W, base_filters) at the resolution of the finest skip.
    """
    for stage in reversed(range(len(skips))):
        x = decoder_stage(
            x,
            skips[stage],
            base_filters * 2**stage,
            name=f"{name}{stage + 1}",
            attention=attention,
            se_ratio=se_ratio,
        )
    return x


def classifier(
    x: KerasTensor, num_classes: int, *, name: str = "classifier", upsample: int = 1
) -> KerasTensor:
    """1x1 convolution to class scores, optional bilinear upsampling, then softmax in float32.

    The softmax runs in float32 even under the `mixed_float16` policy, so probabilities and
    losses keep full precision.

    Returns:
        Tensor (B, H * upsample, W * upsample, num_classes),
        float32 probabilities summing to 1 over the last axis.
    """
    x = layers.Conv2D(num_classes, 1, name=f"{name}_logits")(x)
    if upsample > 1:
        x = layers.UpSampling2D(upsample, interpolation="bilinear", name=f"{name}_upsample")(x)
    return layers.Activation("softmax", dtype="float32", name=name)(x)


def aspp(x: KerasTensor, filters: int, rates: Sequence[int], *, name: str = "aspp") -> KerasTensor:
    """Atrous Spatial Pyramid Pooling (Chen et al., 2017).

    Parallel branches on the same features: a 1x1 convolution, one 3x3 convolution per
    dilation rate in `rates`, and image pooling (global average -> 1x1 convolution -> broadcast
    back to the map's size). Their concatenation is merged by a 1x1 `conv_bn_act`.

    Returns:
        Tensor (B, h, w, filters), same height and width as `x`.
    """
    height, width = x.shape[1], x.shape[2]
    branches = [conv_bn_act(x, filters, kernel_size=1, name=f"{name}_1x1")]
    branches += [
        conv_bn_act(x, filters, dilation_rate=rate, name=f"{name}_rate{rate}") for rate in rates
    ]
    pooled = layers.GlobalAveragePooling2D(keepdims=True, name=f"{name}_image_pool")(x)
    pooled = conv_bn_act(pooled, filters, kernel_size=1, name=f"{name}_image")
    branches.append(layers.UpSampling2D((height, width), name=f"{name}_image_up")(pooled))
    merged = layers.Concatenate(name=f"{name}_concat")(branches)
    return conv_bn_act(merged, filters, kernel_size=1, name=f"{name}_project")


def pyramid_pooling(
    x: KerasTensor, filters: int, bins: Sequence[int], *, name: str = "ppm"
) -> KerasTensor:
    """Pyramid pooling module (Zhao et al., 2017).

    One path per bin b: average pooling to a b x b grid, two 3x3 `conv_bn_act`, bilinear
    upsampling back to the map's size. The input and every path are concatenated.

    Args:
        x: features (B, h, w, C) with h and w divisible by every bin.
        bins: grid sizes, e.g. (1, 2, 4, 8): 1 is global average pooling.

    Returns:
        Tensor (B, h, w, C + len(bins) * filters).

    Raises:
        ValueError: when h or w is not divisible by a bin.
    """
    height, width = x.shape[1], x.shape[2]
    bad = [b for b in bins if b < 1 or height % b or width % b]
    if bad:
        raise ValueError(
            f"pyramid pooling bins {list(bad)} do not divide the {height}x{width} bottleneck; "
            f"every bin must divide both (choose smaller bins or a smaller depth)"
        )
    paths = [x]
    for b in bins:
        factor = (height // b, width // b)
        y = layers.AveragePooling2D(pool_size=factor, strides=factor, name=f"{name}_pool{b}")(x)
        y = conv_bn_act(y, filters, name=f"{name}_pool{b}_a")
        y = conv_bn_act(y, filters, name=f"{name}_pool{b}_b")
        paths.append(
            layers.UpSampling2D(factor, interpolation="bilinear", name=f"{name}_pool{b}_up")(y)
        )
    return layers.Concatenate(name=f"{name}_concat")(paths)


@keras.saving.register_keras_serializable(package="marslib")
class SqueezeExcitation(layers.Layer):
    """Squeeze-and-excitation (Hu et al., 2018): learn one weight in (0, 1) per channel.

    squeeze: global average over H and W, (B, C); excite: Dense(C // ratio, ReLU) then
    Dense(C, sigmoid), giving scales s (B, C); output: ``x * s`` broadcast over H and W.

    Args:
        ratio: channel reduction of the hidden layer (at least 1 hidden unit).
    """

    def __init__(self, ratio: int = 4, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ratio = positive_int(ratio, "ratio")

    def build(self, input_shape: tuple) -> None:
        channels = input_shape[-1]
        hidden = max(1, channels // self.ratio)
        self.squeeze = layers.Dense(hidden, activation="relu", name="squeeze")
        self.excite = layers.Dense(channels, activation="sigmoid", name="excite")
        self.squeeze.build((None, channels))
        self.excite.build((None, hidden))

    def scales(self, inputs: KerasTensor) -> KerasTensor:
        """Per-channel weights (B, C) in (0, 1) for features `inputs` (B, H, W, C)."""
        return self.excite(self.squeeze(ops.mean(inputs, axis=(1, 2))))

    def call(self, inputs: KerasTensor) -> KerasTensor:
        return inputs * self.scales(inputs)[:, None, None, :]

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "ratio": self.ratio}


@keras.saving.register_keras_serializable(package="marslib")
class AttentionGate(layers.Layer):
    """Additive attention gate (Oktay et al., 2018) on a U-Net skip connection.

    Called on ``[skip, gating]``: the skip (B, H, W, C) from the encoder is the key and the
    value, the gating signal (B, H/2, W/2, C_g) from the decoder is the query. At the
    gating resolution::

        q = W_g * gating + b            (1x1 convolution, `filters` channels)
        k = W_x * skip                  (2x2 convolution with stride 2, `filters` channels)
        alpha = sigmoid(psi * relu(q + k) + b_psi)      (1x1 convolution to one channel)

    alpha is upsampled bilinearly to (H, W) (so it stays in [0, 1]) and the output is
    ``skip * alpha``: pixels the decoder finds irrelevant are damped before the concatenation.

    Args:
        filters: channels of the intermediate space where key and query are added.
    """

    def __init__(self, filters: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.filters = positive_int(filters, "filters")

    def build(self, input_shape: list) -> None:
        skip_shape, gating_shape = input_shape
        if skip_shape[1] != 2 * gating_shape[1] or skip_shape[2] != 2 * gating_shape[2]:
            raise ValueError(
                "the skip must have twice the gating signal's height and width, "
                f"got skip {tuple(skip_shape)} and gating {tuple(gating_shape)}"
            )
        self.key = layers.Conv2D(self.filters, 2, strides=2, use_bias=False, name="key")
        self.query = layers.Conv2D(self.filters, 1, name="query")
        self.psi = layers.Conv2D(1, 1, activation="sigmoid", name="psi")
        self.upsample = layers.UpSampling2D(2, interpolation="bilinear", name="upsample")
        self.key.build(skip_shape)
        self.query.build(gating_shape)
        self.psi.build((*gating_shape[:3], self.filters))

    def coefficients(self, skip: KerasTensor, gating: KerasTensor) -> KerasTensor:
        """Attention coefficients alpha (B, H, W, 1) in [0, 1] at the skip's resolution."""
        alpha = self.psi(ops.relu(self.key(skip) + self.query(gating)))
        return self.upsample(alpha)

    def call(self, inputs: list) -> KerasTensor:
        skip, gating = inputs
        # TensorFlow's bilinear resize returns float32 whatever it is given: under a bfloat16
        # or float16 policy the coefficients come back float32, and the product needs one dtype.
        return skip * ops.cast(self.coefficients(skip, gating), skip.dtype)

    def compute_output_shape(self, input_shape: list) -> tuple:
        return tuple(input_shape[0])

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters}
