"""Architecture diagrams: every box stands for a real layer of the model
and shows its output shape."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from marslib import models  # noqa: E402
from marslib.figures import diagrams
from marslib.models.blocks import AttentionGate  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _boxes(figure: Figure) -> dict[str, str]:
    """{key: label text} of every box of a diagram."""
    ax = figure.axes[0]
    keys = [
        p.get_gid().removeprefix("block:")
        for p in ax.patches
        if (p.get_gid() or "").startswith("block:")
    ]
    labels = {
        t.get_gid().removeprefix("label:"): t.get_text()
        for t in ax.texts
        if (t.get_gid() or "").startswith("label:")
    }
    assert sorted(labels) == sorted(keys), "every box must have exactly one label"
    return labels


def _arrows(figure: Figure, kind: str) -> list[tuple[str, str]]:
    """(from, to) of every arrow of `kind`."""
    found = []
    for patch in figure.axes[0].patches:
        gid = patch.get_gid() or ""
        if gid.startswith(f"arrow:{kind}:"):
            start, end = gid.removeprefix(f"arrow:{kind}:").split("->")
            found.append((start, end))
    return found


def _shape(label: str) -> tuple[int, ...]:
    """The shape on the last line of a label, "16×32×8" -> (16, 32, 8)."""
    return tuple(int(v) for v in label.splitlines()[-1].split("×"))


def _assert_boxes_match_model(figure: Figure, model) -> None:
    for key, label in _boxes(figure).items():
        layer_shape = tuple(
            model.get_layer(key).output.shape[1:]
        )  # raises if the box names no layer
        assert _shape(label) == layer_shape, (
            f"box {key!r} says {label!r}, the layer outputs {layer_shape}"
        )


CASES = [
    ("unet", {}),
    ("unet", {"depth": 2, "base_filters": 4, "se": True}),
    ("deeplabv3", {}),
    ("deeplabv3", {"atrous_rates": (1, 3)}),
    ("wnet", {}),
    ("pspnet", {}),
    ("pspnet", {"depth": 2, "bins": (1, 2)}),
    ("attention_psp", {}),
]


@pytest.mark.parametrize(("name", "overrides"), CASES, ids=[f"{n}-{o}" for n, o in CASES])
def test_every_box_is_a_layer_of_the_model_with_its_output_shape(
    name: str, overrides: dict
) -> None:
    figure = diagrams.draw(name, "quick", **overrides)
    _assert_boxes_match_model(figure, models.build(name, size="quick", **overrides))


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_unet_has_two_stages_per_level_and_one_skip_per_level(depth: int) -> None:
    figure = diagrams.unet(base_filters=4, depth=depth)
    boxes = _boxes(figure)
    assert len(boxes) == 2 * depth + 3
    assert sum(key.startswith("enc") for key in boxes) == depth
    assert sum(key.startswith("dec") for key in boxes) == depth
    assert sorted(_arrows(figure, "skip")) == sorted(
        (f"enc{i}_b_relu", f"dec{i}_b_relu") for i in range(1, depth + 1)
    )
    assert _arrows(figure, "query") == []


def test_deeplabv3_has_one_aspp_branch_per_rate_plus_1x1_and_image_pooling_and_no_skip() -> None:
    figure = diagrams.deeplabv3(base_filters=8, depth=3, atrous_rates=(2, 4, 6, 8))
    boxes = _boxes(figure)
    branches = [key for key in boxes if key.startswith("aspp_") and key != "aspp_project_relu"]
    assert len(branches) == 4 + 2
    assert all(("atrous_b_relu", b) in _arrows(figure, "flow") for b in branches)
    assert all((b, "aspp_project_relu") in _arrows(figure, "flow") for b in branches)
    assert _arrows(figure, "skip") == []
    assert _shape(boxes["aspp_image_relu"]) == (1, 1, 64)


def test_wnet_chains_two_unets_through_the_concatenation_of_image_and_coarse_output() -> None:
    figure = diagrams.wnet(base_filters=6, depth=3)
    boxes = _boxes(figure)
    assert (
        len(boxes) == 1 + 2 * (2 * 3 + 1) + 3
    )  # image, two U-Nets, coarse head, concat, refined head
    flow = _arrows(figure, "flow")
    assert ("image", "refine_input") in flow and ("coarse", "refine_input") in flow
    assert ("refine_input", "refine_enc1_b_relu") in flow
    assert len(_arrows(figure, "skip")) == 2 * 3
    assert _shape(boxes["refine_input"]) == (64, 128, 6)


def test_pyramid_has_one_path_per_bin_between_pooled_features_and_merge() -> None:
    figure = diagrams.pspnet(base_filters=8, depth=3, bins=(1, 2, 4))
    boxes = _boxes(figure)
    paths = sorted(key for key in boxes if key.startswith("ppm_pool"))
    assert paths == ["ppm_pool1_b_relu", "ppm_pool2_b_relu", "ppm_pool4_b_relu"]
    assert [_shape(boxes[p]) for p in paths] == [
        (1, 1, 21),
        (2, 2, 21),
        (4, 4, 21),
    ]  # 64 filters // 3 paths
    flow = _arrows(figure, "flow")
    assert all(("enc3_pool", p) in flow and (p, "ppm_merge_relu") in flow for p in paths)
    with pytest.raises(ValueError, match="divide"):
        diagrams.pspnet(base_filters=8, depth=3, bins=(3,))


def test_attention_psp_adds_one_gate_per_skip_queried_from_one_level_deeper() -> None:
    plain, gated = (
        diagrams.pspnet(base_filters=8, depth=3),
        diagrams.attention_psp(base_filters=8, depth=3),
    )
    gates = sorted(set(_boxes(gated)) - set(_boxes(plain)))
    assert gates == ["dec1_gate", "dec2_gate", "dec3_gate"]
    assert sorted(_arrows(gated, "query")) == [
        ("dec2_b_relu", "dec1_gate"),
        ("dec3_b_relu", "dec2_gate"),
        ("ppm_merge_relu", "dec3_gate"),
    ]
    assert ("enc1_b_relu", "dec1_gate") in _arrows(gated, "skip") and (
        "dec1_gate",
        "dec1_b_relu",
    ) in _arrows(gated, "skip")


def test_attention_gate_shapes_match_the_layer() -> None:
    skip = np.zeros((1, 16, 32, 32), dtype="float32")
    gating = np.zeros((1, 8, 16, 64), dtype="float32")
    gate = AttentionGate(filters=16)
    gate([skip, gating])
    boxes = _boxes(
        diagrams.attention_gate(skip_shape=(16, 32, 32), gating_shape=(8, 16, 64), filters=16)
    )
    assert len(boxes) == 8
    assert _shape(boxes["key"]) == tuple(gate.key(skip).shape[1:])
    assert _shape(boxes["query"]) == tuple(gate.query(gating).shape[1:])
    assert _shape(boxes["alpha"]) == tuple(gate.coefficients(skip, gating).shape[1:])
    assert _shape(boxes["output"]) == tuple(gate([skip, gating]).shape[1:])
    with pytest.raises(ValueError, match="half"):
        diagrams.attention_gate(skip_shape=(16, 32, 32), gating_shape=(16, 32, 64), filters=16)


def test_legend_lists_exactly_the_kinds_drawn() -> None:
    legend = [
        t.get_text()
        for t in diagrams.unet(base_filters=4, depth=2).axes[0].get_legend().get_texts()
    ]
    expected = [
        diagrams.BOX_KINDS[k][1] for k in ("io", "encoder", "bottleneck", "decoder", "head")
    ]
    assert legend == expected + [diagrams.ARROW_KINDS[k][2] for k in ("flow", "skip")]


def test_bad_requests_get_clear_errors() -> None:
    with pytest.raises(ValueError, match="no diagram"):
        diagrams.draw("segformer")
    with pytest.raises(ValueError, match="unknown size"):
        diagrams.draw("unet", "huge")
    with pytest.raises(ValueError, match="unknown option"):
        diagrams.draw("unet", bins=(1, 2))
    with pytest.raises(ValueError, match="multiples of 16"):
        diagrams.unet(base_filters=8, depth=4, input_shape=(40, 128))
    with pytest.raises(ValueError, match="depth"):
        diagrams.unet(base_filters=8, depth=0)
    diagram = diagrams.Diagram("t")
    diagram.box("a", 0, 0, "a", "io")
    with pytest.raises(ValueError, match="already"):
        diagram.box("a", 1, 0, "a", "io")
    with pytest.raises(ValueError, match="unknown box kind"):
        diagram.box("b", 1, 0, "b", "fancy")
    with pytest.raises(ValueError, match="no box 'c'"):
        diagram.arrow("a", "c")


@pytest.mark.parametrize("rate", [1, 2, 3])
def test_atrous_taps_are_nine_pixels_rate_apart(rate: int) -> None:
    taps = diagrams.atrous_taps(rate, 9)
    rows, columns = np.nonzero(taps)
    assert len(rows) == 9
    assert sorted(set(rows)) == sorted(set(columns)) == [4 - rate, 4, 4 + rate]
    with pytest.raises(ValueError, match="too small"):
        diagrams.atrous_taps(5, 9)


def test_atrous_kernels_draws_one_panel_per_rate() -> None:
    figure = diagrams.atrous_kernels((1, 2, 4))
    assert [ax.get_title() for ax in figure.axes] == [
        "rate 1: sees 3×3",
        "rate 2: sees 5×5",
        "rate 4: sees 9×9",
    ]
    for ax, rate in zip(figure.axes, (1, 2, 4)):
        np.testing.assert_array_equal(
            ax.get_images()[0].get_array(), diagrams.atrous_taps(rate, 11)
        )
