"""The phantom's geometry: the atrium, its veins and appendage, and the shapes around it.

Geometry is written in "units" u: voxels of the default 96x96x64 grid (about 1.25 mm, half the
real 0.625 mm resolution), so a non-default ``shape`` rescales the same anatomy onto its grid.
Shapes are signed distance fields in units (negative inside); the label is the largest connected
component of the annotated atrium. Drawn from the anatomy random stream only, so the target shape
does not depend on how the image is rendered (``dtml.data.phantom_render``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

DEFAULT_SHAPE: tuple[int, int, int] = (96, 96, 64)
# Physical size of one unit: twice the real 0.625 mm, the default grid covers ~120x120x80 mm.
UNIT_MM = 1.25
UNIT_GRID = np.asarray(DEFAULT_SHAPE, dtype=np.float32)


@dataclass(frozen=True)
class Tube:
    """A curved tube: a polyline of points (units) with a radius tapering from r0 to r1."""

    points: np.ndarray  # (n, 3)
    r0: float
    r1: float


@dataclass(frozen=True)
class Ellipsoid:
    center: np.ndarray  # (3,)
    axes: np.ndarray  # (3,) semi-axes, units


@dataclass(frozen=True)
class Anatomy:
    """Everything that defines the target shape (drawn from the anatomy stream only)."""

    body: Ellipsoid
    veins_label: tuple[Tube, ...]  # the annotated part of each vein
    veins_image: tuple[Tube, ...]  # the full vein as it appears in the image
    appendage: Tube
    rotation: np.ndarray  # (3, 3)
    deform: np.ndarray  # (3, 6, 6, 5) coarse displacement field, units
    blob: np.ndarray  # (7, 7, 6) coarse field that makes the body irregular
    deform_amp: float
    blob_amp: float


def check_shape(shape: tuple[int, int, int]) -> tuple[int, int, int]:
    shape = tuple(int(s) for s in shape)
    if len(shape) != 3 or min(shape) < 8:
        raise ValueError(f"phantom shape must be 3 sizes >= 8 (x, y, z), got {shape}")
    return shape  # type: ignore[return-value]


def check_difficulty(difficulty: float) -> float:
    if not np.isfinite(difficulty) or difficulty < 0:
        raise ValueError(f"phantom difficulty must be a finite number >= 0, got {difficulty}")
    return float(difficulty)


def streams(seed: int) -> tuple[np.random.Generator, np.random.Generator]:
    """Independent anatomy and appearance streams, so the target shape never depends on appearance."""
    anatomy, appearance = np.random.SeedSequence(int(seed)).spawn(2)
    return np.random.default_rng(anatomy), np.random.default_rng(appearance)


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def _rotation(rng: np.random.Generator, max_deg: tuple[float, float, float]) -> np.ndarray:
    """A random rotation, small angles about x, y and z (all real scans share one orientation)."""
    ax, ay, az = np.deg2rad(rng.uniform(-1, 1, 3) * np.asarray(max_deg))
    rx = np.array([[1, 0, 0], [0, np.cos(ax), -np.sin(ax)], [0, np.sin(ax), np.cos(ax)]])
    ry = np.array([[np.cos(ay), 0, np.sin(ay)], [0, 1, 0], [-np.sin(ay), 0, np.cos(ay)]])
    rz = np.array([[np.cos(az), -np.sin(az), 0], [np.sin(az), np.cos(az), 0], [0, 0, 1]])
    return (rz @ ry @ rx).astype(np.float32)


def ellipsoid_extent(axes: np.ndarray, direction: np.ndarray) -> float:
    """Distance from an ellipsoid's centre to its surface along a unit direction."""
    return float(1.0 / np.sqrt(np.sum((direction / axes) ** 2)))


