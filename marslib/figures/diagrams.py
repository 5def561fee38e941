"""Block diagrams of the five architectures, drawn with matplotlib from the models' own sizes.

    from marslib.figures import diagrams
    diagrams.draw("pspnet", size="quick")   # the model `marslib.models.build` makes at that size
    diagrams.unet(base_filters=8, depth=4)  # or any size you like

Each box is one block of the model, labelled with what it is and the shape H×W×C of the
features it outputs for a 64×128 image, computed the way the model computes them. Solid arrows
are the data flow, dashed arrows the skip connections, dotted arrows the queries of attention
gates. Each box is keyed by the name of the Keras layer whose output it shows, and every artist
carries that key as its gid, so the figure can be checked against the model it depicts:

- ``block:<layer name>``: the box (a `FancyBboxPatch`), ``label:<layer name>``: its text;
- ``arrow:<kind>:<from>-><to>``: an arrow (a `FancyArrowPatch`), kind "flow", "skip" or "query".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.models.attention_psp import build_attention_psp
from marslib.models.deeplabv3 import build_deeplabv3
from marslib.models.pspnet import build_pspnet
from marslib.models.unet import build_unet
from marslib.models.wnet import build_wnet

# kind of box -> (face colour, legend text)
BOX_KINDS: dict[str, tuple[str, str]] = {
    "io": ("#e6e6e6", "input / output"),
    "encoder": ("#9ecae1", "encoder stage: 2 × (conv 3×3, BN, ReLU); arrow down: max pool 2×2"),
    "bottleneck": ("#fdd0a2", "bottleneck: 2 × (conv 3×3, BN, ReLU)"),
    "context": ("#fdae6b", "multi-scale context: parallel paths, concatenated and merged"),
    "decoder": (
        "#a1d99b",
        "decoder stage: arrow up: upsample 2×; concatenate the skip; 2 × conv 3×3",
    ),
    "gate": ("#f4a6c6", "attention gate: weights the skip's pixels"),
    "head": ("#d9d2e9", "classifier: conv 1×1 to 5 class scores (softmax)"),
    "step": ("#ffffff", "one operation"),
}
# kind of arrow -> (matplotlib line style, colour, legend text)
ARROW_KINDS: dict[str, tuple[str, str, str]] = {
    "flow": ("-", "#333333", "data flow"),
    "skip": ("--", "#777777", "skip connection (copied across)"),
    "query": (":", "#c2185b", "gate's query: decoder features one level deeper"),
}
BOX_SIZE = (1.0, 0.56)
SMALL_BOX = (1.0, 0.46)
GATE_SIZE = (0.8, 0.46)
WIDE_BOX = (1.16, 0.56)
X_STEP = 1.25  # horizontal distance between two columns of blocks
STACK_STEP = 0.58  # vertical distance between the parallel paths of a context module


def shape_text(height: int, width: int, channels: int) -> str:
    """The label of a feature map's shape, e.g. ``shape_text(64, 128, 8) == "64×128×8"``."""
    return f"{height}×{width}×{channels}"


@dataclass(frozen=True)
class Box:
    """A box of a diagram: centre (x, y) and size in data units."""

    x: float
    y: float
    width: float
    height: float

    def edge_toward(self, x: float, y: float) -> tuple[float, float]:
        """Where the line from the centre toward (x, y) leaves the box."""
        dx, dy = x - self.x, y - self.y
        scales = [half / abs(d) for half, d in ((self.width / 2, dx), (self.height / 2, dy)) if d]
        scale = min(scales) if scales else 0.0
        return self.x + scale * dx, self.y + scale * dy


