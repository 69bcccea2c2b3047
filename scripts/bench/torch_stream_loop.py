#!/usr/bin/env python3
"""PyTorch baseline of the multi-stream benchmark: N camera streams through the default detector on one GPU.

For each --streams count N, a loop processes one batch of N frames (one per stream) at a time, all on the
device: upload the raw frames (from pinned host memory), colour conversion (NV12 -> RGB, BT.709 limited range
as pipelines/preprocess converts; none for RGB), bilinear resize to 160 x 160 (F.interpolate, half-pixel
centres, the pipeline's stretch), / 255, the detector in FP16 with channels-last tensors, the box decode, score
threshold --conf (0.25) and class-aware NMS --iou (0.45; torchvision.ops.batched_nms where torchvision is
installed, else a greedy NMS on the host), at most --max-det per frame, boxes scaled to frame pixels, and the
download of the detections. It reports, per N, one JSON line on stdout: frames/s over all streams, the per-batch
latency p50 / p99 (one batch = the frames of all N streams, from upload to detections on the host), and the
peak device memory (torch.cuda.max_memory_allocated, model included).

Frames: --distinct generated scenes (scripts/detector/scenes.py, the detector's held-out test seeds) stretched
to --width x --height (1920 x 1080), made once; stream s shows scene s mod --distinct. A check on the first
batch of each point (recall of the scenes' objects at IoU 0.5, --min-recall) makes sure the loop detects what
is there, so a wrong colour conversion cannot pass for a fast one.

The detector: scripts/detector/model.py (BatchNorm folded) with the weights of models/detector/detector.onnx,
read from its initializers by name (a small protobuf reader: no onnx package needed). Before any timing, the
model runs on the CPU in FP32 on models/detector/reference/input_u8.npy and its boxes and scores must equal
the ONNX reference outputs (boxes.npy, scores.npy) within 1e-4 (relative for values above 1: boxes reach 400
px), or the program stops.

On the CPU (--device cpu: a smoke run) the model and pre-processing run in FP32 (PyTorch's CPU convolutions
have no FP16) and memory is not measured.

    torch_stream_loop.py [--streams 1,4,16,64] [--seconds 10] [--format NV12|RGB] [--device cuda]
    torch_stream_loop.py --device cpu --seconds 2 --streams 1,2        # smoke run without a GPU
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "scripts", "detector"))
sys.path.insert(0, os.path.join(ROOT, "scripts", "pipeline"))
import render_scenes  # noqa: E402
from model import REG_MAX, Detector  # noqa: E402

try:
    from torchvision.ops import batched_nms as _tv_batched_nms
except ImportError:
    _tv_batched_nms = None

DEFAULT_ONNX = os.path.join(ROOT, "models", "detector", "detector.onnx")
DEFAULT_REFERENCE = os.path.join(ROOT, "models", "detector", "reference")
# ONNX TensorProto data types this reader takes.
ONNX_FLOAT, ONNX_INT64 = 1, 7


class BenchError(Exception):
    """What stops the benchmark (no CUDA, a model that does not load or does not match); the message says why."""


# --- ONNX initializers without the onnx package ---------------------------------------------------------------

def _varint(buf, pos):
    value, shift = 0, 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7


def _fields(buf):
    """(field number, wire type, value) of a protobuf message; length-delimited values as memoryview slices."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d (field %d)" % (wire, field))
        if pos > len(buf):
            raise ValueError("truncated message (field %d)" % field)
        yield field, wire, value


