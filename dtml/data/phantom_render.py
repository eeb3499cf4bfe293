"""The phantom's appearance: neighbouring blood pools, the partial atrial wall and the acquisition
(bias field, partial-volume blur, Rician noise), as functions of ``difficulty``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage, special

from dtml.data.phantom_anatomy import (
    UNIT_GRID,
    Anatomy,
    Ellipsoid,
    Tube,
    curved_tube,
    ellipsoid_distance,
    ellipsoid_extent,
    tube_distance,
    unit,
    upsample,
)


def _occupancy(distance: np.ndarray, width: float) -> np.ndarray:
    """Soft inside-ness in [0, 1] over a band of ``width`` units (anti-aliased edges)."""
    return np.clip(0.5 - distance / width, 0.0, 1.0)


def _paint(image: np.ndarray, occupancy: np.ndarray, value: np.ndarray | float) -> None:
    image += occupancy * (value - image)


def neighbours(
    rng: np.random.Generator, anatomy: Anatomy, q: np.ndarray
) -> list[tuple[np.ndarray, bool]]:
    """Blood pools placed against the atrium: (signed distance, has its own dark wall)."""
    body = anatomy.body
    out = []

    def against(direction: np.ndarray, own_extent: float, gap: float) -> np.ndarray:
        direction = unit(direction)
        return body.center + direction * (ellipsoid_extent(body.axes, direction) + own_extent + gap)

    # Left ventricle: large, antero-inferior, meets the atrium at the mitral plane (no wall).
    lv_axes = rng.uniform([20.0, 18.0, 16.0], [28.0, 24.0, 22.0])
    lv_dir = unit(np.array([rng.uniform(-0.2, 0.5), 0.8, -0.75]) + rng.normal(0, 0.1, 3))
    lv = Ellipsoid(against(lv_dir, ellipsoid_extent(lv_axes, lv_dir), rng.uniform(-9, -4)), lv_axes)
    out.append((ellipsoid_distance(q, lv), False))
    # Ascending aorta / pulmonary trunk: an anterior tube rising along z, arching backwards.
    if rng.random() < 0.95:
        r = rng.uniform(6.0, 9.0)
        base = against(np.array([rng.uniform(-0.3, 0.3), 1.0, -0.2]), r, rng.uniform(-4, 0))
        base = base + np.array([0.0, 0.0, -30.0])
        whole, _ = curved_tube(
            rng, base, unit(np.array([0.0, 0.3, 1.0])), 70.0, rng.uniform(-10, 10), r, r * 0.9
        )
        out.append((tube_distance(q, whole, np.full(q.shape[1:], 1e6, np.float32)), True))
    # Descending aorta: a straight posterior tube along z.
    if rng.random() < 0.8:
        r = rng.uniform(5.0, 7.0)
        c = against(np.array([rng.uniform(-0.4, 0.4), -1.0, 0.0]), r, rng.uniform(-3, 1))
        tube = Tube(np.array([c - [0, 0, 60], c + [0, 0, 60]]), r, r)
        out.append((tube_distance(q, tube, np.full(q.shape[1:], 1e6, np.float32)), True))
    # Right pulmonary artery: crosses over the roof along x, vein-sized but never annotated.
    if rng.random() < 0.8:
        r = rng.uniform(4.0, 6.0)
        top = against(np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.5), 1.0]), r, 0.0)
        top = top + np.array([rng.uniform(-50, -35), 0.0, rng.uniform(-3, 1)])
        whole, _ = curved_tube(
            rng, top, unit(np.array([1.0, rng.uniform(-0.2, 0.2), 0.0])), 80.0, 6.0, r, r * 0.8
        )
        out.append((tube_distance(q, whole, np.full(q.shape[1:], 1e6, np.float32)), True))
    # Right atrium: beside the atrium on the +x/anterior side.
    if rng.random() < 0.7:
        ra_axes = rng.uniform([14.0, 14.0, 14.0], [20.0, 18.0, 18.0])
        ra_dir = unit(np.array([1.0, 0.7, rng.uniform(-0.4, 0.2)]))
        centre = against(ra_dir, ellipsoid_extent(ra_axes, ra_dir), rng.uniform(-6, -1))
        out.append((ellipsoid_distance(q, Ellipsoid(centre, ra_axes)), True))
    return out


@dataclass(frozen=True)
class Appearance:
    """Appearance knobs as functions of ``difficulty`` (0 easy, 1 default, >1 harder)."""

    neighbour_contrast: float  # mean relative darkening of neighbouring blood pools
    neighbour_spread: float  # random +- relative spread of their brightness
    tissue_max: float  # soft tissue brightness drawn in [0.3, tissue_max] (blood = 1)
    wall_gap: float  # fraction of the atrial wall that is missing
    bias_strength: float  # std of the log bias field
    noise_sigma: float  # Rician noise level relative to blood
    blur: float  # partial-volume Gaussian sigma, voxels

    @staticmethod
    def at(difficulty: float) -> Appearance:
        soft = min(difficulty, 1.0)
        return Appearance(
            neighbour_contrast=0.45 * (1.0 - soft),
            neighbour_spread=0.1 * soft,
            tissue_max=0.3 + 0.25 * soft,
            wall_gap=float(np.clip(0.2 + 0.4 * difficulty, 0.0, 0.9)),
            bias_strength=0.1 + 0.25 * difficulty,
            noise_sigma=0.03 + 0.07 * difficulty,
            blur=0.5 + 0.4 * min(difficulty, 2.0),
        )


_WALL = 0.3  # myocardium / vessel wall brightness (blood = 1)


def render(
    rng: np.random.Generator,
    anatomy: Anatomy,
    q: np.ndarray,
    atrium: np.ndarray,
    look: Appearance,
) -> np.ndarray:
    """The LGE-like image: background, neighbours, atrial wall, atrium, then the acquisition."""
    shape = q.shape[1:]
    edge = max(float(np.max(UNIT_GRID / np.asarray(shape))), 1.0)  # anti-aliasing band: one voxel
    fields = upsample(rng.standard_normal((4, 10, 10, 8)).astype(np.float32), shape)
    tissue, lung_field, fat_field, wall_field = fields

    # Background: heterogeneous soft tissue, dark lungs to the sides and back, bright fat spots.
    image = np.float32(rng.uniform(0.3, look.tissue_max)) + np.float32(0.07) * tissue
    lateral = (np.abs(q[0]) / 45.0) ** 2 + (np.maximum(-q[1], 0.0) / 50.0) ** 2
    _paint(image, np.clip((0.6 * lung_field + 2.0 * lateral - 1.0) * 2.0, 0.0, 1.0), 0.06)
    _paint(image, np.clip((fat_field - 1.8) * 2.0, 0.0, 1.0), rng.uniform(0.8, 1.05))

    wall_w = rng.uniform(1.5, 2.5)
    for dist, walled in neighbours(rng, anatomy, q):
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
    bias = upsample(rng.standard_normal((5, 5, 4)).astype(np.float32), shape)
    image *= np.exp(np.float32(look.bias_strength) * bias)
    image = ndimage.gaussian_filter(image, look.blur, mode="nearest")
    sigma = np.float32(look.noise_sigma)
    real = image + sigma * rng.standard_normal(shape, dtype=np.float32)
    imag = sigma * rng.standard_normal(shape, dtype=np.float32)
    image = np.sqrt(real * real + imag * imag)
    return ((image - image.mean()) / image.std()).astype(np.float32)
