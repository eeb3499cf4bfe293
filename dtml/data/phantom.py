"""An embedded, seeded phantom of the LA task: synthetic LGE-MRI-like volumes with a left atrium.

The real LA data (2018 Atrial Segmentation Challenge) cannot ship with the project, so every
notebook falls back on this generator. It is built to keep what makes the real task hard: the
target is an irregular atrial body with pulmonary-vein tubes and an appendage; neighbours of the
same blood-pool brightness (a ventricle, aortic tubes, a right atrium) touch it, the dark wall that
separates them is missing in places, veins continue beyond the point where the annotation cuts
them, and a smooth bias field, Rician noise and partial-volume blur sit on top. A global intensity
threshold therefore cannot segment it; shape knowledge (which needs data) can.

Geometry is written in "units" u: voxels of the default 96x96x64 grid (about 1.25 mm, half the
real 0.625 mm resolution), so a non-default ``shape`` rescales the same anatomy onto its grid.
Axis order is (x, y, z), z the shortest, as in the real release; the image is z-scored over the
whole volume and the label is uint8 in {0, 1}.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage, special

from dtml.data.la import write_case, write_list

# Bump whenever generate_case's output changes: cached data sets with another version are stale.
GENERATOR_VERSION = 1
DEFAULT_SHAPE: tuple[int, int, int] = (96, 96, 64)
# Physical size of one unit: twice the real 0.625 mm, the default grid covers ~120x120x80 mm.
UNIT_MM = 1.25
_U = np.asarray(DEFAULT_SHAPE, dtype=np.float32)


@dataclass(frozen=True)
class _Tube:
    """A curved tube: a polyline of points (units) with a radius tapering from r0 to r1."""

    points: np.ndarray  # (n, 3)
    r0: float
    r1: float


@dataclass(frozen=True)
class _Ellipsoid:
    center: np.ndarray  # (3,)
    axes: np.ndarray  # (3,) semi-axes, units


@dataclass(frozen=True)
class _Anatomy:
    """Everything that defines the target shape (drawn from the anatomy stream only)."""

    body: _Ellipsoid
    veins_label: tuple[_Tube, ...]  # the annotated part of each vein
    veins_image: tuple[_Tube, ...]  # the full vein as it appears in the image
    appendage: _Tube
    rotation: np.ndarray  # (3, 3)
    deform: np.ndarray  # (3, 6, 6, 5) coarse displacement field, units
    blob: np.ndarray  # (7, 7, 6) coarse field that makes the body irregular
    deform_amp: float
    blob_amp: float


def _check_shape(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 8:
        raise ValueError(f"phantom shape must be 3 sizes >= 8 (x, y, z), got {shape}")
    return shape  # type: ignore[return-value]


def _check_difficulty(difficulty: float) -> float:
    if not np.isfinite(difficulty) or difficulty < 0:
        raise ValueError(f"phantom difficulty must be a finite number >= 0, got {difficulty}")
    return float(difficulty)


def _streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent anatomy and appearance streams, so the target shape never depends on appearance."""
    anatomy, appearance = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(anatomy), np.random.default_rng(appearance)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _rotation(rng: np.random.Generator, max_deg: tuple[float, float, float]) -> np.ndarray:
    """A random rotation, small angles about x, y and z (all real scans share one orientation)."""
    ax, ay, az = np.deg2rad(rng.uniform(-1, 1, 3) * np.asarray(max_deg))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return (rz @ ry @ rx).astype(np.float32)