def _tensor(buf):
    """A TensorProto as (name, numpy array)."""
    name, dims, dtype, raw, floats = "", [], 0, None, []
    for field, wire, value in _fields(buf):
        if field == 1:  # dims: packed or not
            if wire == 2:
                pos = 0
                while pos < len(value):
                    d, pos = _varint(value, pos)
                    dims.append(d)
            else:
                dims.append(value)
        elif field == 2:
            dtype = value
        elif field == 4:  # float_data: packed or not
            floats.extend(struct.unpack("<%df" % (len(value) // 4), value) if wire == 2 else
                          struct.unpack("<f", value))
        elif field == 8:
            name = bytes(value).decode()
        elif field == 9:
            raw = bytes(value)
        elif field == 14 and value == 1:
            raise ValueError("initializer %s keeps its data in an external file" % bytes(name.encode()))
    if dtype not in (ONNX_FLOAT, ONNX_INT64):
        raise ValueError("initializer %s has ONNX data type %d (float32 or int64 expected)" % (name, dtype))
    np_type = np.float32 if dtype == ONNX_FLOAT else np.int64
    data = np.frombuffer(raw, np_type) if raw is not None else np.array(floats, np_type)
    count = int(np.prod(dims)) if dims else 1
    if data.size != count:
        raise ValueError("initializer %s: %d values for dims %s" % (name, data.size, dims))
    return name, data.reshape(dims).copy()


def read_onnx(path):
    """(initializers {name: array}, metadata_props {key: value}) of an ONNX model file."""
    try:
        with open(path, "rb") as f:
            buf = memoryview(f.read())
    except OSError as e:
        raise BenchError("cannot read %s: %s" % (path, e.strerror))
    inits, meta = {}, {}
    try:
        for field, _, value in _fields(buf):
            if field == 7:  # graph
                for gfield, _, gvalue in _fields(value):
                    if gfield == 5:  # initializer
                        name, array = _tensor(gvalue)
                        inits[name] = array
            elif field == 14:  # metadata_props
                entry = {f: bytes(v).decode() for f, _, v in _fields(value)}
                meta[entry.get(1, "")] = entry.get(2, "")
    except (ValueError, UnicodeDecodeError) as e:
        raise BenchError("%s is not a readable ONNX model: %s" % (path, e))
    return inits, meta


def load_detector(onnx_path):
    """The fused Detector with the ONNX model's weights, FP32 on the CPU, and its class names."""
    inits, meta = read_onnx(onnx_path)
    try:
        names = json.loads(meta["class_names"])
        size = json.loads(meta["input_size"])[0]
        model = Detector(len(names), tuple(json.loads(meta["widths"])), int(meta["head_width"]), size).fuse()
    except (KeyError, ValueError, TypeError) as e:
        raise BenchError("%s: metadata_props do not describe the default detector (%r)" % (onnx_path, e))
    state = model.state_dict()
    weights = {k[len("model."):]: v for k, v in inits.items() if k.startswith("model.")}
    missing = sorted(set(state) - set(weights))
    extra = sorted(set(weights) - set(state))
    if missing or extra:
        raise BenchError("%s does not fit scripts/detector/model.py: missing %s, unexpected %s" %
                         (onnx_path, missing[:5], extra[:5]))
    for k, v in weights.items():
        if tuple(state[k].shape) != v.shape:
            raise BenchError("%s: %s is %s, the model's is %s" % (onnx_path, k, v.shape, tuple(state[k].shape)))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()})
    return model.eval(), names


def decode(head, anchor_points, anchor_strides, num_classes):
    """Raw head [B, 4*REG_MAX + C, A] -> boxes [B, A, 4] (x1y1x2y2, input pixels), scores [B, A, C], computed as
    detector.onnx's graph does (export.py: the DFL expectation as a MatMul), so that FP32 results match it."""
    a = head.shape[2]
    dist, cls = head.split((4 * REG_MAX, num_classes), 1)
    dist = dist.reshape(-1, 4, REG_MAX, a).permute(0, 3, 1, 2).softmax(-1)
    proj = torch.arange(REG_MAX, dtype=head.dtype, device=head.device).view(REG_MAX, 1)
    ltrb = torch.matmul(dist, proj).reshape(-1, a, 4) * anchor_strides.view(1, a, 1)
    points = anchor_points.view(1, a, 2)
    boxes = torch.cat((points - ltrb[..., :2], points + ltrb[..., 2:]), -1)
    return boxes, cls.permute(0, 2, 1).sigmoid()


@torch.no_grad()
def verify_against_reference(model, reference_dir, tol=1e-4):
    """FP32 CPU outputs on the reference batch against the ONNX model's (|diff| <= tol * max(1, |reference|):
    boxes reach a few hundred pixels); returns the largest absolute differences."""
    try:
        x = np.load(os.path.join(reference_dir, "input_u8.npy"))
        want_boxes = np.load(os.path.join(reference_dir, "boxes.npy"))
        want_scores = np.load(os.path.join(reference_dir, "scores.npy"))
    except OSError as e:
        raise BenchError("cannot read the reference outputs in %s: %s" % (reference_dir, e))
    anc, strides = model.anchors()
    boxes, scores = decode(model(torch.from_numpy(x).float() / 255.0), anc, strides, model.num_classes)
    if boxes.shape != want_boxes.shape or scores.shape != want_scores.shape:
        raise BenchError("reference shapes: model gives boxes %s scores %s, reference has %s %s" %
                         (tuple(boxes.shape), tuple(scores.shape), want_boxes.shape, want_scores.shape))
    d_boxes = float(np.abs(boxes.numpy() - want_boxes).max())
    d_scores = float(np.abs(scores.numpy() - want_scores).max())
    ok_boxes = np.all(np.abs(boxes.numpy() - want_boxes) <= tol * np.maximum(1.0, np.abs(want_boxes)))
    ok_scores = np.all(np.abs(scores.numpy() - want_scores) <= tol * np.maximum(1.0, np.abs(want_scores)))
    if not (ok_boxes and ok_scores):
        raise BenchError("the PyTorch model does not reproduce %s: max |diff| boxes %.3g px, scores %.3g (allowed "
                         "%g, relative above 1); the weights were not mapped right" % (reference_dir, d_boxes, d_scores,
                                                                                       tol))
    return d_boxes, d_scores


