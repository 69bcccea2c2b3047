#!/usr/bin/env python3
"""Generated detector scenes as a raw video file, with their ground truth, for pipeline demos and tests.

Each frame is one scene of scripts/detector/scenes.py (the default detector's training distribution), drawn at
the model's 160 x 160 and stretched to --width x --height by nearest-neighbour sampling. With integer scale
factors (640 x 480 is 4 x 3) a bilinear resize back to 160 x 160 with pixel centres, as the pipeline's
pre-processing does, gives back the scene exactly, so the pipeline sees what the detector was evaluated on.
(generate_scene could draw at a larger size, but its object sizes are partly absolute pixels, 12 px at the
least, so the scenes would no longer match the training distribution.)

Default seeds: the held-out test set of scripts/detector/evaluate.py (from scenes.TEST_SEED, disjoint from the
training, validation and test-suite seeds), whose mAP is recorded in models/detector/README.md.

Outputs:
  --out FILE      the frames back to back, each in GStreamer's default layout for the format (what
                  rawvideoparse expects without plane-strides: rows padded to 4 bytes, planes in order). RGB is
                  packed R, G, B; NV12 and I420 are BT.709 limited range (Y 16..235, UV 16..240, chroma the
                  mean of each 2 x 2 block), the conversion pipelines/preprocess inverts.
  --gt FILE       one JSON line per frame: {"frame":i,"seed":s,"width":W,"height":H,
                  "objects":[{"class_id":c,"label":name,"box":[x1,y1,x2,y2]}]}, boxes in frame pixels (tight
                  boxes of the visible pixels, edges, not centres). Default: the --out path with .gt.jsonl.
  --png-dir DIR   optionally, each frame (RGB, before any YUV conversion) as DIR/frame_XXXXX.png.
The last line on stdout is the rawvideoparse description to read the file with.

Example:
  render_scenes.py --out scenes.nv12 --format NV12 --count 64
  gst-launch-1.0 filesrc location=scenes.nv12 ! rawvideoparse format=nv12 width=640 height=480 \\
      framerate=30/1 colorimetry=bt709 ! rtinfer config=model.yml ! rtmetasink location=meta.jsonl
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.normpath(os.path.join(HERE, "..", "detector")))
import scenes  # noqa: E402

FORMATS = ("RGB", "NV12", "I420")
SCENE_SIZE = scenes.DEFAULT_SIZE
DEFAULT_SEED = scenes.TEST_SEED
# BT.709 luma coefficients.
KR, KB = 0.2126, 0.0722


def _round_up(value, multiple):
    return (value + multiple - 1) // multiple * multiple


def frame_layout(fmt, width, height):
    """GStreamer's default layout (GstVideoInfo without alignment) of one frame: (plane strides, plane
    offsets, frame size in bytes). Raises ValueError for an unknown format or a size the format cannot take."""
    if fmt not in FORMATS:
        raise ValueError("unknown format %r (one of %s)" % (fmt, ", ".join(FORMATS)))
    if width <= 0 or height <= 0:
        raise ValueError("frame size %dx%d: width and height must be positive" % (width, height))
    if fmt == "RGB":
        stride = _round_up(3 * width, 4)
        return [stride], [0], stride * height
    if width % 2 or height % 2:
        raise ValueError("%s frame %dx%d: width and height must be even (2 x 2 chroma subsampling)"
                         % (fmt, width, height))
    y_stride = _round_up(width, 4)
    if fmt == "NV12":
        return [y_stride, y_stride], [0, y_stride * height], y_stride * height + y_stride * (height // 2)
    c_stride = _round_up(width // 2, 4)
    u_offset = y_stride * height
    v_offset = u_offset + c_stride * (height // 2)
    return [y_stride, c_stride, c_stride], [0, u_offset, v_offset], v_offset + c_stride * (height // 2)


def resize_nearest(img, width, height):
    """uint8 [h,w,C] -> [height,width,C]: each output pixel takes the input pixel under its centre."""
    h, w = img.shape[:2]
    ys = ((np.arange(height) + 0.5) * h / height).astype(np.int64).clip(0, h - 1)
    xs = ((np.arange(width) + 0.5) * w / width).astype(np.int64).clip(0, w - 1)
    return img[ys[:, None], xs[None, :]]


def rgb_to_yuv709(rgb):
    """uint8 RGB [H,W,3] (even H, W) -> (Y [H,W], U [H/2,W/2], V [H/2,W/2]) uint8, BT.709 limited range."""
    f = rgb.astype(np.float64) / 255.0
    h, w = rgb.shape[:2]
    y = KR * f[..., 0] + (1 - KR - KB) * f[..., 1] + KB * f[..., 2]
    # Chroma of the mean colour of each 2 x 2 block (the conversion is linear, so this is the mean chroma).
    m = f.reshape(h // 2, 2, w // 2, 2, 3).mean((1, 3))
    ym = KR * m[..., 0] + (1 - KR - KB) * m[..., 1] + KB * m[..., 2]
    u = (m[..., 2] - ym) / (2 * (1 - KB))
    v = (m[..., 0] - ym) / (2 * (1 - KR))

    def q(x):
        return np.clip(np.rint(x), 0, 255).astype(np.uint8)

    return q(16 + 219 * y), q(128 + 224 * u), q(128 + 224 * v)


def pack_frame(rgb, fmt):
    """One uint8 RGB frame [H,W,3] as the bytes of a frame in fmt, laid out as frame_layout says."""
    height, width = rgb.shape[:2]
    strides, offsets, size = frame_layout(fmt, width, height)
    out = np.zeros(size, np.uint8)

    def put(plane, data):
        rows, row_bytes = data.shape[0], data.shape[1] * (data.shape[2] if data.ndim == 3 else 1)
        view = out[offsets[plane]:offsets[plane] + strides[plane] * rows].reshape(rows, strides[plane])
        view[:, :row_bytes] = data.reshape(rows, row_bytes)

    if fmt == "RGB":
        put(0, rgb)
        return out
    y, u, v = rgb_to_yuv709(rgb)
    put(0, y)
    if fmt == "NV12":
        put(1, np.stack((u, v), -1))
    else:
        put(1, u)
        put(2, v)
    return out


def scene_frame(seed, width, height):
    """(RGB frame [height,width,3], boxes [N,4] in frame pixels, class ids [N]) for one generated scene."""
    img, boxes, classes = scenes.generate_scene(seed, SCENE_SIZE)
    scale = np.array([width, height, width, height], np.float64) / SCENE_SIZE
    return resize_nearest(img, width, height), boxes.astype(np.float64) * scale, classes


def gt_record(frame, seed, width, height, boxes, classes):
    objects = [{"class_id": int(c), "label": scenes.CLASS_NAMES[c], "box": [round(float(v), 4) for v in b]}
               for b, c in zip(boxes, classes)]
    return {"frame": frame, "seed": seed, "width": width, "height": height, "objects": objects}


def parse_framerate(text):
    parts = text.split("/")
    try:
        num, den = int(parts[0]), int(parts[1]) if len(parts) == 2 else 1
    except (ValueError, IndexError):
        num = den = 0
    if len(parts) > 2 or num <= 0 or den <= 0:
        raise argparse.ArgumentTypeError("framerate %r: expected N or N/D with positive integers" % text)
    return "%d/%d" % (num, den)


def positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not an integer" % text)
    if value <= 0:
        raise argparse.ArgumentTypeError("%d must be positive" % value)
    return value


def caps_description(fmt, width, height, framerate):
    desc = "rawvideoparse format=%s width=%d height=%d framerate=%s" % (fmt.lower(), width, height, framerate)
    # GStreamer guesses BT.601 for YUV frames below 720 lines; the file is BT.709, so say so.
    return desc + (" colorimetry=bt709" if fmt != "RGB" else "")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="raw video file to write")
    ap.add_argument("--gt", help="ground-truth JSON lines to write (default: OUT with the extension .gt.jsonl)")
    ap.add_argument("--count", type=positive_int, default=16, help="scenes (default 16)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED,
                    help="scene i uses seed + i (default %d: the detector's held-out test set)" % DEFAULT_SEED)
    ap.add_argument("--hold", type=positive_int, default=1,
                    help="frames each scene is shown for (default 1; e.g. 30 for a one-second-per-scene demo)")
    ap.add_argument("--format", type=str.upper, choices=FORMATS, default="RGB", help="pixel format (default RGB)")
    ap.add_argument("--width", type=positive_int, default=640)
    ap.add_argument("--height", type=positive_int, default=480)
    ap.add_argument("--framerate", type=parse_framerate, default="30/1", help="for the printed caps (default 30/1)")
    ap.add_argument("--png-dir", help="also write each frame as DIR/frame_XXXXX.png")
    args = ap.parse_args(argv)
    try:
        _, _, frame_bytes = frame_layout(args.format, args.width, args.height)
    except ValueError as e:
        ap.error(str(e))
    gt_path = args.gt or os.path.splitext(args.out)[0] + ".gt.jsonl"
    if os.path.abspath(gt_path) == os.path.abspath(args.out):
        ap.error("--gt and --out name the same file %s" % args.out)
    if args.png_dir:
        os.makedirs(args.png_dir, exist_ok=True)
    frames = args.count * args.hold
    objects = 0
    try:
        with open(args.out, "wb") as video, open(gt_path, "w") as gt:
            for i in range(args.count):
                seed = args.seed + i
                rgb, boxes, classes = scene_frame(seed, args.width, args.height)
                packed = pack_frame(rgb, args.format).tobytes()
                for k in range(args.hold):
                    frame = i * args.hold + k
                    video.write(packed)
                    gt.write(json.dumps(gt_record(frame, seed, args.width, args.height, boxes, classes),
                                        separators=(",", ":")) + "\n")
                    if args.png_dir:
                        scenes.write_png(os.path.join(args.png_dir, "frame_%05d.png" % frame), rgb)
                objects += len(classes) * args.hold
    except OSError as e:
        print("render_scenes.py: cannot write %s: %s" % (e.filename, e.strerror), file=sys.stderr)
        return 1
    print("wrote %d frames (%d scenes from seed %d, %dx%d %s, %d bytes a frame) to %s" % (
        frames, args.count, args.seed, args.width, args.height, args.format, frame_bytes, args.out))
    print("ground truth: %d objects in %s" % (objects, gt_path))
    print(caps_description(args.format, args.width, args.height, args.framerate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
