#!/usr/bin/env python3
"""Synthetic detection scenes: coloured shapes on varied backgrounds (numpy only).

generate_scene(seed) returns (image uint8 [H,W,3] RGB, boxes float32 [N,4] x1,y1,x2,y2 in pixels,
classes int64 [N]). The same seed always gives the same scene. Boxes are the tight box of the visible
pixels of each shape; a shape is placed only where it hides at most a bounded part of the shapes
already drawn, so every annotated object stays recognisable and every visible shape is annotated.

CLI: scenes.py --out DIR --count N [--seed S] [--size 160] [--draw]
writes DIR/scene_XXXXX.png, DIR/annotations.json and DIR/annotations.csv (and with --draw, preview
images with the boxes drawn) for inspection.
"""
import argparse
import json
import os
import struct
import zlib

import numpy as np

# Shapes the generator can draw; the class id of an object is its index in the class list a scene is
# generated for (CLASS_NAMES by default: all six, the default detector's classes).
SHAPES = ("circle", "square", "triangle", "cross", "star", "ring")
CLASS_NAMES = SHAPES
NUM_CLASSES = len(CLASS_NAMES)
DEFAULT_SIZE = 160
# Disjoint seed ranges: training draws scenes from TRAIN_SEED upwards, the per-epoch validation, the
# held-out test set (evaluate.py) and the scenes of the tests / reference batch (CHECK_SEED) from their own.
TEST_SEED = 500_000
VAL_SEED = 600_000
CHECK_SEED = 700_000
TRAIN_SEED = 1_000_000
# Object extent (circumscribed diameter) is log-uniform in [MIN_OBJECT, MAX_OBJECT_FRACTION * size] pixels.
MIN_OBJECT = 12.0
MAX_OBJECT_FRACTION = 0.5
# An object must keep this fraction of its pixels visible, else the placement of the occluder is retried.
MIN_VISIBLE = 0.6