# --- the loop --------------------------------------------------------------------------------------------------

def host_nms(boxes, scores, idxs, iou):
    """Greedy class-aware NMS on the host (when torchvision is missing); indices sorted by decreasing score."""
    b, s, c = boxes.cpu().numpy(), scores.cpu().numpy(), idxs.cpu().numpy()
    order = np.argsort(-s, kind="stable")
    keep = []
    suppressed = np.zeros(len(order), bool)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    for n, i in enumerate(order):
        if suppressed[n]:
            continue
        keep.append(i)
        rest = order[n + 1:]
        lt = np.maximum(b[i, :2], b[rest, :2])
        rb = np.minimum(b[i, 2:], b[rest, 2:])
        inter = np.clip(rb - lt, 0, None).prod(-1)
        overlap = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        suppressed[n + 1:] |= (overlap > iou) & (c[rest] == c[i])
    return torch.as_tensor(np.array(keep, np.int64), device=boxes.device)


class StreamLoop:
    """Pre-processing, detector and post-processing of one batch of raw frames, on one device."""

    def __init__(self, model, fmt, width, height, device, model_dtype, prep_dtype, conf, iou, max_det):
        self.fmt, self.width, self.height, self.device = fmt, width, height, device
        self.model = model.to(device=device, dtype=model_dtype).to(memory_format=torch.channels_last)
        self.model_dtype, self.prep_dtype = model_dtype, prep_dtype
        self.size = model.input_size
        self.anchors = tuple(t.to(device) for t in model.anchors(device=None))
        self.conf, self.iou, self.max_det = conf, iou, max_det
        self.num_classes = model.num_classes
        self.scale = torch.tensor([width, height, width, height], dtype=torch.float32, device=device) / self.size
        kr, kb = render_scenes.KR, render_scenes.KB
        self.yuv = (255.0 / 219.0, 255.0 / 224.0, kr, kb, 1.0 - kr - kb)

    def to_rgb(self, frames):
        """uint8 [N, frame bytes] on the device -> RGB [N, 3, H, W] in prep_dtype, 0..255."""
        n, h, w = frames.shape[0], self.height, self.width
        if self.fmt == "RGB":
            return frames.view(n, h, w, 3).permute(0, 3, 1, 2).to(self.prep_dtype)
        ys, cs, kr, kb, kg = self.yuv
        y = (frames[:, :h * w].view(n, 1, h, w).to(self.prep_dtype) - 16.0) * ys
        uv = frames[:, h * w:].view(n, h // 2, w // 2, 2).permute(0, 3, 1, 2).to(self.prep_dtype)
        uv = F.interpolate((uv - 128.0) * cs, scale_factor=2, mode="nearest")
        u, v = uv[:, :1], uv[:, 1:]
        r = y + (2.0 * (1.0 - kr)) * v
        b = y + (2.0 * (1.0 - kb)) * u
        g = (y - kr * r - kb * b) / kg
        return torch.cat((r, g, b), 1).clamp_(0.0, 255.0)

    @torch.no_grad()
    def __call__(self, frames):
        """Device frames [N, frame bytes] -> detections [K, 7] on the device: frame index, class, score, x1 y1 x2 y2
        in frame pixels, sorted by frame, then decreasing score."""
        n = frames.shape[0]
        x = F.interpolate(self.to_rgb(frames), size=(self.size, self.size), mode="bilinear", align_corners=False)
        x = (x * (1.0 / 255.0)).to(self.model_dtype).contiguous(memory_format=torch.channels_last)
        boxes, scores = decode(self.model(x).float(), *self.anchors, self.num_classes)
        img, anchor, cls = torch.nonzero(scores > self.conf, as_tuple=True)
        cand_boxes = boxes[img, anchor]
        cand_scores = scores[img, anchor, cls]
        groups = img * self.num_classes + cls
        if _tv_batched_nms is not None:
            keep = _tv_batched_nms(cand_boxes, cand_scores, groups, self.iou)
        else:
            keep = host_nms(cand_boxes, cand_scores, groups, self.iou)
        # At most max_det per frame: rank each kept detection within its frame (keep is sorted by score).
        img_k, order = torch.sort(img[keep], stable=True)
        keep = keep[order]
        counts = torch.bincount(img_k, minlength=n)
        starts = torch.cumsum(counts, 0) - counts
        keep = keep[torch.arange(keep.numel(), device=keep.device) - starts[img_k] < self.max_det]
        return torch.cat((img[keep, None].float(), cls[keep, None].float(), cand_scores[keep, None],
                          cand_boxes[keep] * self.scale), 1)


def make_frames(fmt, width, height, distinct, seed):
    """distinct packed frames (uint8 [distinct, frame bytes]) and their ground truth [(boxes, classes)]."""
    frames, truth = [], []
    for k in range(distinct):
        rgb, boxes, classes = render_scenes.scene_frame(seed + k, width, height)
        frames.append(render_scenes.pack_frame(rgb, fmt))
        truth.append((boxes, classes))
    return np.stack(frames), truth


def recall_of(dets, truth, frame_of_stream, iou_thr=0.5):
    """Fraction of the ground-truth objects of a batch found (same class, IoU >= iou_thr) by its detections."""
    found = total = 0
    for s, k in enumerate(frame_of_stream):
        boxes, classes = truth[k]
        d = dets[dets[:, 0] == s]
        used = np.zeros(len(d), bool)
        for b, c in zip(boxes, classes):
            total += 1
            m = (d[:, 1] == c) & ~used
            if not m.any():
                continue
            lt = np.maximum(d[:, 3:5], b[:2])
            rb = np.minimum(d[:, 5:7], b[2:])
            inter = np.clip(rb - lt, 0, None).prod(-1)
            iou = inter / ((d[:, 5:7] - d[:, 3:5]).prod(-1) + (b[2:] - b[:2]).prod() - inter)
            iou[~m] = -1
            j = int(iou.argmax())
            if iou[j] >= iou_thr:
                used[j] = True
                found += 1
    return found / max(total, 1)


def run_point(loop, frames, truth, streams, seconds, warmup, device, pinned):
    cuda = device.type == "cuda"
    frame_of_stream = [s % len(frames) for s in range(streams)]
    host = torch.from_numpy(frames[frame_of_stream])
    if pinned:
        host = host.pin_memory()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
    dev = torch.empty(host.shape, dtype=torch.uint8, device=device)

    def step():
        dev.copy_(host, non_blocking=pinned)
        return loop(dev).cpu()

    first = None
    for _ in range(warmup):
        first = step()
    latencies = []
    detections = 0
    start = time.perf_counter()
    while True:
        t0 = time.perf_counter()
        out = step()
        latencies.append(time.perf_counter() - t0)
        detections += out.shape[0]
        if first is None:
            first = out
        if time.perf_counter() - start >= seconds:
            break
    total = time.perf_counter() - start
    lat = np.array(latencies) * 1e3
    batches = len(latencies)
    return {
        "streams": streams,
        "batches": batches,
        "frames": batches * streams,
        "seconds": round(total, 3),
        "fps": round(batches * streams / total, 2),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 3),
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 3),
        "peak_memory_bytes": int(torch.cuda.max_memory_allocated(device)) if cuda else None,
        "detections_per_frame": round(detections / (batches * streams), 2),
        "recall": round(recall_of(first.numpy(), truth, frame_of_stream), 4),
    }