class Diagram:
    """A block diagram being drawn: boxes keyed by name, arrows between them, a legend.

    Positions are given in columns and levels: column c is drawn at x = c * `x_step`, level y
    at height y (one resolution level is 1 high), and `finish` sizes the figure so that a
    unit is `inches_per_unit` inches.
    """

    def __init__(self, title: str, *, x_step: float = X_STEP) -> None:
        self.title = title
        self.x_step = x_step
        self.figure, self.ax = plt.subplots()
        self.boxes: dict[str, Box] = {}
        self.box_kinds: list[str] = []
        self.arrow_kinds: list[str] = []

    def box(
        self,
        key: str,
        x: float,
        y: float,
        text: str,
        kind: str,
        *,
        size: tuple[float, float] = BOX_SIZE,
        fontsize: float = 7,
    ) -> None:
        """Draw a rounded box centred on column `x`, level `y`, with `text`,
        coloured by `kind` (a key of `BOX_KINDS`)."""
        if key in self.boxes:
            raise ValueError(f"the diagram already has a box {key!r}")
        if kind not in BOX_KINDS:
            raise ValueError(f"unknown box kind {kind!r}; known kinds: {list(BOX_KINDS)}")
        width, height = size
        x = x * self.x_step
        self.boxes[key] = Box(x, y, width, height)
        if kind not in self.box_kinds:
            self.box_kinds.append(kind)
        self.ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - height / 2),
                width,
                height,
                boxstyle="round,pad=0,rounding_size=0.07",
                facecolor=BOX_KINDS[kind][0],
                edgecolor="#444444",
                linewidth=0.8,
                gid=f"block:{key}",
            )
        )
        self.ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, gid=f"label:{key}")

    def arrow(
        self,
        start: str,
        end: str,
        kind: str = "flow",
        *,
        text: str | None = None,
        elbow: bool = False,
    ) -> None:
        """Draw an arrow from box `start` to box `end`.

        Args:
            kind: a key of `ARROW_KINDS`.
            text: a short note written beside the arrow.
            elbow: instead of a straight line between the boxes' edges, go straight down from
                the bottom of `start`, then sideways into `end` (to go around other boxes).
        """
        if kind not in ARROW_KINDS:
            raise ValueError(f"unknown arrow kind {kind!r}; known kinds: {list(ARROW_KINDS)}")
        missing = [key for key in (start, end) if key not in self.boxes]
        if missing:
            raise ValueError(
                f"no box {missing[0]!r} to draw an arrow from or to; boxes: {list(self.boxes)}"
            )
        a, b = self.boxes[start], self.boxes[end]
        if elbow:
            side = 1 if a.x > b.x else -1
            tail, head = (a.x, a.y - a.height / 2), (b.x + side * b.width / 2, b.y)
            connection = f"angle,angleA={90 if side > 0 else -90},angleB=0,rad=0"
        else:
            tail, head = a.edge_toward(b.x, b.y), b.edge_toward(a.x, a.y)
            connection = "arc3,rad=0"
        style, colour, _ = ARROW_KINDS[kind]
        if kind not in self.arrow_kinds:
            self.arrow_kinds.append(kind)
        self.ax.add_patch(
            FancyArrowPatch(
                tail,
                head,
                arrowstyle="-|>",
                mutation_scale=8,
                linestyle=style,
                color=colour,
                linewidth=1.0,
                connectionstyle=connection,
                shrinkA=1,
                shrinkB=1,
                gid=f"arrow:{kind}:{start}->{end}",
            )
        )
        if text:
            if elbow:  # above the horizontal stretch
                self.ax.text(
                    (head[0] + a.x) / 2,
                    head[1] + 0.06,
                    text,
                    ha="center",
                    va="bottom",
                    fontsize=6.5,
                    style="italic",
                    color=colour,
                )
            else:  # left of the middle
                x, y = (tail[0] + head[0]) / 2, (tail[1] + head[1]) / 2
                self.ax.text(
                    x - 0.1,
                    y,
                    text,
                    ha="right",
                    va="center",
                    fontsize=6.5,
                    style="italic",
                    color=colour,
                )

    def stack(
        self,
        source: str,
        x: float,
        y: float,
        paths: Sequence[tuple[str, str]],
        merge: tuple[str, str],
        kind: str = "context",
    ) -> str:
        """Parallel paths in a column at `x`, fed by `source`, merged in one box at ``x + 1``.

        Args:
            source: the box every path reads (it should sit at ``x - 1``).
            y: the height of the column's centre and of the merge box.
            paths: (key, text) of each path, top to bottom.
            merge: (key, text) of the box that concatenates and merges them.

        Returns:
            The merge box's key.
        """
        top = y + STACK_STEP * (len(paths) - 1) / 2
        for row, (key, text) in enumerate(paths):
            self.box(key, x, top - row * STACK_STEP, text, kind, size=SMALL_BOX, fontsize=6.5)
            self.arrow(source, key)
        self.box(merge[0], x + 1, y, merge[1], kind, size=WIDE_BOX)
        for key, _ in paths:
            self.arrow(key, merge[0])
        return merge[0]

    def finish(self, *, inches_per_unit: float = 0.82, legend: bool = True) -> Figure:
        """Frame the boxes, add the title and (with `legend`) a legend of the kinds used;
        return the figure."""
        left = min(b.x - b.width / 2 for b in self.boxes.values()) - 0.1
        right = max(b.x + b.width / 2 for b in self.boxes.values()) + 0.1
        bottom = min(b.y - b.height / 2 for b in self.boxes.values()) - 0.1
        top = max(b.y + b.height / 2 for b in self.boxes.values()) + 0.1
        self.ax.set_xlim(left, right)
        self.ax.set_ylim(bottom, top)
        self.ax.set_aspect("equal")
        self.ax.axis("off")
        self.figure.set_size_inches(
            (right - left) * inches_per_unit, (top - bottom) * inches_per_unit + 1.3 * legend
        )
        self.ax.set_title(self.title, fontsize=10)
        if not legend:
            return self.figure
        handles = [
            Patch(facecolor=BOX_KINDS[k][0], edgecolor="#444444", label=BOX_KINDS[k][1])
            for k in self.box_kinds
        ]
        handles += [
            Line2D(
                [],
                [],
                linestyle=ARROW_KINDS[k][0],
                color=ARROW_KINDS[k][1],
                label=ARROW_KINDS[k][2],
            )
            for k in self.arrow_kinds
        ]
        self.ax.legend(
            handles=handles,
            loc="upper center",
            bbox_to_anchor=(0.5, 0.0),
            ncol=2,
            fontsize=7,
            frameon=False,
        )
        return self.figure


