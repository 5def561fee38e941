"""A synthetic Mars terrain set with the real file's format, statistics and traps.

The real `mars_for_students.npz` (64x128 greyscale crops of Curiosity NavCam frames with
crowd-sourced labels) cannot be shipped with the book, so `marslib` generates a stand-in:

- **Layout first.** Each image is a ground plane seen from a rover mast. A horizon row (often
  above the frame) fixes the distance of every pixel row; large smooth class regions are laid
  out on the ground with low-frequency noise, so they shrink toward the horizon. Their shares
  are set per image by thresholding the noise at quantiles, which keeps the class shares of the
  whole set close to the real ones.
- **Texture second.** Soil is fine grain with pebbles, sand carries ripples and dunes, bedrock is
  made of plates split by cracks, with layering; big rocks are a few large shaded ellipsoids
  with a cast shadow. Textures come from small periodic tiles mapped onto the ground plane, so
  they get finer toward the horizon (with a blurred copy of a tile chosen per row, as mip-maps
  do). Class brightnesses are drawn per image from overlapping ranges: a class is told from
  another by texture and context, not by its grey level.
- **Background** is what the labellers left out: sky and far hills above the horizon, far range
  beyond a distance limit, dark rover parts entering from a bottom corner.
- **Camera.** Exposure, gain and gamma per image, slight blur, sensor noise, 8-bit values.
- **Traps**, as in the real file, with their ground truth in `SyntheticSet.meta`: alien outlier
  images that all share one identical mask (the alien moves and changes size), single-class
  masks given the wrong class, and coarse masks whose edge pixels are wrongly background. In a
  set of the real size the 110 aliens sit at the real file's indices (`REAL_ALIEN_INDICES`:
  62, 79, 125, ..., 2614), so students' code that finds them by comparing every mask with
  ``y_train[62]`` works as on the real file; in a set of another size they sit at random
  positions (see `_place`).

Everything is vectorised over the batch and deterministic by seed: the training images depend
on ``(seed, n_train)`` only, the test images on ``(seed, n_test)`` only.
"""

from __future__ import annotations

import functools
import json
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from marslib.core import paths
from marslib.core.classes import BACKGROUND, BEDROCK, BIG_ROCK, IMAGE_SHAPE, SAND, SOIL
from marslib.core.files import atomic_path

GENERATOR_VERSION = 2  # 2: the aliens of the real-size set sit at the real file's indices
DEFAULT_TRAIN = 2615
DEFAULT_TEST = 10022
# Where the 110 aliens sit in the real file's `training_set` (facts: printed identically by two
# public notebooks). Most public solutions find them by comparing every mask with `y_train[62]`.
REAL_ALIEN_INDICES = (
    62, 79, 125, 139, 142, 147, 152, 156, 170, 210, 217, 266, 289, 299, 313, 339, 348, 365, 412,
    417, 426, 450, 461, 536, 552, 669, 675, 741, 744, 747, 799, 802, 808, 820, 821, 849, 863, 890,
    909, 942, 971, 1005, 1057, 1079, 1082, 1092, 1095, 1106, 1119, 1125, 1177, 1194, 1224, 1247,
    1248, 1258, 1261, 1262, 1306, 1324, 1365, 1370, 1443, 1449, 1508, 1509, 1519, 1551, 1584, 1588,
    1628, 1637, 1693, 1736, 1767, 1768, 1782, 1813, 1816, 1834, 1889, 1925, 1942, 1975, 1979, 2000,
    2002, 2086, 2096, 2110, 2111, 2151, 2161, 2222, 2235, 2239, 2242, 2301, 2307, 2350, 2361, 2365,
    2372, 2414, 2453, 2522, 2535, 2561, 2609, 2614,
)  # fmt: skip
REAL_ALIENS = len(REAL_ALIEN_INDICES)  # 110

H, W = IMAGE_SHAPE
TERRAIN = np.array([SOIL, BEDROCK, SAND])
# Terrain shares (soil, bedrock, sand) of the non-background, non-Big-Rock pixels of the real file.
TERRAIN_SHARES = np.array([33.90, 23.28, 18.38]) / (33.90 + 23.28 + 18.38)

# Scene kinds, as shares of the non-alien training images (facts: 425 of 2505 single-class
# masks; background in 2087 of 2615 images, the 110 aliens included).
SINGLE, MULTI_GROUND, HORIZON, FAR_LIMIT, ROVER = range(5)
KIND_SHARES = {SINGLE: 0.170, MULTI_GROUND: 0.041, HORIZON: 0.395, FAR_LIMIT: 0.236, ROVER: 0.158}
BIG_ROCK_SHARE = 63 / 2615
MISLABELED_SHARE = 0.12  # of the single-class training masks
COARSE_SHARE = 0.30  # of the multi-class masks

# Camera: distance Z (m) of a ground pixel row y is CAMERA_K / (y - horizon);
# lateral X = (x - W/2) Z / FOCAL.
CAMERA_K = 120.0
FOCAL = 110.0
TEXELS_PER_M = {SOIL: 60.0, BEDROCK: 40.0, SAND: 30.0}
TILE = 256
TILES_PER_CLASS = 6
MIP_SIGMAS = (0.0, 1.0, 2.0, 4.0, 8.0)
CHUNK = 512