def _hsv_to_rgb(h, s, v):
    i = int(h * 6.0) % 6
    f = h * 6.0 - int(h * 6.0)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    return np.array([(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i], np.float32)


def _random_colour(rng):
    if rng.random() < 0.15:
        g = rng.uniform(0.05, 0.95)
        return np.array([g, g, g], np.float32)
    return _hsv_to_rgb(rng.random(), rng.uniform(0.3, 1.0), rng.uniform(0.25, 1.0))


def linear_gradient(rng, c0, c1, yy, xx):
    """c0 to c1 along a random direction; yy, xx are the pixel grid divided by the size."""
    a = rng.uniform(0, 2 * np.pi)
    t = xx * np.cos(a) + yy * np.sin(a)
    t = (t - t.min()) / (t.max() - t.min() + 1e-6)
    return c0 * (1 - t[..., None]) + c1 * t[..., None]


def smooth_field(rng, cells, size):
    """Smooth random colours: a (cells + 1)^2 grid of random RGB values upsampled bilinearly to size x size."""
    field = rng.random((cells + 1, cells + 1, 3)).astype(np.float32)
    g = np.linspace(0, cells, size, dtype=np.float32)
    i0 = np.minimum(g.astype(np.int32), cells - 1)
    f = (g - i0)[:, None, None]
    rows = field[i0] * (1 - f) + field[i0 + 1] * f
    fx = (g - i0)[None, :, None]
    return rows[:, i0] * (1 - fx) + rows[:, i0 + 1] * fx


def _background(rng, size):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    c0, c1 = _random_colour(rng), _random_colour(rng)
    kind = rng.integers(0, 6)
    if kind == 0:  # solid
        img = np.broadcast_to(c0, (size, size, 3)).copy()
    elif kind == 1:
        img = linear_gradient(rng, c0, c1, yy, xx)
    elif kind == 2:
        img = 0.5 * smooth_field(rng, int(rng.integers(2, 9)), size) + 0.5 * c0
    elif kind == 3:  # stripes
        a = rng.uniform(0, np.pi)
        period = rng.uniform(6, 40) / size
        t = xx * np.cos(a) + yy * np.sin(a)
        s = 0.5 + 0.5 * np.sin(2 * np.pi * t / period)
        if rng.random() < 0.5:
            s = (s > 0.5).astype(np.float32)
        img = c0 * (1 - s[..., None]) + c1 * s[..., None]
    elif kind == 4:  # rotated checker
        a = rng.uniform(0, np.pi / 2)
        period = rng.uniform(8, 48) / size
        u = xx * np.cos(a) + yy * np.sin(a)
        v = -xx * np.sin(a) + yy * np.cos(a)
        s = ((np.floor(u / period) + np.floor(v / period)) % 2).astype(np.float32)
        img = c0 * (1 - s[..., None]) + c1 * s[..., None]
    else:  # coloured noise
        img = c0 + rng.normal(0, rng.uniform(0.05, 0.25), (size, size, 3)).astype(np.float32)
    return np.clip(img, 0, 1).astype(np.float32)


def _polygon_sdf(px, py, verts):
    """Signed distance (negative inside) to a closed polygon, even-odd inside test."""
    d = np.full(px.shape, np.inf, np.float32)
    inside = np.zeros(px.shape, bool)
    n = len(verts)
    for i in range(n):
        ax, ay = verts[i]
        bx, by = verts[(i + 1) % n]
        ex, ey = bx - ax, by - ay
        wx, wy = px - ax, py - ay
        t = np.clip((wx * ex + wy * ey) / (ex * ex + ey * ey + 1e-12), 0, 1)
        dx, dy = wx - ex * t, wy - ey * t
        d = np.minimum(d, np.sqrt(dx * dx + dy * dy))
        crosses = ((ay > py) != (by > py)) & (px < ax + (py - ay) * ex / (ey + 1e-12))
        inside ^= crosses
    return np.where(inside, -d, d)


def _shape_vertices(cls, r, angle):
    """Vertices around (0,0) for polygon classes with circumradius r."""
    if cls == 1:  # square
        k = np.arange(4) * np.pi / 2 + np.pi / 4
        pts = np.stack([np.cos(k), np.sin(k)], 1) * r
    elif cls == 2:  # equilateral triangle
        k = np.arange(3) * 2 * np.pi / 3 - np.pi / 2
        pts = np.stack([np.cos(k), np.sin(k)], 1) * r
    elif cls == 3:  # plus-shaped cross, arm half-width 0.3 r
        w = 0.3 * r
        pts = np.array([(w, -r), (w, -w), (r, -w), (r, w), (w, w), (w, r), (-w, r), (-w, w), (-r, w), (-r, -w),
                        (-w, -w), (-w, -r)], np.float32)
    else:  # five-point star
        k = np.arange(10) * np.pi / 5 - np.pi / 2
        rad = np.where(np.arange(10) % 2 == 0, r, 0.42 * r)
        pts = np.stack([np.cos(k) * rad, np.sin(k) * rad], 1)
    c, s = np.cos(angle), np.sin(angle)
    return pts @ np.array([[c, s], [-s, c]], np.float32)


def _render_shape(rng, cls, size):
    """Coverage (alpha) of one shape (an index into SHAPES) in the full image, or None if it fell outside."""
    extent = float(np.exp(rng.uniform(np.log(MIN_OBJECT), np.log(MAX_OBJECT_FRACTION * size))))
    r = extent / 2
    # Centres may lie near the border so that truncated objects occur too, but never more than about
    # a third of an object is cut off (a half circle would be hard to tell from other classes).
    cx = rng.uniform(0.25 * r, size - 0.25 * r)
    cy = rng.uniform(0.25 * r, size - 0.25 * r)
    angle = rng.uniform(0, 2 * np.pi)
    aspect = rng.uniform(0.75, 1.0) if cls in (0, 5) else 1.0
    x0, x1 = int(max(0, np.floor(cx - r - 2))), int(min(size, np.ceil(cx + r + 2)))
    y0, y1 = int(max(0, np.floor(cy - r - 2))), int(min(size, np.ceil(cy + r + 2)))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    py, px = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    px, py = px + 0.5 - cx, py + 0.5 - cy
    if cls in (0, 5):  # circle / ring, possibly elliptical and rotated
        c, s = np.cos(angle), np.sin(angle)
        u, v = px * c + py * s, (-px * s + py * c) / aspect
        rho = np.sqrt(u * u + v * v)
        if cls == 0:
            sdf = rho - r
        else:
            inner = r * rng.uniform(0.45, 0.7)
            sdf = np.abs(rho - (r + inner) / 2) - (r - inner) / 2
        sdf = sdf * min(1.0, aspect + 0.25)
    else:
        sdf = _polygon_sdf(px, py, _shape_vertices(cls, r, angle))
    alpha = np.zeros((size, size), np.float32)
    alpha[y0:y1, x0:x1] = np.clip(0.5 - sdf, 0, 1)
    return alpha


def _box_of(mask):
    ys = np.nonzero(mask.any(1))[0]
    xs = np.nonzero(mask.any(0))[0]
    if len(xs) == 0:
        return None
    return np.array([xs[0], ys[0], xs[-1] + 1, ys[-1] + 1], np.float32)


def generate_scene(seed, size=DEFAULT_SIZE, max_objects=8, class_names=CLASS_NAMES):
    """One scene: (image uint8 [size,size,3], boxes float32 [N,4] x1y1x2y2, classes int64 [N]).

    Class ids index class_names (names from SHAPES)."""
    shape_ids = [SHAPES.index(n) for n in class_names]
    rng = np.random.default_rng(seed)
    img = _background(rng, size)
    visible = []  # per object: bool mask of its visible pixels
    areas = []
    classes = []
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    target = int(rng.integers(1, max_objects + 1))
    attempts = 0
    while len(classes) < target and attempts < target * 6:
        attempts += 1
        cls = int(rng.integers(0, len(shape_ids)))
        alpha = _render_shape(rng, shape_ids[cls], size)
        if alpha is None:
            continue
        mask = alpha > 0.5
        area = int(mask.sum())
        if area < 40:
            continue
        # Keep every earlier object recognisable: reject occluders that hide too much of one.
        if any(((v & ~mask).sum() < MIN_VISIBLE * a) for v, a in zip(visible, areas)):
            continue
        box = _box_of(mask)
        if box is None or min(box[2] - box[0], box[3] - box[1]) < 6:
            continue
        base = _random_colour(rng)
        patch = img[mask].mean(0)
        if np.abs(base - patch).sum() < 0.45:  # too little contrast against what lies beneath
            continue
        # Shading: a mild linear gradient across the object, sometimes a darker rim.
        a = rng.uniform(0, 2 * np.pi)
        shade = 1.0 + rng.uniform(0, 0.35) * (np.cos(a) * (xx - box[0]) + np.sin(a) * (yy - box[1])) / (
            max(box[2] - box[0], box[3] - box[1]) + 1) - 0.15
        colour = np.clip(base[None, None, :] * shade[..., None], 0, 1)
        if rng.random() < 0.3:
            rim = (alpha > 0.02) & (alpha < 0.98)
            colour[rim] *= 0.5
        img = img * (1 - alpha[..., None]) + colour * alpha[..., None]
        visible = [v & ~mask for v in visible]
        visible.append(mask)
        areas = [a_ for a_ in areas] + [area]
        classes.append(cls)
    boxes = []
    keep = []
    for i, v in enumerate(visible):
        b = _box_of(v)
        if b is not None:
            boxes.append(b)
            keep.append(classes[i])
    # Sensor-like finish: optional blur, then noise.
    if rng.random() < 0.3:
        img = (img + np.roll(img, 1, 0) + np.roll(img, -1, 0) + np.roll(img, 1, 1) + np.roll(img, -1, 1)) / 5
    img = img + rng.normal(0, rng.uniform(0, 0.04), img.shape).astype(np.float32)
    img = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
    boxes = np.array(boxes, np.float32).reshape(-1, 4)
    return img, boxes, np.array(keep, np.int64)


def write_png(path, img):
    """Minimal RGB8 PNG writer so the generator needs nothing beyond numpy."""
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[y].tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)))
        f.write(chunk(b"IDAT", zlib.compress(raw, 6)))
        f.write(chunk(b"IEND", b""))