# ------------------------------------------------------------- pieces shared by the U-shaped models


def _default(builder: Callable[..., Any], option: str) -> Any:
    """The default of a model builder's keyword option, so a diagram draws what `build` makes."""
    return inspect.signature(builder).parameters[option].default


def _check_size(
    architecture: str, base_filters: int, depth: int, input_shape: Sequence[int], multiple: int
) -> None:
    for value, what in ((base_filters, "base_filters"), (depth, "depth")):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{architecture}: {what} must be a positive integer, got {value!r}")
    height, width = input_shape
    if height % multiple or width % multiple:
        raise ValueError(
            f"{architecture}: height and width must be multiples of {multiple}, "
            f"got {height}x{width}"
        )


def _stage_key(prefix: str, stage: int, se: bool) -> str:
    """The layer that outputs a U-Net stage: its second conv block's ReLU, or its SE block."""
    return f"{prefix}{stage}_se" if se else f"{prefix}{stage}_b_relu"


def _input(diagram: Diagram, input_shape: Sequence[int]) -> str:
    diagram.box("image", 0, 0, f"image\n{shape_text(*input_shape, 1)}", "io", size=WIDE_BOX)
    return "image"


def _encoder(
    diagram: Diagram,
    source: str,
    x0: float,
    prefix: str,
    base_filters: int,
    depth: int,
    input_shape: Sequence[int],
    *,
    y0: float = 0,
    se: bool = False,
    title: str = "enc",
) -> list[str]:
    """Encoder stages going down one level each from column `x0`, level `y0`;
    returns their keys, finest first."""
    height, width = input_shape
    keys, previous = [], source
    for stage in range(depth):
        key = _stage_key(prefix, stage + 1, se)
        shape = shape_text(height >> stage, width >> stage, base_filters * 2**stage)
        diagram.box(key, x0 + stage, y0 - stage, f"{title} {stage + 1}\n{shape}", "encoder")
        diagram.arrow(previous, key)
        keys.append(key)
        previous = key
    return keys