@dataclass(frozen=True)
class SyntheticSet:
    """A generated data set.

    Attributes:
        train_images: uint8 (N, 64, 128).
        train_masks: uint8 (N, 64, 128), values 0..4, with the planted label traps.
        test_images: uint8 (M, 64, 128).
        test_masks: uint8 (M, 64, 128), the labels a local leaderboard scores against.
        meta: JSON-serialisable ground truth: ``generator``, ``version``, ``seed``, ``n_train``,
            ``n_test``, ``alien_indices`` (training images sharing one identical mask),
            ``mislabeled_indices`` / ``mislabeled_true_class`` / ``mislabeled_given_class``
            (single-class masks given the wrong class), ``coarse_indices`` and
            ``test_coarse_indices`` (masks whose region edges were eroded into background).
    """

    train_images: np.ndarray
    train_masks: np.ndarray
    test_images: np.ndarray
    test_masks: np.ndarray
    meta: dict


# ---------------------------------------------------------------- texture tiles


def _fractal(rng: np.random.Generator, count: int, beta: float) -> np.ndarray:
    """Periodic noise tiles (count, TILE, TILE) with a 1/f**beta amplitude spectrum,
    zero mean, unit std."""
    freq = np.fft.fftfreq(TILE) * TILE
    radius = np.hypot(freq[:, None], freq[None, :])
    radius[0, 0] = 1.0
    spectrum = np.fft.fft2(rng.standard_normal((count, TILE, TILE))) / radius**beta
    spectrum[:, 0, 0] = 0.0
    tiles = np.fft.ifft2(spectrum).real
    return _standardise(tiles)


def _standardise(tiles: np.ndarray) -> np.ndarray:
    tiles = tiles - tiles.mean(axis=(-2, -1), keepdims=True)
    return tiles / tiles.std(axis=(-2, -1), keepdims=True)


def _bumps(rng: np.random.Generator, count: int, per_tile: int, sigma: float) -> np.ndarray:
    """Height maps (count, TILE, TILE) of `per_tile` round periodic bumps
    of width `sigma` texels."""
    deltas = np.zeros((count, TILE, TILE))
    for tile in deltas:
        rows, cols = rng.integers(0, TILE, size=(2, per_tile))
        tile[rows, cols] = rng.uniform(0.5, 1.5, per_tile)
    heights = ndimage.gaussian_filter(deltas, sigma=(0, sigma, sigma), mode="wrap")
    return np.minimum(heights / heights.max(axis=(1, 2), keepdims=True), 0.35) / 0.35


def _lit(height: np.ndarray) -> np.ndarray:
    """Shading of a height map lit from the top of the picture
    (bright upper slopes, dark lower ones)."""
    return np.roll(height, 1, axis=-2) - np.roll(height, -1, axis=-2)


def _soil_tiles(rng: np.random.Generator) -> np.ndarray:
    grain = _fractal(rng, TILES_PER_CLASS, 0.7)
    small = _bumps(rng, TILES_PER_CLASS, 400, 1.0)
    pebbles = _bumps(rng, TILES_PER_CLASS, 40, 2.5)
    return _standardise(
        0.5 * grain + 1.2 * _lit(small) + 0.5 * small + 2.0 * _lit(pebbles) + 0.6 * pebbles
    )


