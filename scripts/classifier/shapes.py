#!/usr/bin/env python3
"""Generated classification images: one shape or textured patch per image, ten classes (numpy only).

generate_sample(seed) returns (image uint8 [S,S,3] RGB, class id). The same seed always gives the same image;
the class is drawn from the seed too, so any run of consecutive seeds is close to balanced.

Each image: a background (solid, gradient, smooth colour blobs, coloured noise, or a faint texture), the
object of the class (log-uniform size, 25 to 95 % of the image, any rotation and position, possibly cut by
the border, varied colour, shading, sometimes a dark rim or a faint contrast), 0 to 4 clutter items (thin
lines and small blobs that may cross the object), then optional blur and sensor noise. Small, low-contrast
and occluded objects make some images genuinely ambiguous (a small hexagon against a circle, a cut-off star
against a cross), which keeps top-1 below 100 %.

CLI: shapes.py --out DIR --count N [--seed S] [--size 64]
writes DIR/sample_XXXXX_<class>.png and DIR/labels.csv for inspection.
"""
import argparse
import os
import sys

import numpy as np

# Appended, not prepended: the detector folder has a model.py of its own.
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "detector"))
from scenes import (_polygon_sdf, _random_colour, _shape_vertices, linear_gradient, smooth_field,  # noqa: E402
                    write_png)

CLASS_NAMES = ("circle", "square", "triangle", "cross", "star", "ring", "hexagon", "stripes", "checker", "dots")
NUM_CLASSES = len(CLASS_NAMES)
DEFAULT_SIZE = 64
# Disjoint seed ranges: training from TRAIN_SEED, validation, the held-out test set (evaluate.py), the CTest
# check set and the INT8 calibration images (evaluate.py --write-calib) from their own.
TEST_SEED = 500_000
VAL_SEED = 600_000
CHECK_SEED = 700_000
CALIB_SEED = 800_000
TRAIN_SEED = 1_000_000
# Object extent (circumscribed diameter) is log-uniform in this fraction range of the image size.
MIN_EXTENT = 0.25
MAX_EXTENT = 0.95


def _background(rng, size, yy, xx):
    c0, c1 = _random_colour(rng), _random_colour(rng)
    kind = rng.integers(0, 5)
    if kind == 0:  # solid
        img = np.broadcast_to(c0, (size, size, 3)).copy()
    elif kind == 1:
        img = linear_gradient(rng, c0, c1, yy, xx)
    elif kind == 2:  # smooth blobs, coarser than the detector's
        img = 0.5 * smooth_field(rng, int(rng.integers(2, 6)), size) + 0.5 * c0
    elif kind == 3:  # coloured noise
        img = c0 + rng.normal(0, rng.uniform(0.03, 0.15), (size, size, 3)).astype(np.float32)
    else:  # a faint texture of one of the texture classes: the object must be told from it by its outline
        s = _texture(rng, int(rng.integers(7, 10)), size, yy, xx, size)
        img = c0 * (1 - 0.25 * s[..., None]) + c1 * 0.25 * s[..., None]
    return np.clip(img, 0, 1).astype(np.float32)


def _texture(rng, cls, size, yy, xx, extent):
    """Texture pattern in [0, 1] over the image for the texture classes (stripes, checker, dots)."""
    a = rng.uniform(0, np.pi)
    period = rng.uniform(0.18, 0.4) * extent
    u = (xx * np.cos(a) + yy * np.sin(a)) * size
    v = (-xx * np.sin(a) + yy * np.cos(a)) * size
    if cls == 7:
        s = 0.5 + 0.5 * np.sin(2 * np.pi * u / period)
        return (s > 0.5).astype(np.float32) if rng.random() < 0.6 else s
    if cls == 8:
        return ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
    # dots on a square lattice, radius a quarter to a third of the period
    du = (u / period) % 1.0 - 0.5
    dv = (v / period) % 1.0 - 0.5
    r = rng.uniform(0.22, 0.34)
    return np.clip((r - np.sqrt(du * du + dv * dv)) * period + 0.5, 0, 1).astype(np.float32)


def _vertices(cls, r, angle):
    """Polygon around (0, 0) with circumradius r: the detector's square, triangle, cross and star (the same class
    ids), or a regular hexagon (6)."""
    if cls != 6:
        return _shape_vertices(cls, r, angle)
    k = np.arange(6) * np.pi / 3
    pts = np.stack([np.cos(k), np.sin(k)], 1) * r
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]], np.float32)