def _decoder(
    diagram: Diagram,
    source: str,
    skips: Sequence[str],
    x0: float,
    prefix: str,
    base_filters: int,
    input_shape: Sequence[int],
    *,
    y0: float = 0,
    se: bool = False,
    gates: bool = False,
) -> str:
    """Decoder stages going up one level each from column `x0`, coarsest first, up to level `y0`;
    returns the last key.

    With `gates`, each skip passes an attention gate drawn one column left of its decoder stage,
    right above the features that query it.
    """
    height, width = input_shape
    previous = source
    for column, stage in enumerate(reversed(range(len(skips)))):
        x, y = x0 + column, y0 - stage
        shape = shape_text(height >> stage, width >> stage, base_filters * 2**stage)
        key = _stage_key(prefix, stage + 1, se)
        skip = skips[stage]
        if gates:
            gate = f"{prefix}{stage + 1}_gate"
            diagram.box(gate, x - 1, y, f"gate\n{shape}", "gate", size=GATE_SIZE, fontsize=6)
            diagram.arrow(skip, gate, "skip")
            diagram.arrow(previous, gate, "query")
            skip = gate
        diagram.box(key, x, y, f"dec {stage + 1}\n{shape}", "decoder")
        diagram.arrow(previous, key)
        diagram.arrow(skip, key, "skip")
        previous = key
    return previous


def _head(
    diagram: Diagram,
    source: str,
    x: float,
    key: str,
    input_shape: Sequence[int],
    *,
    y: float = 0,
    title: str = "softmax",
) -> str:
    diagram.box(
        key, x, y, f"{title}\n{shape_text(*input_shape, NUM_CLASSES)}", "head", size=WIDE_BOX
    )
    diagram.arrow(source, key)
    return key