def _ellipsoid_extent(axes: np.ndarray, direction: np.ndarray) -> float:
    """Distance from an ellipsoid's centre to its surface along a unit direction."""
    return float(1.0 / np.sqrt(np.sum((direction / axes) ** 2)))


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = t[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def _curved_tube(
    rng: np.random.Generator,
    start: np.ndarray,
    direction: np.ndarray,
    length: float,
    bend: float,
    r0: float,
    r1: float,
    cut: float = 1.0,
    segments: int = 4,
) -> tuple[_Tube, _Tube]:
    """A quadratic-Bezier tube, returned whole and cut at fraction ``cut`` of its length."""
    side = _unit(np.cross(direction, rng.normal(size=3)))
    p1 = start + direction * length * 0.5 + side * bend
    p2 = start + direction * length + side * bend * rng.uniform(0.0, 1.5)
    whole = _Tube(_bezier(start, p1, p2, np.linspace(0, 1, segments + 1)), r0, r1)
    r_cut = r0 + (r1 - r0) * cut
    part = _Tube(_bezier(start, p1, p2, np.linspace(0, cut, segments + 1)), r0, r_cut)
    return whole, part


def _draw_anatomy(rng: np.random.Generator, difficulty: float) -> _Anatomy:
    """Sample the target: atrial body, 3-5 pulmonary veins, an appendage, pose and deformation."""
    axes = rng.uniform([22.0, 17.0, 11.5], [29.0, 24.0, 15.5])
    center = rng.uniform(-3.0, 3.0, 3) + np.array([0.0, 2.0, -2.0])
    body = _Ellipsoid(center, axes)

    # Pulmonary veins leave the posterior-superior wall towards both sides; a common trunk on one
    # side (3 veins) or an extra right middle vein (5) occur as anatomical variants.
    n_veins = rng.choice([3, 4, 5], p=[0.25, 0.6, 0.15])
    plans = [(-1, 1), (-1, -1), (1, 1), (1, -1)]
    if n_veins == 3:
        plans.pop(int(rng.integers(4)))
    elif n_veins == 5:
        plans.append((1, 0))
    veins_label, veins_image = [], []
    for sx, sz in plans:
        direction = _unit(
            np.array([sx * 1.0, rng.uniform(-0.5, 0.0), sz * rng.uniform(0.2, 0.55)])
            + rng.normal(0, 0.12, 3)
        )
        ostium = center + np.array([sx * 0.45 * axes[0], -0.35 * axes[1], 0.15 * axes[2]])
        ostium = ostium + np.array([0.0, 0.0, sz * 0.3 * axes[2]])
        inner = _ellipsoid_extent(axes, direction) * 0.55
        label_len = inner + rng.uniform(4.0, 10.0)
        image_len = label_len + rng.uniform(8.0, 22.0)
        whole, part = _curved_tube(
            rng,
            ostium,
            direction,
            image_len,
            bend=rng.uniform(-5.0, 5.0),
            r0=rng.uniform(4.0, 6.0),
            r1=rng.uniform(2.5, 3.5),
            cut=label_len / image_len,
        )
        veins_image.append(whole)
        veins_label.append(part)

    # The appendage: a finger-like tapered lobe on the anterior-left-superior side.
    a_dir = _unit(np.array([-0.7, 0.65, 0.35]) + rng.normal(0, 0.2, 3))
    a_start = center + a_dir * _ellipsoid_extent(axes, a_dir) * 0.7
    appendage, _ = _curved_tube(
        rng,
        a_start,
        a_dir,
        rng.uniform(11.0, 18.0),
        bend=rng.uniform(-6.0, 6.0),
        r0=rng.uniform(5.0, 7.0),
        r1=rng.uniform(2.5, 4.0),
        segments=3,
    )
    hard = min(difficulty, 1.5)
    return _Anatomy(
        body=body,
        veins_label=tuple(veins_label),
        veins_image=tuple(veins_image),
        appendage=appendage,
        rotation=_rotation(rng, (8.0, 8.0, 15.0)),
        deform=rng.standard_normal((3, 6, 6, 5)).astype(np.float32),
        blob=rng.standard_normal((7, 7, 6)).astype(np.float32),
        deform_amp=1.0 + 1.5 * hard,
        blob_amp=1.5 + 2.0 * hard,
    )


def _bspline_weights(n_out: int, n_coarse: int) -> np.ndarray:
    """(n_out, n_coarse) cubic B-spline weights; the outer control points only pad the support."""
    t = np.linspace(1.0, n_coarse - 2.0, n_out, dtype=np.float32)[:, None]
    x = np.abs(t - np.arange(n_coarse, dtype=np.float32)[None, :])
    inner = (4.0 - 6.0 * x**2 + 3.0 * x**3) / 6.0
    outer = np.clip(2.0 - x, 0.0, None) ** 3 / 6.0
    return np.where(x < 1.0, inner, outer).astype(np.float32)


def _upsample(coarse: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """A smooth (C2) field on ``shape`` from a coarse random grid of B-spline control points.

    Separable, so it costs a few small matrix products instead of a wide Gaussian filter.
    """
    out = coarse.astype(np.float32)
    gain = 1.0
    for axis, n in zip(range(-3, 0), shape, strict=True):
        weights = _bspline_weights(n, out.shape[axis])
        out = np.moveaxis(np.tensordot(out, weights, axes=([axis], [1])), -1, axis)
        gain *= float(np.sqrt(np.mean(np.sum(weights**2, axis=1))))
    # Unit-variance control points give an (about) unit-variance field.
    return np.ascontiguousarray(out / gain)


def _frame(anatomy: _Anatomy, shape: tuple[int, int, int]) -> np.ndarray:
    """Anatomy-frame coordinates (3, *shape) in units of every voxel: rotated and deformed."""
    grid = np.indices(shape, dtype=np.float32)
    scale = (_U / np.asarray(shape, dtype=np.float32)).reshape(3, 1, 1, 1)
    centre = ((np.asarray(shape, dtype=np.float32) - 1) / 2).reshape(3, 1, 1, 1)
    q = (grid - centre) * scale
    q = np.tensordot(anatomy.rotation, q, axes=1)
    q += anatomy.deform_amp * _upsample(anatomy.deform, shape)
    return q


def _ellipsoid_distance(q: np.ndarray, e: _Ellipsoid) -> np.ndarray:
    """Approximate signed distance (units) to an ellipsoid: (r - 1) / |grad r|, exact for spheres."""
    r2 = np.zeros(q.shape[1:], np.float32)
    g2 = np.zeros(q.shape[1:], np.float32)
    for axis in range(3):
        u = (q[axis] - np.float32(e.center[axis])) / np.float32(e.axes[axis])
        r2 += u * u
        u /= np.float32(e.axes[axis])
        g2 += u * u
    r = np.sqrt(r2, out=r2)
    grad = np.sqrt(g2, out=g2)
    grad /= np.maximum(r, np.float32(1e-3))
    r -= np.float32(1.0)
    return r / np.maximum(grad, np.float32(1e-3))


def _box(q: np.ndarray, lo: np.ndarray, hi: np.ndarray, step: int = 4) -> tuple[slice, ...] | None:
    """Index slices of the voxels whose coordinates may fall in [lo, hi], or None.

    Checked on every ``step``-th voxel with a margin covering what ``q`` (smooth, a few units per
    voxel at most) can change in between: a cheap pre-filter for small tubes.
    """
    coarse = q[:, ::step, ::step, ::step]
    margin = 2.0 * step * float(np.max(_U / np.asarray(q.shape[1:], dtype=np.float32)))
    inside = (coarse >= (lo - margin).reshape(3, 1, 1, 1)) & (
        coarse <= (hi + margin).reshape(3, 1, 1, 1)
    )
    near = np.all(inside, axis=0)
    if not near.any():
        return None
    box = []
    for axis, others in enumerate(((1, 2), (0, 2), (0, 1))):
        idx = np.flatnonzero(near.any(axis=others))
        start = max(int(idx[0]) * step - step, 0)
        box.append(slice(start, min((int(idx[-1]) + 2) * step, q.shape[axis + 1])))
    return tuple(box)


def _tube_distance(q: np.ndarray, tube: _Tube, out: np.ndarray) -> np.ndarray:
    """Signed distance to a tapered polyline tube, folded into ``out`` with a minimum (union)."""
    pts = tube.points.astype(np.float32)
    n = len(pts) - 1
    reach = max(tube.r0, tube.r1) + 2.0
    for i in range(n):
        a, b = pts[i], pts[i + 1]
        ab = b - a
        box = _box(q, np.minimum(a, b) - reach, np.maximum(a, b) + reach)
        if box is None:
            continue
        ap = [q[(axis, *box)] - a[axis] for axis in range(3)]
        t = ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]
        t /= np.float32(max(float(ab @ ab), 1e-6))
        np.clip(t, 0.0, 1.0, out=t)
        dist = np.zeros_like(t)
        for axis in range(3):
            ap[axis] -= ab[axis] * t
            dist += ap[axis] * ap[axis]
        np.sqrt(dist, out=dist)
        # radius tapers linearly along the whole polyline: r0 + (r1 - r0) * (i + t) / n
        t += np.float32(i)
        t *= np.float32((tube.r1 - tube.r0) / n)
        t += np.float32(tube.r0)
        dist -= t
        np.minimum(out[box], dist, out=out[box])
    return out


def _smooth_union(a: np.ndarray, b: np.ndarray, k: float = 2.0) -> np.ndarray:
    """Polynomial smooth minimum: unions with a fillet instead of a crease, like real ostia."""
    h = np.clip(0.5 + 0.5 * (b - a) / k, 0.0, 1.0)
    return b + (a - b) * h - k * h * (1.0 - h)


def _atrium_distances(q: np.ndarray, anatomy: _Anatomy) -> tuple[np.ndarray, np.ndarray]:
    """Signed distances (units) of the annotated atrium and of the atrium as imaged.

    They differ only in the veins: the image shows them further than the annotation goes.
    """
    body = _ellipsoid_distance(q, anatomy.body)
    # Bumps centred over the body's surface: they reshape it without inflating or shrinking it.
    bumps = _upsample(anatomy.blob, q.shape[1:])
    surface = np.abs(body) < 3.0
    if surface.any():
        bumps -= bumps[surface].mean()
    body += np.float32(anatomy.blob_amp) * bumps
    labelled = _tube_distance(q, anatomy.appendage, np.full_like(body, 1e6))
    imaged = labelled.copy()
    for part, whole in zip(anatomy.veins_label, anatomy.veins_image, strict=True):
        _tube_distance(q, part, labelled)
        _tube_distance(q, whole, imaged)
    return _smooth_union(body, labelled), _smooth_union(body, imaged)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == np.argmax(sizes)


def _label_from(distance: np.ndarray) -> np.ndarray:
    return _largest_component(distance < 0)


def atrium_mask(
    shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0, difficulty: float = 1.0
) -> np.ndarray:
    """The target shape alone: a bool (x, y, z) mask, identical to ``generate_case``'s label."""
    shape = _check_shape(shape)
    difficulty = _check_difficulty(difficulty)
    anatomy_rng, _ = _streams(seed)
    anatomy = _draw_anatomy(anatomy_rng, difficulty)
    q = _frame(anatomy, shape)
    return _label_from(_atrium_distances(q, anatomy)[0])


def _occupancy(distance: np.ndarray, width: float) -> np.ndarray:
    """Soft inside-ness in [0, 1] over a band of ``width`` units (anti-aliased edges)."""
    return np.clip(0.5 - distance / width, 0.0, 1.0)


def _paint(image: np.ndarray, occupancy: np.ndarray, value: np.ndarray | float) -> None:
    image += occupancy * (value - image)


def _neighbours(
    rng: np.random.Generator, anatomy: _Anatomy, q: np.ndarray
) -> list[tuple[np.ndarray, bool]]:
    """Blood pools placed against the atrium: (signed distance, has its own dark wall)."""
    body = anatomy.body
    out = []

    def against(direction: np.ndarray, own_extent: float, gap: float) -> np.ndarray:
        direction = _unit(direction)
        return body.center + direction * (
            _ellipsoid_extent(body.axes, direction) + own_extent + gap
        )

    # Left ventricle: large, antero-inferior, meets the atrium at the mitral plane (no wall).
    lv_axes = rng.uniform([20.0, 18.0, 16.0], [28.0, 24.0, 22.0])
    lv_dir = _unit(np.array([rng.uniform(-0.2, 0.5), 0.8, -0.75]) + rng.normal(0, 0.1, 3))
    lv = _Ellipsoid(
        against(lv_dir, _ellipsoid_extent(lv_axes, lv_dir), rng.uniform(-9, -4)), lv_axes
    )
    out.append((_ellipsoid_distance(q, lv), False))
    # Ascending aorta / pulmonary trunk: an anterior tube rising along z, arching backwards.
    if rng.random() < 0.95:
        r = rng.uniform(6.0, 9.0)
        base = against(np.array([rng.uniform(-0.3, 0.3), 1.0, -0.2]), r, rng.uniform(-4, 0))
        base = base + np.array([0.0, 0.0, -30.0])
        whole, _ = _curved_tube(
            rng, base, _unit(np.array([0.0, 0.3, 1.0])), 70.0, rng.uniform(-10, 10), r, r * 0.9
        )
        out.append((_tube_distance(q, whole, np.full(q.shape[1:], 1e6, np.float32)), True))
    # Descending aorta: a straight posterior tube along z.
    if rng.random() < 0.8:
        r = rng.uniform(5.0, 7.0)
        c = against(np.array([rng.uniform(-0.4, 0.4), -1.0, 0.0]), r, rng.uniform(-3, 1))
        tube = _Tube(np.array([c - [0, 0, 60], c + [0, 0, 60]]), r, r)
        out.append((_tube_distance(q, tube, np.full(q.shape[1:], 1e6, np.float32)), True))
    # Right pulmonary artery: crosses over the roof along x, vein-sized but never annotated.
    if rng.random() < 0.8:
        r = rng.uniform(4.0, 6.0)
        top = against(np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.5), 1.0]), r, 0.0)
        top = top + np.array([rng.uniform(-50, -35), 0.0, rng.uniform(-3, 1)])
        whole, _ = _curved_tube(
            rng, top, _unit(np.array([1.0, rng.uniform(-0.2, 0.2), 0.0])), 80.0, 6.0, r, r * 0.8
        )
        out.append((_tube_distance(q, whole, np.full(q.shape[1:], 1e6, np.float32)), True))
    # Right atrium: beside the atrium on the +x/anterior side.
    if rng.random() < 0.7:
        ra_axes = rng.uniform([14.0, 14.0, 14.0], [20.0, 18.0, 18.0])
        ra_dir = _unit(np.array([1.0, 0.7, rng.uniform(-0.4, 0.2)]))
        centre = against(ra_dir, _ellipsoid_extent(ra_axes, ra_dir), rng.uniform(-6, -1))
        out.append((_ellipsoid_distance(q, _Ellipsoid(centre, ra_axes)), True))
    return out