def draw_boxes(img, boxes, classes):
    palette = np.array([(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (255, 0, 255), (0, 255, 255)], np.uint8)
    out = img.copy()
    h, w, _ = img.shape
    for b, c in zip(boxes.astype(int), classes):
        x1, y1, x2, y2 = np.clip(b[0], 0, w - 1), np.clip(b[1], 0, h - 1), np.clip(b[2] - 1, 0, w - 1), np.clip(
            b[3] - 1, 0, h - 1)
        col = palette[c % len(palette)]
        out[y1, x1:x2 + 1] = col
        out[y2, x1:x2 + 1] = col
        out[y1:y2 + 1, x1] = col
        out[y1:y2 + 1, x2] = col
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0, help="scene i uses seed + i")
    ap.add_argument("--size", type=int, default=DEFAULT_SIZE)
    ap.add_argument("--draw", action="store_true", help="also write previews with the boxes drawn")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    records = []
    csv_lines = ["file,x1,y1,x2,y2,class_id,class_name"]
    for i in range(args.count):
        img, boxes, classes = generate_scene(args.seed + i, args.size)
        name = "scene_%05d.png" % i
        write_png(os.path.join(args.out, name), img)
        if args.draw:
            write_png(os.path.join(args.out, "boxes_%05d.png" % i), draw_boxes(img, boxes, classes))
        objs = []
        for b, c in zip(boxes.tolist(), classes.tolist()):
            objs.append({"box": b, "class_id": c, "class_name": CLASS_NAMES[c]})
            csv_lines.append("%s,%g,%g,%g,%g,%d,%s" % (name, *b, c, CLASS_NAMES[c]))
        records.append({"file": name, "seed": args.seed + i, "width": args.size, "height": args.size,
                        "objects": objs})
    with open(os.path.join(args.out, "annotations.json"), "w") as f:
        json.dump({"classes": list(CLASS_NAMES), "images": records}, f, indent=1)
    with open(os.path.join(args.out, "annotations.csv"), "w") as f:
        f.write("\n".join(csv_lines) + "\n")
    print("wrote %d scenes to %s" % (args.count, args.out))


if __name__ == "__main__":
    main()