def _pyramid(
    diagram: Diagram,
    source: str,
    x: float,
    base_filters: int,
    depth: int,
    bins: Sequence[int],
    input_shape: Sequence[int],
) -> str:
    """PSP's bottleneck from column `x`: the pooled features, one path per bin, the merge;
    returns the merge key.

    The column of paths hangs below the deepest skip connection so that no arrow crosses it.
    """
    bins = [int(b) for b in bins]
    if not bins or any(b < 1 for b in bins):
        raise ValueError(f"bins must be positive grid sizes, got {bins}")
    height, width = input_shape[0] >> depth, input_shape[1] >> depth
    if any(height % b or width % b for b in bins):
        raise ValueError(f"pyramid bins {bins} must divide the {height}x{width} bottleneck")
    filters = base_filters * 2**depth
    path_filters = max(1, filters // len(bins))
    y = -depth - STACK_STEP * (len(bins) - 1) / 2 + 0.5
    pooled = f"enc{depth}_pool"
    channels = base_filters * 2 ** (depth - 1)
    diagram.box(pooled, x, y, f"features\n{shape_text(height, width, channels)}", "encoder")
    diagram.arrow(source, pooled)
    paths = [
        (f"ppm_pool{b}_b_relu", f"pool to {b}×{b}\n{shape_text(b, b, path_filters)}") for b in bins
    ]
    merge = ("ppm_merge_relu", f"concat + conv\n{shape_text(height, width, filters)}")
    return diagram.stack(pooled, x + 1, y, paths, merge)


# ---------------------------------------------------------------- one function per architecture


def unet(
    *,
    base_filters: int,
    depth: int,
    se: bool = _default(build_unet, "se"),
    se_ratio: int = _default(build_unet, "se_ratio"),
    input_shape: Sequence[int] = IMAGE_SHAPE,
) -> Figure:
    """The U-Net of `marslib.models.unet`: encoder, bottleneck, decoder, skip connections.

    Args:
        base_filters, depth, se, se_ratio: as for `marslib.models.build("unet", ...)`.
        input_shape: (H, W) of the images.

    Returns:
        The figure: 2 * depth + 3 boxes (image, encoder stages, bottleneck, decoder stages,
        classifier) and `depth` skip arrows.
    """
    _check_size("unet", base_filters, depth, input_shape, 2**depth)
    extra = f" + SE (ratio {se_ratio})" if se else ""
    diagram = Diagram(f"U-Net{extra}: depth {depth}, {base_filters} base filters")
    skips = _encoder(
        diagram, _input(diagram, input_shape), 1, "enc", base_filters, depth, input_shape, se=se
    )
    bottleneck = "bottleneck_se" if se else "bottleneck_b_relu"
    shape = shape_text(input_shape[0] >> depth, input_shape[1] >> depth, base_filters * 2**depth)
    diagram.box(bottleneck, depth + 1, -depth, f"bottleneck\n{shape}", "bottleneck")
    diagram.arrow(skips[-1], bottleneck)
    last = _decoder(diagram, bottleneck, skips, depth + 2, "dec", base_filters, input_shape, se=se)
    _head(diagram, last, 2 * depth + 2, "classifier", input_shape)
    return diagram.finish()


def deeplabv3(
    *,
    base_filters: int,
    depth: int,
    atrous_rates: Sequence[int] = _default(build_deeplabv3, "atrous_rates"),
    input_shape: Sequence[int] = IMAGE_SHAPE,
) -> Figure:
    """DeepLabV3 of `marslib.models.deeplabv3`: backbone, atrous stage, ASPP, upsampled classifier.

    Returns:
        The figure: image, `depth` backbone stages, the atrous stage, one ASPP branch per rate
        plus the 1×1 and image-pooling branches, the merge, the class scores and the output.
    """
    _check_size("deeplabv3", base_filters, depth, input_shape, 2**depth)
    rates = [int(r) for r in atrous_rates]
    diagram = Diagram(
        f"DeepLabV3: depth {depth} (output stride {2**depth}), {base_filters} base filters, "
        f"rates {rates}"
    )
    stages = _encoder(
        diagram,
        _input(diagram, input_shape),
        1,
        "backbone",
        base_filters,
        depth,
        input_shape,
        title="stage",
    )
    height, width, filters = (
        input_shape[0] >> depth,
        input_shape[1] >> depth,
        base_filters * 2**depth,
    )
    features = shape_text(height, width, filters)
    diagram.box("atrous_b_relu", depth + 1, -depth, f"2 × atrous\nrate 2\n{features}", "bottleneck")
    diagram.arrow(stages[-1], "atrous_b_relu")
    branches = [("aspp_1x1_relu", f"conv 1×1\n{features}")]
    branches += [(f"aspp_rate{r}_relu", f"rate {r}\n{features}") for r in rates]
    branches.append(("aspp_image_relu", f"image pool\n{shape_text(1, 1, filters)}"))
    merged = diagram.stack(
        "atrous_b_relu",
        depth + 2,
        -depth,
        branches,
        ("aspp_project_relu", f"concat + 1×1\n{features}"),
    )
    diagram.box(
        "classifier_logits",
        depth + 4,
        -depth,
        f"conv 1×1\n{shape_text(height, width, NUM_CLASSES)}",
        "head",
    )
    diagram.arrow(merged, "classifier_logits")
    diagram.box(
        "classifier",
        depth + 5,
        0,
        f"softmax\n{shape_text(*input_shape, NUM_CLASSES)}",
        "head",
        size=WIDE_BOX,
    )
    diagram.arrow("classifier_logits", "classifier", text=f"bilinear ×{2**depth}")
    return diagram.finish()


def wnet(
    *,
    base_filters: int,
    depth: int,
    deep_supervision: bool = _default(build_wnet, "deep_supervision"),
    input_shape: Sequence[int] = IMAGE_SHAPE,
) -> Figure:
    """The W-Net of `marslib.models.wnet`: a U-Net, then a second one
    fed the image and the first's output.

    The first U-Net is drawn on top, the second below it, so that both stay readable.

    Returns:
        The figure: the image, two U-Nets (2 * depth + 1 boxes each), the coarse softmax, the
        concatenation that feeds the second U-Net and the refined softmax.
    """
    _check_size("wnet", base_filters, depth, input_shape, 2**depth)
    supervision = ", deep supervision: both outputs trained" if deep_supervision else ""
    diagram = Diagram(
        f"W-Net: two U-Nets of depth {depth}, {base_filters} base filters{supervision}"
    )
    image = _input(diagram, input_shape)
    bottleneck_shape = shape_text(
        input_shape[0] >> depth, input_shape[1] >> depth, base_filters * 2**depth
    )
    source, y0 = image, 0.0
    for prefix, head in (("coarse_", "coarse"), ("refine_", "refined")):
        skips = _encoder(
            diagram, source, 1, f"{prefix}enc", base_filters, depth, input_shape, y0=y0
        )
        bottleneck = f"{prefix}bottleneck_b_relu"
        diagram.box(
            bottleneck, depth + 1, y0 - depth, f"bottleneck\n{bottleneck_shape}", "bottleneck"
        )
        diagram.arrow(skips[-1], bottleneck)
        last = _decoder(
            diagram, bottleneck, skips, depth + 2, f"{prefix}dec", base_filters, input_shape, y0=y0
        )
        _head(diagram, last, 2 * depth + 2, head, input_shape, y=y0, title=head)
        if head == "coarse":
            y0 = -depth - 2.2
            concat = shape_text(*input_shape, 1 + NUM_CLASSES)
            diagram.box("refine_input", 0, y0 + 1, f"concatenate\n{concat}", "step", size=WIDE_BOX)
            diagram.arrow(image, "refine_input", text="the image")
            diagram.arrow("coarse", "refine_input", elbow=True, text="the coarse probabilities")
            source = "refine_input"
    return diagram.finish(inches_per_unit=0.7)


def pspnet(
    *,
    base_filters: int,
    depth: int,
    bins: Sequence[int] = _default(build_pspnet, "bins"),
    input_shape: Sequence[int] = IMAGE_SHAPE,
) -> Figure:
    """PSPNet of `marslib.models.pspnet`: a U-Net whose bottleneck is a pyramid pooling module.

    Returns:
        The figure: image, `depth` encoder stages, the pooled features, one path per bin, the
        merge, `depth` decoder stages and the classifier; `depth` skip arrows.
    """
    return _psp_figure("PSPNet", base_filters, depth, bins, input_shape, gates=False)


def attention_psp(
    *,
    base_filters: int,
    depth: int,
    bins: Sequence[int] = _default(build_attention_psp, "bins"),
    input_shape: Sequence[int] = IMAGE_SHAPE,
) -> Figure:
    """Attention + PSP of `marslib.models.attention_psp`:
    PSPNet with an attention gate on every skip.

    Returns:
        The figure of `pspnet` plus `depth` gate boxes, each queried (dotted arrow) by the
        decoder features one level deeper.
    """
    return _psp_figure("Attention + PSP", base_filters, depth, bins, input_shape, gates=True)


def _psp_figure(
    title: str,
    base_filters: int,
    depth: int,
    bins: Sequence[int],
    input_shape: Sequence[int],
    *,
    gates: bool,
) -> Figure:
    architecture = "attention_psp" if gates else "pspnet"
    _check_size(architecture, base_filters, depth, input_shape, 2**depth)
    diagram = Diagram(
        f"{title}: depth {depth}, {base_filters} base filters, pyramid bins {list(bins)}"
    )
    skips = _encoder(
        diagram, _input(diagram, input_shape), 1, "enc", base_filters, depth, input_shape
    )
    merged = _pyramid(diagram, skips[-1], depth + 1, base_filters, depth, bins, input_shape)
    last = _decoder(
        diagram, merged, skips, depth + 4, "dec", base_filters, input_shape, gates=gates
    )
    _head(diagram, last, 2 * depth + 4, "classifier", input_shape)
    return diagram.finish()


def attention_gate(
    *, skip_shape: Sequence[int], gating_shape: Sequence[int], filters: int
) -> Figure:
    """Inside one `marslib.models.blocks.AttentionGate`:
    key, query, their sum, the weights, the product.

    Args:
        skip_shape: (H, W, C) of the encoder features (the gate's key and value).
        gating_shape: (H / 2, W / 2, C_g) of the decoder features (its query).
        filters: channels of the space where key and query are added (the gate's `filters`).

    Returns:
        The figure: 8 boxes (skip, gating, key, query, add + ReLU, psi, upsampled weights, product).
    """
    height, width, channels = (int(v) for v in skip_shape)
    if (
        tuple(int(v) for v in gating_shape[:2]) != (height // 2, width // 2)
        or height % 2
        or width % 2
    ):
        raise ValueError(
            "the gating features must be half the skip's height and width, "
            f"got {tuple(gating_shape)} for {tuple(skip_shape)}"
        )
    half = shape_text(height // 2, width // 2, filters)
    skip = shape_text(height, width, channels)
    diagram = Diagram(
        f"Attention gate: skip {skip}, query {shape_text(*gating_shape)}, {filters} filters",
        x_step=1.0,
    )
    size = (1.45, 0.56)
    diagram.box("skip", 0, 0.7, f"skip x (key, value)\n{skip}", "encoder", size=size)
    diagram.box(
        "gating", 0, -1.4, f"decoder g (query)\n{shape_text(*gating_shape)}", "decoder", size=size
    )
    diagram.box("key", 1.8, 0, f"conv 2×2, stride 2\n{half}", "step", size=size)
    diagram.box("query", 1.8, -1.4, f"conv 1×1\n{half}", "step", size=size)
    diagram.box("add", 3.5, -0.7, f"add, ReLU\n{half}", "step", size=size)
    diagram.box(
        "psi",
        5.2,
        -0.7,
        f"conv 1×1, sigmoid\n{shape_text(height // 2, width // 2, 1)}",
        "step",
        size=size,
    )
    diagram.box(
        "alpha", 6.9, -0.7, f"upsample ×2: α\n{shape_text(height, width, 1)}", "gate", size=size
    )
    diagram.box("output", 6.9, 0.7, f"x · α\n{skip}", "io", size=size)
    for start, end in (
        ("skip", "key"),
        ("gating", "query"),
        ("key", "add"),
        ("query", "add"),
        ("add", "psi"),
        ("psi", "alpha"),
        ("alpha", "output"),
    ):
        diagram.arrow(start, end)
    diagram.arrow("skip", "output", "skip")
    return diagram.finish(inches_per_unit=0.95, legend=False)


def atrous_taps(rate: int, size: int) -> np.ndarray:
    """Where a 3×3 convolution dilated by `rate` reads,
    on a size×size grid centred on its output pixel.

    Returns:
        int (size, size): 1 at the 9 taps, 0 elsewhere.

    Raises:
        ValueError: when the taps do not fit in the grid (size < 2 * rate + 1).
    """
    if not isinstance(rate, int) or rate < 1:
        raise ValueError(f"rate must be a positive integer, got {rate!r}")
    if size < 2 * rate + 1:
        raise ValueError(
            f"a 3×3 kernel with rate {rate} spans {2 * rate + 1} pixels; "
            f"the grid of {size} is too small"
        )
    taps = np.zeros((size, size), dtype=int)
    centre = size // 2
    taps[centre - rate : centre + rate + 1 : rate, centre - rate : centre + rate + 1 : rate] = 1
    return taps


def atrous_kernels(rates: Sequence[int] = (1, 2, 4)) -> Figure:
    """One panel per rate: the 9 pixels a dilated ("atrous") 3×3 convolution reads
    around its centre.

    Returns:
        The figure: one axes per rate, each showing `atrous_taps(rate, size)` on the same grid.
    """
    rates = [int(rate) for rate in rates]
    if not rates:
        raise ValueError("give at least one rate")
    size = 2 * max(rates) + 3
    figure, axes = plt.subplots(1, len(rates), figsize=(2.3 * len(rates), 2.6), squeeze=False)
    for ax, rate in zip(axes[0], rates):
        ax.imshow(atrous_taps(rate, size), cmap="Oranges", vmin=0, vmax=1.6)
        ax.set_xticks(np.arange(-0.5, size), minor=True)
        ax.set_yticks(np.arange(-0.5, size), minor=True)
        ax.grid(which="minor", color="#bbbbbb", linewidth=0.5)
        ax.tick_params(which="both", length=0, labelbottom=False, labelleft=False)
        ax.set_title(f"rate {rate}: sees {2 * rate + 1}×{2 * rate + 1}", fontsize=9)
    figure.suptitle("A 3×3 convolution with holes: 9 weights, a wider view", fontsize=10)
    figure.tight_layout()
    return figure


DIAGRAMS: dict[str, Callable[..., Figure]] = {
    "unet": unet,
    "deeplabv3": deeplabv3,
    "wnet": wnet,
    "pspnet": pspnet,
    "attention_psp": attention_psp,
}


def draw(name: str, size: str = "quick", **overrides: Any) -> Figure:
    """The diagram of the model `marslib.models.build(name, size=size, **overrides)` makes.

    Args:
        name: one of `marslib.models.names()`.
        size: "quick" or "full", a key of ``marslib.models.SIZES[name]``.
        overrides: model options replacing the size's (``depth=4``, ``bins=(1, 2, 4)``, ...).
    """
    from marslib import models

    if name not in DIAGRAMS:
        raise ValueError(f"no diagram for {name!r}; known models: {list(DIAGRAMS)}")
    if size not in models.SIZES[name]:
        raise ValueError(
            f"unknown size {size!r} for {name}; known sizes: {list(models.SIZES[name])}"
        )
    unknown = sorted(set(overrides) - set(models.options(name)))
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for {name}; it accepts {models.options(name)}"
        )
    return DIAGRAMS[name](**{**models.SIZES[name][size], **overrides})