def _object_sdf(rng, cls, px, py, r, angle):
    """Signed distance (pixels, negative inside) of the class's outline around the origin of px, py."""
    if cls in (0, 5) or cls >= 7:  # circle, ring, and the texture patches (an ellipse or a rounded rectangle)
        aspect = rng.uniform(0.7, 1.0)
        c, s = np.cos(angle), np.sin(angle)
        u, v = px * c + py * s, (-px * s + py * c) / aspect
        if cls >= 7 and rng.random() < 0.5:
            half = r * 0.75
            q = np.maximum(np.abs(u) - half, 0) ** 2 + np.maximum(np.abs(v) - half, 0) ** 2
            return np.sqrt(q) - 0.25 * r + np.minimum(np.maximum(np.abs(u), np.abs(v)) - half, 0)
        rho = np.sqrt(u * u + v * v)
        if cls == 5:
            inner = r * rng.uniform(0.45, 0.7)
            return (np.abs(rho - (r + inner) / 2) - (r - inner) / 2) * min(1.0, aspect + 0.25)
        return (rho - r) * min(1.0, aspect + 0.25)
    return _polygon_sdf(px, py, _vertices(cls, r, angle))


def _contrasting_colour(rng, under, min_diff):
    for _ in range(8):
        c = _random_colour(rng)
        if np.abs(c - under).sum() >= min_diff:
            return c
    return 1.0 - under


def generate_sample(seed, size=DEFAULT_SIZE):
    """One image: (uint8 [size,size,3] RGB, class id in 0..NUM_CLASSES-1)."""
    rng = np.random.default_rng(seed)
    cls = int(rng.integers(0, NUM_CLASSES))
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = _background(rng, size, yy, xx)
    extent = float(np.exp(rng.uniform(np.log(MIN_EXTENT), np.log(MAX_EXTENT)))) * size
    r = extent / 2
    # The centre may lie so that up to about a quarter of the object leaves the image.
    margin = min(0.55 * r, size / 2)
    cx, cy = rng.uniform(margin, size - margin), rng.uniform(margin, size - margin)
    angle = rng.uniform(0, 2 * np.pi)
    py, px = np.mgrid[0:size, 0:size].astype(np.float32)
    px, py = px + 0.5 - cx, py + 0.5 - cy
    alpha = np.clip(0.5 - _object_sdf(rng, cls, px, py, r, angle), 0, 1)
    mask = alpha > 0.5
    under = img[mask].mean(0) if mask.any() else img.mean((0, 1))
    # Mostly clear contrast, sometimes faint.
    base = _contrasting_colour(rng, under, 0.6 if rng.random() < 0.75 else 0.25)
    if cls >= 7:
        second = _contrasting_colour(rng, base, 0.5)
        s = _texture(rng, cls, size, yy, xx, extent)
        colour = base * (1 - s[..., None]) + second * s[..., None]
    else:
        a = rng.uniform(0, 2 * np.pi)
        shade = 1.0 + rng.uniform(0, 0.4) * (np.cos(a) * px + np.sin(a) * py) / extent
        colour = np.clip(base[None, None, :] * shade[..., None], 0, 1)
        if rng.random() < 0.25:  # a darker rim
            colour[(alpha > 0.02) & (alpha < 0.98)] *= 0.5
    img = img * (1 - alpha[..., None]) + colour * alpha[..., None]
    # Clutter: thin lines and small blobs, which may cross the object.
    for _ in range(int(rng.integers(0, 5))):
        c = _random_colour(rng)
        if rng.random() < 0.5:
            x0, y0, x1, y1 = rng.uniform(0, size, 4)
            ex, ey = x1 - x0, y1 - y0
            qx, qy = px + cx - x0, py + cy - y0
            t = np.clip((qx * ex + qy * ey) / (ex * ex + ey * ey + 1e-6), 0, 1)
            d = np.sqrt((qx - ex * t) ** 2 + (qy - ey * t) ** 2) - rng.uniform(0.5, 1.5)
        else:
            bx, by = rng.uniform(0, size, 2)
            d = np.sqrt((px + cx - bx) ** 2 + (py + cy - by) ** 2) - rng.uniform(1.5, 0.12 * size)
        a_ = np.clip(0.5 - d, 0, 1)[..., None]
        img = img * (1 - a_) + c * a_
    if rng.random() < 0.3:
        img = (img + np.roll(img, 1, 0) + np.roll(img, -1, 0) + np.roll(img, 1, 1) + np.roll(img, -1, 1)) / 5
    img = img + rng.normal(0, rng.uniform(0, 0.08), img.shape).astype(np.float32)
    return (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8), cls


def make_set(count, seed, size=DEFAULT_SIZE):
    """count samples from seed upwards: (images uint8 [N,S,S,3], labels int64 [N])."""
    items = [generate_sample(seed + i, size) for i in range(count)]
    return np.stack([it[0] for it in items]), np.array([it[1] for it in items], np.int64)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0, help="sample i uses seed + i")
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    lines = ["file,class_id,class_name"]
    for i in range(args.count):
        img, cls = generate_sample(args.seed + i, args.size)
        name = "sample_%05d_%s.png" % (i, CLASS_NAMES[cls])
        write_png(os.path.join(args.out, name), img)
        lines.append("%s,%d,%s" % (name, cls, CLASS_NAMES[cls]))
    with open(os.path.join(args.out, "labels.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d samples to %s" % (args.count, args.out))


if __name__ == "__main__":
    main()