def _bezier(p0: np.ndarray, p1: np.ndarray, p2: np.ndarray, t: np.ndarray) -> np.ndarray:
    t = t[:, None]
    return (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2


def curved_tube(
    rng: np.random.Generator,
    start: np.ndarray,
    direction: np.ndarray,
    length: float,
    bend: float,
    r0: float,
    r1: float,
    cut: float = 1.0,
    segments: int = 4,
) -> tuple[Tube, Tube]:
    """A quadratic-Bezier tube, returned whole and cut at fraction ``cut`` of its length."""
    side = unit(np.cross(direction, rng.normal(size=3)))
    p1 = start + direction * length * 0.5 + side * bend
    p2 = start + direction * length + side * bend * rng.uniform(0.0, 1.5)
    whole = Tube(_bezier(start, p1, p2, np.linspace(0, 1, segments + 1)), r0, r1)
    r_cut = r0 + (r1 - r0) * cut
    part = Tube(_bezier(start, p1, p2, np.linspace(0, cut, segments + 1)), r0, r_cut)
    return whole, part


def draw_anatomy(rng: np.random.Generator, difficulty: float) -> Anatomy:
    """Sample the target: atrial body, 3-5 pulmonary veins, an appendage, pose and deformation."""
    axes = rng.uniform([22.0, 17.0, 11.5], [29.0, 24.0, 15.5])
    center = rng.uniform(-3.0, 3.0, 3) + np.array([0.0, 2.0, -2.0])
    body = Ellipsoid(center, axes)

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
        direction = unit(
            np.array([sx * 1.0, rng.uniform(-0.5, 0.0), sz * rng.uniform(0.2, 0.55)])
            + rng.normal(0, 0.12, 3)
        )
        ostium = center + np.array([sx * 0.45 * axes[0], -0.35 * axes[1], 0.15 * axes[2]])
        ostium = ostium + np.array([0.0, 0.0, sz * 0.3 * axes[2]])
        inner = ellipsoid_extent(axes, direction) * 0.55
        label_len = inner + rng.uniform(4.0, 10.0)
        image_len = label_len + rng.uniform(8.0, 22.0)
        whole, part = curved_tube(
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
    a_dir = unit(np.array([-0.7, 0.65, 0.35]) + rng.normal(0, 0.2, 3))
    a_start = center + a_dir * ellipsoid_extent(axes, a_dir) * 0.7
    appendage, _ = curved_tube(
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
    return Anatomy(
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


def upsample(coarse: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
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


def frame(anatomy: Anatomy, shape: tuple[int, int, int]) -> np.ndarray:
    """Anatomy-frame coordinates (3, *shape) in units of every voxel: rotated and deformed."""
    grid = np.indices(shape, dtype=np.float32)
    scale = (UNIT_GRID / np.asarray(shape, dtype=np.float32)).reshape(3, 1, 1, 1)
    centre = ((np.asarray(shape, dtype=np.float32) - 1) / 2).reshape(3, 1, 1, 1)
    q = (grid - centre) * scale
    q = np.tensordot(anatomy.rotation, q, axes=1)
    q += anatomy.deform_amp * upsample(anatomy.deform, shape)
    return q


def ellipsoid_distance(q: np.ndarray, e: Ellipsoid) -> np.ndarray:
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
    margin = 2.0 * step * float(np.max(UNIT_GRID / np.asarray(q.shape[1:], dtype=np.float32)))
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


def tube_distance(q: np.ndarray, tube: Tube, out: np.ndarray) -> np.ndarray:
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


def atrium_distances(q: np.ndarray, anatomy: Anatomy) -> tuple[np.ndarray, np.ndarray]:
    """Signed distances (units) of the annotated atrium and of the atrium as imaged.

    They differ only in the veins: the image shows them further than the annotation goes.
    """
    body = ellipsoid_distance(q, anatomy.body)
    # Bumps centred over the body's surface: they reshape it without inflating or shrinking it.
    bumps = upsample(anatomy.blob, q.shape[1:])
    surface = np.abs(body) < 3.0
    if surface.any():
        bumps -= bumps[surface].mean()
    body += np.float32(anatomy.blob_amp) * bumps
    labelled = tube_distance(q, anatomy.appendage, np.full_like(body, 1e6))
    imaged = labelled.copy()
    for part, whole in zip(anatomy.veins_label, anatomy.veins_image, strict=True):
        tube_distance(q, part, labelled)
        tube_distance(q, whole, imaged)
    return _smooth_union(body, labelled), _smooth_union(body, imaged)


def _largest_component(mask: np.ndarray) -> np.ndarray:
    labels, n = ndimage.label(mask)
    if n <= 1:
        return mask
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0
    return labels == np.argmax(sizes)


def label_from(distance: np.ndarray) -> np.ndarray:
    return _largest_component(distance < 0)


def atrium_mask(
    shape: tuple[int, int, int] = DEFAULT_SHAPE, seed: int = 0, difficulty: float = 1.0
) -> np.ndarray:
    """The target shape alone: a bool (x, y, z) mask, identical to ``generate_case``'s label."""
    shape = check_shape(shape)
    difficulty = check_difficulty(difficulty)
    anatomy_rng, _ = streams(seed)
    anatomy = draw_anatomy(anatomy_rng, difficulty)
    q = frame(anatomy, shape)
    return label_from(atrium_distances(q, anatomy)[0])