@dataclass(frozen=True)
class _Appearance:
    """Appearance knobs as functions of ``difficulty`` (0 easy, 1 default, >1 harder)."""

    neighbour_contrast: float  # mean relative darkening of neighbouring blood pools
    neighbour_spread: float  # random +- relative spread of their brightness
    tissue_max: float  # soft tissue brightness drawn in [0.3, tissue_max] (blood = 1)
    wall_gap: float  # fraction of the atrial wall that is missing
    bias_strength: float  # std of the log bias field
    noise_sigma: float  # Rician noise level relative to blood
    blur: float  # partial-volume Gaussian sigma, voxels

    @staticmethod
    def at(difficulty: float) -> _Appearance:
        soft = min(difficulty, 1.0)
        return _Appearance(
            neighbour_contrast=0.45 * (1.0 - soft),
            neighbour_spread=0.1 * soft,
            tissue_max=0.3 + 0.25 * soft,
            wall_gap=float(np.clip(0.2 + 0.4 * difficulty, 0.0, 0.9)),
            bias_strength=0.1 + 0.25 * difficulty,
            noise_sigma=0.03 + 0.07 * difficulty,
            blur=0.5 + 0.4 * min(difficulty, 2.0),
        )


_WALL = 0.3  # myocardium / vessel wall brightness (blood = 1)