def _sand_tiles(rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[0:TILE, 0:TILE] / TILE
    kx = rng.integers(-3, 4, TILES_PER_CLASS)[:, None, None]
    ky = rng.integers(24, 40, TILES_PER_CLASS)[:, None, None]
    phase = 2 * np.pi * (kx * x + ky * y) + 1.6 * _fractal(rng, TILES_PER_CLASS, 2.2)
    ripples = np.sin(phase) + 0.35 * np.sin(2 * phase)
    patches = 0.6 + 0.4 * np.tanh(_fractal(rng, TILES_PER_CLASS, 2.0))
    dunes = _fractal(rng, TILES_PER_CLASS, 2.6)
    return _standardise(
        ripples * patches + 0.6 * dunes + 0.15 * _fractal(rng, TILES_PER_CLASS, 0.5)
    )


def _bedrock_tiles(rng: np.random.Generator) -> np.ndarray:
    seeds = 22
    y, x = np.mgrid[0:TILE, 0:TILE].astype(np.float64)
    tiles = []
    for _ in range(TILES_PER_CLASS):
        sy, sx = rng.uniform(0, TILE, size=(2, seeds))
        dy = np.abs(y[..., None] - sy)
        dx = np.abs(x[..., None] - sx)
        dist = np.hypot(np.minimum(dy, TILE - dy), np.minimum(dx, TILE - dx))
        nearest = np.partition(dist, 1, axis=-1)
        cell = dist.argmin(axis=-1)
        crack = np.exp(-(((nearest[..., 1] - nearest[..., 0]) / 1.6) ** 2))
        plates = rng.normal(0, 0.7, seeds)[cell]
        tilt = (rng.normal(0, 0.012, seeds)[cell] * (y - sy[cell])) + (
            rng.normal(0, 0.012, seeds)[cell] * (x - sx[cell])
        )
        angle = rng.uniform(0, np.pi)
        bands = np.sin(
            2 * np.pi * rng.integers(10, 20) * (np.cos(angle) * y + np.sin(angle) * x) / TILE
        )
        tiles.append(plates + tilt - 2.2 * crack + 0.35 * bands)
    roughness = _fractal(rng, TILES_PER_CLASS, 0.8)
    return _standardise(np.array(tiles) + 0.45 * roughness)


@functools.cache
def texture_bank() -> np.ndarray:
    """The texture tiles of soil, bedrock and sand, with blurred copies for far rows.

    The same for every seed (fixed generator), built once per process in about a second.

    Returns:
        float32 array (3, TILES_PER_CLASS, len(MIP_SIGMAS), TILE, TILE): class (soil, bedrock,
        sand), tile, blur level (Gaussian sigma MIP_SIGMAS texels, periodic), texel.
    """
    rng = np.random.default_rng(20240601)
    tiles = np.stack([_soil_tiles(rng), _bedrock_tiles(rng), _sand_tiles(rng)])
    levels = [
        ndimage.gaussian_filter(tiles, sigma=(0, 0, s, s), mode="wrap") if s else tiles
        for s in MIP_SIGMAS
    ]
    return np.stack(levels, axis=2).astype(np.float32)


_LATTICE = np.random.default_rng(7).random(TILE * TILE).astype(np.float32)


def value_noise(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Smooth value noise in [0, 1] at real coordinates (u, v), period TILE in both;
    float32, shape of u."""
    fu, fv = np.floor(u), np.floor(v)
    iu, iv = fu.astype(np.int64) & (TILE - 1), fv.astype(np.int64) & (TILE - 1)
    su, sv = u - fu, v - fv
    su, sv = su * su * (3 - 2 * su), sv * sv * (3 - 2 * sv)
    iu1, iv1 = (iu + 1) & (TILE - 1), (iv + 1) & (TILE - 1)
    top = _LATTICE[iv * TILE + iu] * (1 - su) + _LATTICE[iv * TILE + iu1] * su
    bottom = _LATTICE[iv1 * TILE + iu] * (1 - su) + _LATTICE[iv1 * TILE + iu1] * su
    return (top * (1 - sv) + bottom * sv).astype(np.float32)


# ---------------------------------------------------------------- scene plans


def _kinds(rng: np.random.Generator, count: int) -> np.ndarray:
    """Scene kinds of `count` images, in the KIND_SHARES proportions (rounded), shuffled."""
    shares = np.array(list(KIND_SHARES.values()))
    counts = np.floor(shares * count).astype(int)
    remainder = shares * count - counts
    counts[np.argsort(-remainder)[: count - counts.sum()]] += 1
    return rng.permutation(np.repeat(np.array(list(KIND_SHARES)), counts))


def _plan(
    rng: np.random.Generator, kinds: np.ndarray, big_rock: np.ndarray
) -> dict[str, np.ndarray]:
    """Random parameters of each scene (arrays of length N), drawn before any pixel is rendered."""
    n = len(kinds)
    p: dict[str, np.ndarray] = {"kind": kinds, "big_rock": big_rock}
    # Geometry: horizon row, far-range limit row (background above it), rover parts.
    p["horizon"] = np.select(
        [kinds == HORIZON, kinds == FAR_LIMIT],
        [rng.uniform(3, 26, n), rng.uniform(-45, -6, n)],
        rng.uniform(-90, -30, n),
    )
    p["far_row"] = np.select(
        [kinds == HORIZON, kinds == FAR_LIMIT],
        [p["horizon"] + rng.uniform(2, 10, n), rng.uniform(4, 30, n)],
        -1.0,
    )
    p["hills"] = rng.uniform(0, 9, n) * (kinds == HORIZON)
    p["rover"] = (kinds == ROVER) | (np.isin(kinds, [HORIZON, FAR_LIMIT]) & (rng.random(n) < 0.2))
    p["rover_left"] = rng.random(n) < 0.5
    p["rover_a"] = np.where(kinds == ROVER, rng.uniform(30, 80, n), rng.uniform(15, 40, n))
    p["rover_b"] = np.where(kinds == ROVER, rng.uniform(25, 60, n), rng.uniform(10, 30, n))
    p["rover_level"] = rng.uniform(0.08, 0.3, n)
    # Layout: class order and shares of the ground, region scale (m) and noise offsets.
    shares = rng.dirichlet(3.0 * TERRAIN_SHARES, n)
    shares = np.where(shares < 0.04, 0.0, shares)
    mixed = (
        shares + TERRAIN_SHARES
    ) / 2  # at least two terrain classes where there is no background
    shares = np.where((kinds == MULTI_GROUND)[:, None], mixed, shares)
    single = TERRAIN[rng.choice(3, n, p=TERRAIN_SHARES)]
    one_hot = (TERRAIN[None, :] == single[:, None]).astype(float)
    shares = np.where((kinds == SINGLE)[:, None], one_hot, shares)
    shares /= shares.sum(axis=1, keepdims=True)
    order = np.argsort(rng.random((n, 3)), axis=1)
    p["order"] = TERRAIN[order]
    p["shares"] = np.take_along_axis(shares, order, axis=1)
    nearest = CAMERA_K / (H - 0.5 - p["horizon"])  # distance of the bottom row, m
    p["region_m"] = rng.uniform(0.6, 1.6, n) * nearest
    p["layout_offset"] = rng.uniform(0, TILE, (n, 4))
    p["layout_angle"] = rng.uniform(0, 2 * np.pi, n)
    # Appearance: per-class brightness (overlapping on purpose), texture strength, tiles, mapping.
    p["albedo"] = np.clip(
        rng.normal([0.47, 0.50, 0.45], [0.07, 0.09, 0.07], (n, 3)) + rng.normal(0, 0.05, (n, 1)),
        0.15,
        0.85,
    )
    p["contrast"] = rng.uniform([0.05, 0.07, 0.05], [0.09, 0.12, 0.09], (n, 3))
    p["tile"] = rng.integers(0, TILES_PER_CLASS, (n, 3))
    p["angle"] = rng.uniform(-0.6, 0.6, (n, 3))
    p["texture_offset"] = rng.uniform(
        20000, 20000 + TILE, (n, 3, 2)
    )  # keeps texel coordinates positive
    p["undulation"] = rng.uniform(0.02, 0.07, n)
    p["sky"] = rng.uniform(0.45, 0.85, n)
    p["haze_m"] = rng.uniform(8, 30, n)
    # Big rocks: one or two large ellipsoids, lit from one side.
    p["rocks"] = np.where(big_rock, 1 + (rng.random(n) < 0.3), 0)
    p["rock_size"] = rng.uniform(7, 13, (n, 2))
    p["rock_phase"] = rng.uniform(0, 2 * np.pi, (n, 2))
    p["rock_aspect"] = rng.uniform(1.2, 1.9, (n, 2))
    p["rock_x"] = rng.uniform(10, W - 10, (n, 2))
    p["rock_y"] = rng.uniform(0, 1, (n, 2))
    p["rock_albedo"] = rng.normal(0.5, 0.1, n)
    p["sun_x"] = rng.choice([-1.0, 1.0], n) * rng.uniform(0.3, 0.8, n)
    # Camera.
    p["gain"] = rng.uniform(0.75, 1.3, n)
    p["offset"] = rng.uniform(-0.08, 0.06, n)
    p["gamma"] = rng.uniform(0.8, 1.25, n)
    p["noise"] = rng.uniform(1.0, 3.5, n)
    p["noise_seed"] = rng.integers(0, 2**32, n)
    return p


def _take(plan: dict[str, np.ndarray], rows: slice) -> dict[str, np.ndarray]:
    """The plans of the images `rows`, with real numbers as float32 (rendering runs in float32)."""
    return {
        key: value[rows].astype(np.float32) if value.dtype == np.float64 else value[rows]
        for key, value in plan.items()
    }


# ---------------------------------------------------------------- rendering


def _ground(
    plan: dict[str, np.ndarray], ys: np.ndarray, xs: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Ground coordinates in metres of pixel centres: lateral X (N, len(ys), len(xs)) and distance Z
    (N, len(ys), 1), both float32; Z is capped at 300 m
    (rows at or above the horizon get the cap)."""
    height = ys[None, :] - plan["horizon"][:, None]
    distance = np.minimum(np.where(height > 0.5, CAMERA_K / np.maximum(height, 0.5), 300.0), 300.0)
    distance = distance.astype(np.float32)[:, :, None]
    lateral = (xs[None, None, :] - W / 2).astype(np.float32) * distance / np.float32(FOCAL)
    return lateral, distance


@functools.cache
def _upsampler(size: int, step: int) -> np.ndarray:
    """Linear interpolation matrix float32 (size * step, size)
    from cell centres to pixel centres."""
    centres = np.clip((np.arange(size * step) + 0.5) / step - 0.5, 0, size - 1)
    low = np.minimum(np.floor(centres).astype(int), size - 2)
    weight = centres - low
    matrix = np.zeros((size * step, size), dtype=np.float32)
    matrix[np.arange(size * step), low] = 1 - weight
    matrix[np.arange(size * step), low + 1] = weight
    return matrix


def _layout(plan: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Terrain class labels uint8 (N, H, W) before background, rocks and traps, and a smooth
    float32 field (N, H, W) in [0, 1] that shades the ground gently (dunes, undulations)."""
    n = len(plan["kind"])
    step = 4
    ys = np.arange(H // step) * step + step / 2
    xs = np.arange(W // step) * step + step / 2
    lateral, distance = _ground(plan, ys, xs)
    distance = np.minimum(distance, 40.0)
    scale = plan["region_m"][:, None, None]
    cos, sin = (
        np.cos(plan["layout_angle"])[:, None, None],
        np.sin(plan["layout_angle"])[:, None, None],
    )
    a, b = (lateral * cos - distance * sin) / scale, (lateral * sin + distance * cos) / scale
    off = plan["layout_offset"][:, :, None, None]
    warp = 0.8 * value_noise(0.5 * a + off[:, 2], 0.5 * b + off[:, 3])
    fields = [
        0.7 * value_noise(a + warp + off[:, 0], b + off[:, 1])
        + 0.3 * value_noise(2.1 * a + 17.0, 2.1 * b + off[:, 0]),
        0.7 * value_noise(a + off[:, 2], b - warp + off[:, 3])
        + 0.3 * value_noise(2.1 * a + off[:, 1], 2.1 * b + 5.0),
    ]
    ground = np.broadcast_to(
        ys[None, :, None] >= plan["far_row"][:, None, None], fields[0].shape
    ).reshape(n, -1)
    shares = plan["shares"]
    # Field 1 gives the first class its share of the ground; field 2 splits the rest.
    first = fields[0].reshape(n, -1)
    t1 = _quantile(np.where(ground, first, np.inf), ground.sum(axis=1), shares[:, 0])
    rest = ground & (first >= t1[:, None])
    left = np.maximum(1.0 - shares[:, 0], 1e-6)
    t2 = _quantile(
        np.where(rest, fields[1].reshape(n, -1), np.inf),
        rest.sum(axis=1),
        np.minimum(shares[:, 1] / left, 1.0),
    )
    rows, cols = _upsampler(H // step, step), _upsampler(W // step, step)
    full = [rows @ f @ cols.T for f in fields]
    order = plan["order"][:, :, None, None]
    labels = np.where(
        full[0] < t1[:, None, None],
        order[:, 0],
        np.where(full[1] < t2[:, None, None], order[:, 1], order[:, 2]),
    )
    return labels.astype(np.uint8), full[0]


def _quantile(values: np.ndarray, counts: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Per row of `values` (N, K), the threshold below which `shares` of its `counts` finite values
    lie (the others are +inf): -inf for a share of 0, +inf for a share of 1."""
    ordered = np.sort(values, axis=1)
    k = np.round(shares * counts).astype(int)
    upper = np.take_along_axis(ordered, np.clip(k, 0, values.shape[1] - 1)[:, None], axis=1)[:, 0]
    return np.where(k >= counts, np.inf, np.where(k <= 0, -np.inf, upper))


def _texture(
    plan: dict[str, np.ndarray], pick: np.ndarray, lateral: np.ndarray, distance: np.ndarray
) -> np.ndarray:
    """The texture of each pixel's own terrain class, float32 (N, H, W),
    about unit strength near the camera.

    Args:
        pick: int (N, H, W), the terrain class of each pixel as 0, 1, 2 (soil, bedrock, sand).
        lateral, distance: ground coordinates from `_ground`.
    """
    n = len(pick)
    image = np.arange(n)[:, None, None]
    texels = np.array([TEXELS_PER_M[int(c)] for c in TERRAIN], dtype=np.float32)
    scale = texels[pick]
    cos, sin = (
        np.cos(plan["angle"])[image, pick] * scale,
        np.sin(plan["angle"])[image, pick] * scale,
    )
    u = lateral * cos - distance * sin + plan["texture_offset"][:, :, 0][image, pick]
    v = lateral * sin + distance * cos + plan["texture_offset"][:, :, 1][image, pick]
    # Blur level per row and class: the texels one pixel covers (geometric mean of both directions).
    row = distance[:, :, 0]
    footprint = np.sqrt((row / FOCAL) * (row**2 / CAMERA_K))[:, None, :] * texels[None, :, None]
    level = np.clip(
        np.round(np.log2(np.maximum(footprint, 1e-3)) + 0.5), 0, len(MIP_SIGMAS) - 1
    ).astype(np.int32)
    tile = np.arange(3, dtype=np.int32)[None, :] * TILES_PER_CLASS + plan["tile"].astype(np.int32)
    base = (tile[:, :, None] * len(MIP_SIGMAS) + level) * (TILE * TILE)  # (N, 3, H)
    index = base[image, pick, np.arange(H)[None, :, None]]
    index += (v.astype(np.int32) & (TILE - 1)) * TILE + (u.astype(np.int32) & (TILE - 1))
    return texture_bank().reshape(-1)[index]


def _skyline(plan: dict[str, np.ndarray], xs: np.ndarray) -> np.ndarray:
    """Row of the top of the far hills in each column, float32 (N, W):
    the horizon minus a hill profile."""
    u = xs[None, :] / 37.0 + plan["layout_offset"][:, 0, None]
    v = np.broadcast_to(plan["layout_offset"][:, 1, None] * 3.0, u.shape)
    profile = (value_noise(u, v) + 0.5 * value_noise(2.3 * u, v + 11.0)) / 1.5
    return plan["horizon"][:, None] - plan["hills"][:, None] * profile


def _render(plan: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (N, H, W) and true masks uint8 (N, H, W) of the planned scenes
    (float32 plan)."""
    n = len(plan["kind"])
    image_index = np.arange(n)[:, None, None]
    ys = np.arange(H, dtype=np.float32) + 0.5
    xs = np.arange(W, dtype=np.float32) + 0.5
    yy, xx = ys[None, :, None], xs[None, None, :]
    labels, field = _layout(plan)
    lateral, distance = _ground(plan, ys, xs)
    pick = np.searchsorted(TERRAIN, labels)  # 0, 1, 2 for soil, bedrock, sand
    texture = _texture(plan, pick, lateral, distance)
    haze = 1.0 / (1.0 + distance / plan["haze_m"][:, None, None])
    image = plan["albedo"][image_index, pick] + plan["contrast"][image_index, pick] * texture * (
        0.3 + 0.7 * haze
    )
    image += plan["undulation"][:, None, None] * (field - 0.5)
    image = image * haze + (1 - haze) * 0.55 * plan["sky"][:, None, None]

    # Big rocks: shaded ellipsoids standing on the ground, their shadow cast away from the sun.
    ground_top = np.maximum(plan["far_row"], plan["horizon"])
    for r in range(2):
        idx = np.flatnonzero(plan["rocks"] > r)
        if not len(idx):
            continue
        top = ground_top[idx, None, None]
        ry = plan["rock_size"][idx, r, None, None]
        rx = ry * plan["rock_aspect"][idx, r, None, None]
        cy = top + ry + 2 + plan["rock_y"][idx, r, None, None] * (H - top - ry)
        cx = plan["rock_x"][idx, r, None, None]
        dx, dy = (xx - cx) / rx, (yy - cy) / ry
        angle = np.arctan2(dy, dx) + plan["rock_phase"][idx, r, None, None]
        lumpy = (dx**2 + dy**2) / (
            1 + 0.12 * np.sin(3 * angle) + 0.07 * np.sin(5 * angle + 1.0)
        ) ** 2
        inside = (lumpy < 1) & (dy < 0.55) & (yy >= top)
        nz = np.sqrt(np.clip(1 - lumpy, 0, 1))
        sun = plan["sun_x"][idx, None, None]
        light = np.clip(sun * dx - 0.5 * dy + 0.7 * nz, 0, None)
        rock = plan["rock_albedo"][idx, None, None] * (0.45 + 0.8 * light) + 0.08 * texture[idx]
        sx, sy = (xx - cx + sun * 0.9 * rx) / rx, (yy - cy - 0.35 * ry) / (0.45 * ry)
        shadow = (sx**2 + sy**2 < 1) & ~inside & (yy >= top)
        image[idx] = np.where(inside, rock, np.where(shadow, image[idx] * 0.6, image[idx]))
        labels[idx] = np.where(inside, BIG_ROCK, labels[idx])

    # Background: far range beyond the distance limit, far hills and sky above the horizon.
    edge = value_noise(
        xs[None, :] / 23.0 + plan["layout_offset"][:, 2, None],
        np.broadcast_to(plan["layout_offset"][:, 3, None], (n, W)),
    )
    far = yy < (plan["far_row"][:, None] + 1.5 * (edge - 0.5))[:, None, :]
    sky = yy < _skyline(plan, xs)[:, None, :]
    hills = (yy < plan["horizon"][:, None, None]) & ~sky
    hill_level = 0.5 * plan["sky"][:, None, None] + 0.15 + 0.02 * texture
    sky_level = plan["sky"][:, None, None] + 0.08 * (yy / H)
    image = np.where(sky, sky_level, np.where(hills, hill_level, image))
    labels[far | sky | hills] = BACKGROUND

    # Rover parts: a dark wedge with a bright rim entering from a bottom corner.
    px = np.where(plan["rover_left"][:, None, None], xx, W - xx)
    wedge = px / plan["rover_a"][:, None, None] + (H - yy) / plan["rover_b"][:, None, None]
    rover = plan["rover"][:, None, None] & (wedge < 1)
    rim = rover & (wedge > 0.88)
    metal = plan["rover_level"][:, None, None] + 0.05 * np.sin(xx / 3.0) * (wedge < 0.7)
    image = np.where(rim, metal + 0.35, np.where(rover, metal, image))
    labels[rover] = BACKGROUND
    return _camera(plan, image), labels


def _camera(plan: dict[str, np.ndarray], image: np.ndarray) -> np.ndarray:
    """Exposure, gamma, blur and sensor noise: radiance float32 (N, H, W) to uint8 (N, H, W)."""
    exposed = np.clip(image * plan["gain"][:, None, None] + plan["offset"][:, None, None], 0, 1)
    exposed = exposed ** plan["gamma"][:, None, None] * np.float32(255)
    blurred = ndimage.gaussian_filter(exposed, sigma=(0, 0.6, 0.6), mode="nearest")
    noise = np.random.default_rng(plan["noise_seed"].tolist()).standard_normal(
        image.shape, dtype=np.float32
    )
    return np.clip(np.rint(blurred + noise * plan["noise"][:, None, None]), 0, 255).astype(np.uint8)


def _render_all(plan: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Render the whole plan in chunks of CHUNK images: images and true masks, uint8 (N, H, W)."""
    n = len(plan["kind"])
    images = np.empty((n, H, W), dtype=np.uint8)
    masks = np.empty((n, H, W), dtype=np.uint8)
    for start in range(0, n, CHUNK):
        rows = slice(start, min(start + CHUNK, n))
        images[rows], masks[rows] = _render(_take(plan, rows))
    return images, masks


# ---------------------------------------------------------------- traps


def _draw_aliens(rng: np.random.Generator, images: np.ndarray) -> np.ndarray:
    """Paint a cartoon alien (head, big dark eyes, antennae, body)
    at a random place and size on each image."""
    n = len(images)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32) + 0.5
    size = rng.uniform(0.35, 1.1, n)[:, None, None] * H
    cx = rng.uniform(20, W - 20, n)[:, None, None]
    cy = rng.uniform(18, H - 14, n)[:, None, None]
    tone = rng.uniform(170, 230, n)[:, None, None]

    def ellipse(x0: np.ndarray, y0: np.ndarray, rx: float, ry: float) -> np.ndarray:
        return ((xx - x0) / (rx * size)) ** 2 + ((yy - y0) / (ry * size)) ** 2 < 1

    head = ellipse(cx, cy - 0.1 * size, 0.22, 0.27)
    body = ellipse(cx, cy + 0.38 * size, 0.15, 0.22)
    eyes = ellipse(cx - 0.1 * size, cy - 0.12 * size, 0.075, 0.045) | ellipse(
        cx + 0.1 * size, cy - 0.12 * size, 0.075, 0.045
    )
    balls = ellipse(cx - 0.14 * size, cy - 0.5 * size, 0.04, 0.04) | ellipse(
        cx + 0.14 * size, cy - 0.5 * size, 0.04, 0.04
    )
    stalks = (
        np.abs(np.abs(xx - cx) - 0.09 * size - 0.1 * (cy - 0.36 * size - yy)) < 0.012 * size + 0.6
    ) & ((yy > cy - 0.5 * size) & (yy < cy - 0.33 * size))
    shade = tone * (1.0 - 0.25 * (xx - cx) / size)
    out = np.where(head | body | balls | stalks, shade, images.astype(np.float32))
    out = np.where(eyes, 15.0, out)
    return np.clip(out, 0, 255).astype(np.uint8)


def _coarsen(masks: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Erode the class regions of each mask by `widths` pixels: their edges become background."""
    out = masks.copy()
    for width in np.unique(widths[widths > 0]):
        idx = np.flatnonzero(widths == width)
        m = masks[idx]
        edge = np.zeros(m.shape, dtype=bool)
        edge[:, 1:] |= m[:, 1:] != m[:, :-1]
        edge[:, :-1] |= m[:, 1:] != m[:, :-1]
        edge[:, :, 1:] |= m[:, :, 1:] != m[:, :, :-1]
        edge[:, :, :-1] |= m[:, :, 1:] != m[:, :, :-1]
        if width > 1:
            edge = ndimage.binary_dilation(
                edge, structure=np.ones((1, 3, 3), bool), iterations=int(width) - 1
            )
        out[idx] = np.where(edge, BACKGROUND, m)
    return out


def _coarse_widths(rng: np.random.Generator, masks: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Erosion width per mask: 1 or 2 pixels for COARSE_SHARE of the eligible multi-class masks,
    else 0."""
    multi = np.array([len(np.unique(m)) > 1 for m in masks]) & eligible
    chosen = multi & (rng.random(len(masks)) < COARSE_SHARE)
    return np.where(chosen, rng.integers(1, 3, len(masks)), 0)


def default_alien_count(n_train: int) -> int:
    """110 aliens in 2615 images, in proportion, and at least 10 (or a fifth of a tiny set)."""
    return max(round(n_train * REAL_ALIENS / DEFAULT_TRAIN), min(10, n_train // 5))


def _place(rng: np.random.Generator, n_train: int, n_aliens: int) -> np.ndarray:
    """Where each generated training image goes: `order[p]` is the image at position p.

    The generated images come normal scenes first, then the `n_aliens` aliens. A random
    permutation shuffles them. In a set of the real size (`DEFAULT_TRAIN` images, 110 aliens)
    the aliens are then moved to the real file's indices `REAL_ALIEN_INDICES` and the normal
    scenes fill the other positions, each group in its shuffled order, so that the course's
    ``y_train[62]`` is an alien here too. A set of any other size keeps the random positions:
    the real indices say nothing about a set of another size. The permutation is drawn the same
    way in both cases, so every picture and mask is the one generator version 1 made; only
    their positions in the real-size set differ.
    """
    order = rng.permutation(n_train)
    if n_train != DEFAULT_TRAIN:
        return order
    if n_aliens != REAL_ALIENS:
        raise ValueError(
            f"a set of the real size ({DEFAULT_TRAIN} images) holds {REAL_ALIENS} aliens at the "
            f"real file's indices, got {n_aliens}"
        )
    alien_slot = np.zeros(n_train, dtype=bool)
    alien_slot[list(REAL_ALIEN_INDICES)] = True
    is_alien = order >= n_train - n_aliens
    placed = np.empty_like(order)
    placed[alien_slot] = order[is_alien]
    placed[~alien_slot] = order[~is_alien]
    return placed


def _training_set(seed: int, n_train: int) -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng([seed, 0, n_train])
    n_aliens = default_alien_count(n_train)
    normal = n_train - n_aliens
    kinds = np.concatenate([_kinds(rng, normal), np.full(n_aliens, HORIZON)])
    rock_count = round(BIG_ROCK_SHARE * n_train)
    candidates = np.flatnonzero(kinds[:normal] != SINGLE)
    big_rock = np.zeros(n_train, dtype=bool)
    big_rock[rng.choice(candidates, min(rock_count, len(candidates)), replace=False)] = True
    plan = _plan(rng, kinds, big_rock)
    # The alien backdrops hold three terrain classes, so the shared mask is clearly multi-class.
    plan["shares"][normal:] = TERRAIN_SHARES[plan["order"][normal:] - 1]
    images, masks = _render_all(plan)
    widths = _coarse_widths(rng, masks, np.arange(n_train) < normal)
    masks = _coarsen(masks, widths)

    # Single-class masks given a wrong terrain class.
    single = np.flatnonzero(kinds == SINGLE)
    wrong = np.sort(rng.choice(single, round(MISLABELED_SHARE * len(single)), replace=False))
    true_class = masks[wrong, 0, 0].copy()
    given = (true_class - 1 + rng.integers(1, 3, len(wrong))) % 3 + 1
    masks[wrong] = given[:, None, None].astype(np.uint8)

    # The aliens, all with the mask of the first alien backdrop, placed as `_place` says
    # (at the real file's indices in a set of the real size).
    images[normal:] = _draw_aliens(rng, images[normal:])
    masks[normal:] = masks[normal]
    order = _place(rng, n_train, n_aliens)
    position = np.argsort(order)  # position[i]: where original image i ends up
    images, masks = images[order], masks[order]
    meta = {
        "alien_indices": sorted(position[normal:].tolist()),
        "mislabeled_indices": position[wrong].tolist(),
        "mislabeled_true_class": true_class.tolist(),
        "mislabeled_given_class": given.tolist(),
        "coarse_indices": sorted(position[np.flatnonzero(widths)].tolist()),
    }
    by_index = np.argsort(meta["mislabeled_indices"])
    for key in ("mislabeled_indices", "mislabeled_true_class", "mislabeled_given_class"):
        meta[key] = [int(meta[key][i]) for i in by_index]
    return images, masks, meta


def _test_set(seed: int, n_test: int) -> tuple[np.ndarray, np.ndarray, dict]:
    rng = np.random.default_rng([seed, 1, n_test])
    kinds = _kinds(rng, n_test)
    candidates = np.flatnonzero(kinds != SINGLE)
    big_rock = np.zeros(n_test, dtype=bool)
    big_rock[
        rng.choice(candidates, min(round(BIG_ROCK_SHARE * n_test), len(candidates)), replace=False)
    ] = True
    images, masks = _render_all(_plan(rng, kinds, big_rock))
    widths = _coarse_widths(rng, masks, np.ones(n_test, dtype=bool))
    return images, _coarsen(masks, widths), {"test_coarse_indices": np.flatnonzero(widths).tolist()}


def _check_sizes(seed: int, n_train: int, n_test: int) -> None:
    for name, value, low in (("seed", seed, 0), ("n_train", n_train, 10), ("n_test", n_test, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


def generate(
    seed: int = 0, n_train: int = DEFAULT_TRAIN, n_test: int = DEFAULT_TEST
) -> SyntheticSet:
    """Generate the synthetic set (no cache; see `load_or_generate`).

    Args:
        seed: any integer >= 0; the same seed and sizes give the same arrays.
        n_train: training images (at least 10; `default_alien_count(n_train)` of them are aliens,
            at the real file's indices `REAL_ALIEN_INDICES` when n_train is `DEFAULT_TRAIN`,
            else at positions drawn from the seed).
        n_test: test images.

    Returns:
        the `SyntheticSet`.
    """
    _check_sizes(seed, n_train, n_test)
    train_images, train_masks, train_meta = _training_set(seed, n_train)
    test_images, test_masks, test_meta = _test_set(seed, n_test)
    meta = {"generator": "marslib.data.synthetic", "version": GENERATOR_VERSION, "seed": int(seed)}
    meta |= {"n_train": int(n_train), "n_test": int(n_test)} | train_meta | test_meta
    return SyntheticSet(train_images, train_masks, test_images, test_masks, meta)


# ---------------------------------------------------------------- cache


def cache_path(seed: int = 0, n_train: int = DEFAULT_TRAIN, n_test: int = DEFAULT_TEST) -> Path:
    """Where the set of this seed and these sizes is cached:
    ``<cache_dir>/synthetic-v<version>-s<seed>-<n_train>x<n_test>.npz``."""
    _check_sizes(seed, n_train, n_test)
    return paths.cache_dir() / f"synthetic-v{GENERATOR_VERSION}-s{seed}-{n_train}x{n_test}.npz"


def load_or_generate(
    seed: int = 0, n_train: int = DEFAULT_TRAIN, n_test: int = DEFAULT_TEST
) -> SyntheticSet:
    """The synthetic set, read from the cache if it was generated before, else generated and cached.

    The cache file holds uint8 arrays and the metadata as JSON text (no pickled objects). It is
    written whole or not at all (`marslib.core.files.atomic_path`): Ctrl-C or a full disk while
    it is written leaves no partial file. A cache file that cannot be read (truncated, damaged)
    is only a cache: a warning names it, and the set is generated and cached again.
    """
    path = cache_path(seed, n_train, n_test)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as npz:
                return SyntheticSet(
                    npz["train_images"],
                    npz["train_masks"],
                    npz["test_images"],
                    npz["test_masks"],
                    json.loads(str(npz["meta"])),
                )
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as error:
            warnings.warn(
                f"{path}: the cached synthetic set is damaged ({type(error).__name__}: {error}); "
                "generating it again",
                stacklevel=2,
            )
    generated = generate(seed, n_train, n_test)
    with atomic_path(path) as temporary:
        np.savez(
            temporary,
            train_images=generated.train_images,
            train_masks=generated.train_masks,
            test_images=generated.test_images,
            test_masks=generated.test_masks,
            meta=np.array(json.dumps(generated.meta)),
        )
    return generated