def stream_counts(text):
    try:
        counts = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        counts = []
    if not counts or min(counts) <= 0:
        raise argparse.ArgumentTypeError("%r: expected a comma-separated list of positive integers" % text)
    return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--streams", type=stream_counts, default=[1, 4, 16, 64],
                    help="stream counts (batch sizes) to measure, comma-separated (default 1,4,16,64)")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per stream count (default 10)")
    ap.add_argument("--warmup", type=int, default=5, help="batches run before measuring (default 5)")
    ap.add_argument("--format", type=str.upper, choices=("NV12", "RGB"), default="NV12")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--distinct", type=int, default=4, help="distinct frames, shared round-robin by the streams")
    ap.add_argument("--seed", type=int, default=render_scenes.DEFAULT_SEED, help="scene seed of the first frame")
    ap.add_argument("--device", default="cuda", help="cuda (default), cuda:N, or cpu for a smoke run")
    ap.add_argument("--prep-dtype", choices=("float16", "float32"),
                    help="colour conversion and resize precision (default float16 on a GPU, float32 on the CPU)")
    ap.add_argument("--conf", type=float, default=0.25, help="score threshold (default 0.25)")
    ap.add_argument("--iou", type=float, default=0.45, help="NMS IoU threshold (default 0.45)")
    ap.add_argument("--max-det", type=int, default=100, help="detections kept per frame (default 100)")
    ap.add_argument("--min-recall", type=float, default=0.7,
                    help="stop if the first batch finds fewer of the scenes' objects (default 0.7)")
    ap.add_argument("--onnx", default=DEFAULT_ONNX, help="the decoded detector whose weights to use")
    ap.add_argument("--reference", default=DEFAULT_REFERENCE, help="folder with input_u8.npy, boxes.npy, scores.npy")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads for PyTorch (0: its default)")
    args = ap.parse_args(argv)
    try:
        render_scenes.frame_layout(args.format, args.width, args.height)
    except ValueError as e:
        ap.error(str(e))
    if args.distinct <= 0 or args.warmup < 0 or args.seconds <= 0 or args.max_det <= 0:
        ap.error("--distinct, --seconds and --max-det must be positive, --warmup not negative")
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        ap.error("--device %s: %s" % (args.device, e))
    try:
        if device.type == "cuda" and not torch.cuda.is_available():
            raise BenchError("--device %s: CUDA is not available (PyTorch %s, built for CUDA %s); --device cpu runs "
                             "a smoke test" % (args.device, torch.__version__, torch.version.cuda or "none"))
        if device.type not in ("cuda", "cpu"):
            raise BenchError("--device %s: only cuda and cpu are measured" % args.device)
        model, _ = load_detector(args.onnx)
        d_boxes, d_scores = verify_against_reference(model, args.reference)
        print("weights of %s verified on the CPU against %s: max |diff| boxes %.2g px, scores %.2g" %
              (os.path.relpath(args.onnx), os.path.relpath(args.reference), d_boxes, d_scores), file=sys.stderr)
        cuda = device.type == "cuda"
        if cuda:
            torch.backends.cudnn.benchmark = True
        model_dtype = torch.float16 if cuda else torch.float32
        prep_dtype = getattr(torch, args.prep_dtype or ("float16" if cuda else "float32"))
        t0 = time.time()
        frames, truth = make_frames(args.format, args.width, args.height, args.distinct, args.seed)
        print("%d distinct %dx%d %s frames (%d bytes each) made in %.1f s" % (
            args.distinct, args.width, args.height, args.format, frames.shape[1], time.time() - t0), file=sys.stderr)
        loop = StreamLoop(model, args.format, args.width, args.height, device, model_dtype, prep_dtype, args.conf,
                          args.iou, args.max_det)
        common = {
            "bench": "torch_stream_loop", "device": torch.cuda.get_device_name(device) if cuda else "cpu",
            "torch": torch.__version__, "format": args.format, "width": args.width, "height": args.height,
            "model_dtype": str(model_dtype).replace("torch.", ""), "prep_dtype": str(prep_dtype).replace("torch.", ""),
            "channels_last": True, "nms": "torchvision" if _tv_batched_nms is not None else "host",
            "conf": args.conf, "iou": args.iou,
        }
        for n in args.streams:
            result = run_point(loop, frames, truth, n, args.seconds, args.warmup, device, pinned=cuda)
            print(json.dumps(dict(common, **result)), flush=True)
            if result["recall"] < args.min_recall:
                raise BenchError("%d streams: the first batch found %.2f of the scenes' objects (--min-recall %g): "
                                 "the loop does not detect what is in the frames" % (n, result["recall"],
                                                                                      args.min_recall))
    except BenchError as e:
        print("torch_stream_loop.py: %s" % e, file=sys.stderr)
        return 1
    except torch.cuda.OutOfMemoryError if hasattr(torch.cuda, "OutOfMemoryError") else MemoryError as e:
        print("torch_stream_loop.py: out of device memory: %s" % str(e).splitlines()[0], file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