def _render(
    rng: np.random.Generator,
    anatomy: _Anatomy,
    q: np.ndarray,
    atrium: np.ndarray,
    look: _Appearance,
) -> np.ndarray:
    """The LGE-like image: background, neighbours, atrial wall, atrium, then the acquisition."""
    shape = q.shape[1:]
    edge = max(float(np.max(_U / np.asarray(shape))), 1.0)  # anti-aliasing band: one voxel
    fields = _upsample(rng.standard_normal((4, 10, 10, 8)).astype(np.float32), shape)
    tissue, lung_field, fat_field, wall_field = fields

    # Background: heterogeneous soft tissue, dark lungs to the sides and back, bright fat spots.
    image = np.float32(rng.uniform(0.3, look.tissue_max)) + np.float32(0.07) * tissue
    lateral = (np.abs(q[0]) / 45.0) ** 2 + (np.maximum(-q[1], 0.0) / 50.0) ** 2
    _paint(image, np.clip((0.6 * lung_field + 2.0 * lateral - 1.0) * 2.0, 0.0, 1.0), 0.06)
    _paint(image, np.clip((fat_field - 1.8) * 2.0, 0.0, 1.0), rng.uniform(0.8, 1.05))

    wall_w = rng.uniform(1.5, 2.5)
    for dist, walled in _neighbours(rng, anatomy, q):
        spread = rng.uniform(-1.2, 0.8) * look.neighbour_spread
        if walled:
            _paint(image, _occupancy(dist - wall_w, edge), _WALL)
        _paint(image, _occupancy(dist, edge), 1.0 + spread - look.neighbour_contrast)

    # The atrial wall separates the atrium from its neighbours only where it is present; the
    # gaps (a thresholded unit-variance field) leave blood touching blood, as at the mitral valve.
    present = np.clip((wall_field - np.float32(special.ndtri(look.wall_gap))) * 3.0, 0.0, 1.0)
    shell = _occupancy(atrium - wall_w, edge) * present
    _paint(image, shell, _WALL)
    # LGE enhancement: bright fibrotic patches on the wall, outside the annotated blood pool.
    _paint(image, np.clip((fat_field + tissue - 2.2) * 2.0, 0.0, 1.0) * shell, 1.1)
    _paint(image, _occupancy(atrium, edge), 1.0 + 0.05 * rng.standard_normal())

    # Acquisition: smooth multiplicative bias, partial-volume blur, Rician noise, z-score.
    bias = _upsample(rng.standard_normal((5, 5, 4)).astype(np.float32), shape)
    image *= np.exp(np.float32(look.bias_strength) * bias)
    image = ndimage.gaussian_filter(image, look.blur, mode="nearest")
    sigma = np.float32(look.noise_sigma)
    real = image + sigma * rng.standard_normal(shape, dtype=np.float32)
    imag = sigma * rng.standard_normal(shape, dtype=np.float32)
    image = np.sqrt(real * real + imag * imag)
    return ((image - image.mean()) / image.std()).astype(np.float32)


def generate_case(
    seed: int, shape: tuple[int, int, int] = DEFAULT_SHAPE, difficulty: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One phantom case: (image float32, z-scored over the volume; label uint8 {0, 1}), (x, y, z).

    ``difficulty`` 0: darker neighbours, walls missing over 20 % of the atrium, weak bias and
    noise (a threshold nearly works). 1 (default): neighbours as bright as the atrium and pressed
    against it, walls missing over 60 %, strong bias and noise, more irregular shapes; above 1
    bias, noise and wall gaps grow further. The label equals ``atrium_mask(shape, seed,
    difficulty)``.
    """
    shape = _check_shape(shape)
    difficulty = _check_difficulty(difficulty)
    anatomy_rng, rng = _streams(seed)
    anatomy = _draw_anatomy(anatomy_rng, difficulty)
    q = _frame(anatomy, shape)
    label_dist, atrium = _atrium_distances(q, anatomy)
    label = _label_from(label_dist)
    # Label voxels are atrium in the image too (a rare cut-off fragment stays image-only).
    atrium = np.where(label, np.minimum(atrium, np.float32(-0.5)), atrium)
    image = _render(rng, anatomy, q, atrium, _Appearance.at(difficulty))
    return image, label.astype(np.uint8)


def case_seed(seed: int, index: int) -> int:
    """The per-case seed of case ``index`` in a dataset built with ``seed`` (stable, documented)."""
    return int(np.random.SeedSequence((int(seed), int(index))).generate_state(1)[0])


def case_id(index: int) -> str:
    return f"phantom_{index:03d}"


def _dataset_params(n_train, n_test, seed, shape, difficulty) -> dict:
    return {
        "version": GENERATOR_VERSION,
        "seed": int(seed),
        "n_train": int(n_train),
        "n_test": int(n_test),
        "shape": [int(s) for s in shape],
        "difficulty": float(difficulty),
    }


def dataset_is_current(
    root: str | Path,
    n_train: int = 80,
    n_test: int = 20,
    seed: int = 0,
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    difficulty: float = 1.0,
) -> bool:
    """Whether ``root`` holds a complete phantom data set of this generator version and these
    parameters (so a cached set built by an older generator is rebuilt, not silently reused)."""
    root = Path(root)
    meta_file = root / "phantom.json"
    if not (meta_file.is_file() and (root / "train.list").is_file()):
        return False
    if n_test and not (root / "test.list").is_file():
        return False
    try:
        meta = json.loads(meta_file.read_text())
    except (OSError, ValueError):
        return False
    expected = _dataset_params(n_train, n_test, seed, shape, difficulty)
    return all(meta.get(k) == v for k, v in expected.items())


def write_phantom_dataset(
    root: str | Path,
    n_train: int = 80,
    n_test: int = 20,
    seed: int = 0,
    shape: tuple[int, int, int] = DEFAULT_SHAPE,
    difficulty: float = 1.0,
) -> Path:
    """Write a phantom dataset in the real release's layout and return its root.

    ``<root>/phantom_XXX/mri_norm2.h5`` (``image``, ``label``), ``train.list`` (the first
    ``n_train`` ids; its first 16 lines are "the labeled cases" as in the LA split), ``test.list``
    and ``phantom.json`` with the generator parameters and every case's seed.
    """
    if n_train < 1 or n_test < 0:
        raise ValueError(f"n_train must be >= 1 and n_test >= 0, got {n_train}, {n_test}")
    shape = _check_shape(shape)
    difficulty = _check_difficulty(difficulty)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    spacing = tuple(UNIT_MM * u / n for u, n in zip(DEFAULT_SHAPE, shape, strict=True))
    ids = [case_id(i) for i in range(n_train + n_test)]
    seeds = [case_seed(seed, i) for i in range(n_train + n_test)]
    for cid, s in zip(ids, seeds, strict=True):
        image, label = generate_case(s, shape, difficulty)
        write_case(root, cid, image, label, spacing=spacing)
    meta = {
        "generator": "dtml.data.phantom.generate_case",
        **_dataset_params(n_train, n_test, seed, shape, difficulty),
        "spacing_mm": list(spacing),
        "case_seeds": dict(zip(ids, seeds, strict=True)),
    }
    (root / "phantom.json").write_text(json.dumps(meta, indent=2) + "\n")
    # The lists go last: their presence marks a complete data set (see paths.ensure_phantom).
    write_list(root, "train.list", ids[:n_train])
    if n_test:
        write_list(root, "test.list", ids[n_train:])
    return root
