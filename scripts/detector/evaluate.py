#!/usr/bin/env python3
"""mAP@0.5 of the default detector on a held-out generated set, through PyTorch and through rtinfer.

The held-out set: --count scenes from scenes.TEST_SEED (a seed range disjoint from training and validation).

PyTorch runs the network with the weights of the shipped ONNX model (read from its initializers; --ckpt takes
a training checkpoint instead) and decodes as the ONNX graph does: DFL expectation -> x1y1x2y2 boxes in input
pixels, sigmoid scores. Two post-processings:
  * "standard": every (anchor, class) pair above --conf 0.001 is a candidate, class-aware NMS at IoU 0.6, the
    top 100 per image: the usual way to measure a detector's mAP;
  * "EfficientNMS_TRT settings": exactly what the shipped detector_nms.onnx computes (NMS below: score > 0.05,
    per-class NMS at IoU 0.5, the top 100), written in PyTorch.
rtinfer builds detector_nms.onnx for the CPU backend (--backend cpu cuda: both) with rtexec (EfficientNMS_TRT is a built-in plugin),
runs it on the same images in batches of .npy files, and takes its detections as they come.

AP is VOC-style (all-point interpolation) per class at IoU 0.5, then averaged over the classes. The program
prints the per-class APs, the mAPs, and the difference between PyTorch and rtinfer with the same
post-processing; it exits with status 1 when that difference exceeds --max-diff (0.5 points).

Usage: /usr/bin/python3 scripts/detector/evaluate.py [--count 500] [--rtexec build/sdk/rtexec/rtexec]
       [--backend cpu cuda]
       [--onnx models/detector/detector_nms.onnx] [--ckpt CHECKPOINT] [--no-rtinfer]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

try:
    from torchvision.ops import batched_nms
except ImportError:  # torchvision is optional: the same greedy per-class NMS in plain PyTorch
    def batched_nms(boxes, scores, idxs, iou_threshold):
        if boxes.numel() == 0:
            return torch.zeros(0, dtype=torch.long)
        # Shift each class into its own region so that boxes of different classes never overlap.
        off = idxs.to(boxes.dtype)[:, None] * (boxes.max() - boxes.min() + 1)
        b = boxes + off
        order = scores.argsort(descending=True)
        b = b[order]
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        lt = torch.max(b[:, None, :2], b[None, :, :2])
        rb = torch.min(b[:, None, 2:], b[None, :, 2:])
        inter = (rb - lt).clamp(min=0).prod(-1)
        iou = inter / (area[:, None] + area[None, :] - inter)
        keep = torch.ones(len(b), dtype=torch.bool)
        for i in range(len(b)):
            if keep[i]:
                keep[i + 1:] &= iou[i, i + 1:] <= iou_threshold
        return order[keep]

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenes  # noqa: E402
from model import Detector, decode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_CKPT = os.path.join(ROOT, "models", "detector", "detector.pt")
DEFAULT_ONNX = os.path.join(ROOT, "models", "detector", "detector_nms.onnx")
# The EfficientNMS_TRT attributes of the shipped detector_nms.onnx (export.py writes them as they are here).
# A low score threshold, as usual for an mAP evaluation; raise it (or filter detection_scores) to deploy.
NMS = {"score_threshold": 0.05, "iou_threshold": 0.5, "max_output_boxes": 100, "background_class": -1,
       "score_activation": 0, "class_agnostic": 0, "box_coding": 0, "plugin_version": "1"}


def to_tensor(images):
    """uint8 [N,H,W,3] RGB -> float32 [N,3,H,W] in [0,1] (the model's input format)."""
    return torch.from_numpy(np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2))).float().div_(255.0)


def postprocess(boxes, scores, conf=0.001, iou=0.6, max_det=100, max_candidates=3000):
    """Per image: (boxes [K,4], scores [K], classes [K]) after class-aware NMS."""
    results = []
    for b, s in zip(boxes, scores):
        idx, cls = torch.nonzero(s > conf, as_tuple=True)
        sc = s[idx, cls]
        if sc.numel() > max_candidates:
            top = sc.topk(max_candidates).indices
            idx, cls, sc = idx[top], cls[top], sc[top]
        bx = b[idx]
        keep = batched_nms(bx, sc, cls, iou)[:max_det]
        results.append((bx[keep], sc[keep], cls[keep]))
    return results


def efficient_nms_reference(boxes, scores, nms=NMS):
    """What EfficientNMS_TRT computes with the attributes above, in PyTorch: candidates with score > threshold,
    per-class NMS, the top max_output_boxes by score. Returns num [B,1] int32, boxes [B,K,4], scores [B,K],
    classes [B,K] int32 (rows past num are zero)."""
    k = nms["max_output_boxes"]
    b = boxes.shape[0]
    num = torch.zeros(b, 1, dtype=torch.int32)
    out_boxes = torch.zeros(b, k, 4)
    out_scores = torch.zeros(b, k)
    out_classes = torch.zeros(b, k, dtype=torch.int32)
    for i in range(b):
        idx, cls = torch.nonzero(scores[i] > nms["score_threshold"], as_tuple=True)
        sc = scores[i][idx, cls]
        bx = boxes[i][idx]
        keep = batched_nms(bx, sc, cls, nms["iou_threshold"])[:k]
        n = keep.numel()
        num[i, 0] = n
        out_boxes[i, :n] = bx[keep]
        out_scores[i, :n] = sc[keep]
        out_classes[i, :n] = cls[keep].int()
    return num, out_boxes, out_scores, out_classes


@torch.no_grad()
def predict(model, images, batch_size=32, **kw):
    model.eval()
    dev = next(model.parameters()).device
    anc, strides = model.anchors(images[0].shape[0], dev)
    out = []
    for i in range(0, len(images), batch_size):
        head = model(to_tensor(images[i:i + batch_size]).to(dev))
        boxes, scores = (t.cpu() for t in decode(head, anc, strides, model.num_classes))
        out.extend(postprocess(boxes, scores, **kw))
    return out


def box_iou_np(a, b):
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    return inter / (area_a[:, None] + area_b[None, :] - inter + 1e-9)


def voc_ap(recall, precision):
    """All-point interpolated AP (VOC 2010+)."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def mean_ap(predictions, gt_boxes, gt_classes, num_classes, iou_thr=0.5):
    """predictions: per image (boxes, scores, classes) tensors or arrays; returns (mAP, per-class AP)."""
    aps = []
    for c in range(num_classes):
        dets = []  # (score, image, box)
        n_gt = 0
        gts = {}
        for i, (pb, ps, pc) in enumerate(predictions):
            pb, ps, pc = (np.asarray(t) for t in (pb, ps, pc))
            m = pc == c
            dets.extend((float(s), i, b) for s, b in zip(ps[m], pb[m]))
            g = gt_boxes[i][gt_classes[i] == c]
            gts[i] = (g, np.zeros(len(g), bool))
            n_gt += len(g)
        if n_gt == 0:
            aps.append(float("nan"))
            continue
        dets.sort(key=lambda d: -d[0])
        tp = np.zeros(len(dets))
        for k, (_, i, b) in enumerate(dets):
            g, used = gts[i]
            if len(g) == 0:
                continue
            ious = box_iou_np(b[None], g)[0]
            j = int(ious.argmax())
            if ious[j] >= iou_thr and not used[j]:
                used[j] = True
                tp[k] = 1
        ctp = np.cumsum(tp)
        recall = ctp / n_gt
        precision = ctp / np.arange(1, len(dets) + 1)
        aps.append(voc_ap(recall, precision))
    return float(np.nanmean(aps)), aps


def load_model(path):
    ckpt = torch.load(path, map_location="cpu")
    cfg = ckpt["config"]
    model = Detector(cfg["num_classes"], tuple(cfg["widths"]), cfg["head_width"], cfg["input_size"])
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt


# Calibration scenes: seeds of their own, after the test set's.
CALIB_SEED = scenes.TEST_SEED + 50_000


def make_set(count, seed, size):
    images, boxes, classes = [], [], []
    for i in range(count):
        im, b, c = scenes.generate_scene(seed + i, size)
        images.append(im)
        boxes.append(b)
        classes.append(c)
    return images, boxes, classes


def load_onnx_model(path):
    """The PyTorch network (BatchNorm folded, as exported) with the weights of an exported ONNX model."""
    import onnx
    from onnx import numpy_helper
    m = onnx.load(path)
    meta = {p.key: p.value for p in m.metadata_props}
    size = json.loads(meta["input_size"])[0]
    names = json.loads(meta["class_names"])
    model = Detector(len(names), tuple(json.loads(meta["widths"])), int(meta["head_width"]), size).fuse()
    state = {t.name[len("model."):]: torch.from_numpy(numpy_helper.to_array(t).copy())
             for t in m.graph.initializer if t.name.startswith("model.")}
    model.load_state_dict(state)
    return model.eval(), names, json.loads(meta["nms"]) if "nms" in meta else None


def find_rtexec(explicit=None):
    for c in (explicit, os.environ.get("RTEXEC"), os.path.join(ROOT, "build", "sdk", "rtexec", "rtexec"),
              shutil.which("rtexec")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise SystemExit("rtexec not found: build the project (cmake --build build) or pass --rtexec")


def nchw_float(images):
    """uint8 [N,H,W,3] RGB -> float32 [N,3,H,W] pixel / 255, the models' input."""
    return np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2)).astype(np.float32) / np.float32(255.0)


def write_calibration(folder, count, size):
    """count training-range scenes (CALIB: seeds of their own) as PPM images, for rtexec build --calib."""
    os.makedirs(folder, exist_ok=True)
    for i in range(count):
        im, _, _ = scenes.generate_scene(CALIB_SEED + i, size)
        h, w, _ = im.shape
        with open(os.path.join(folder, "scene%05d.ppm" % i), "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(im, np.uint8).tobytes())


def run_rtinfer(rtexec, onnx_path, images, batch, work_dir, backend="cpu", verbose=False, extra=()):
    """Builds onnx_path for rtinfer's `backend` (cpu or cuda) and runs it on images in batches; returns per
    image (boxes, scores, classes) from the EfficientNMS_TRT outputs, and the build and run times. extra: more
    rtexec build flags (--int8 ...)."""
    os.makedirs(work_dir, exist_ok=True)
    engine = os.path.join(work_dir, "detector_nms.engine")
    t0 = time.time()
    cmd = [rtexec, "build", "--onnx", onnx_path, "--out", engine, "--backend", backend, "--min-batch", "1",
           "--opt-batch", str(batch), "--max-batch", str(batch)] + list(extra)
    subprocess.run(cmd, check=True, stdout=None if verbose else subprocess.DEVNULL)
    t_build = time.time() - t0
    results = []
    for i in range(0, len(images), batch):
        inp = os.path.join(work_dir, "images.npy")
        np.save(inp, nchw_float(images[i:i + batch]))
        out_dir = os.path.join(work_dir, "out")
        os.makedirs(out_dir, exist_ok=True)
        subprocess.run([rtexec, "run", "--engine", engine, "--input", "images=" + inp, "--output-dir", out_dir],
                       check=True, stdout=None if verbose else subprocess.DEVNULL)
        num = np.load(os.path.join(out_dir, "num_detections.npy")).reshape(-1)
        boxes = np.load(os.path.join(out_dir, "detection_boxes.npy"))
        scores = np.load(os.path.join(out_dir, "detection_scores.npy"))
        classes = np.load(os.path.join(out_dir, "detection_classes.npy"))
        for j, n in enumerate(num):
            results.append((boxes[j, :n], scores[j, :n], classes[j, :n].astype(np.int64)))
    return results, t_build, time.time() - t0 - t_build


@torch.no_grad()
def predict_nms(model, images, nms, batch_size=32):
    """PyTorch detections with the EfficientNMS_TRT semantics of nms (see efficient_nms_reference)."""
    model.eval()
    anc, strides = model.anchors(images[0].shape[0])
    out = []
    for i in range(0, len(images), batch_size):
        boxes, scores = decode(model(torch.from_numpy(nchw_float(images[i:i + batch_size]))), anc, strides,
                               model.num_classes)
        num, b, s, c = efficient_nms_reference(boxes, scores, nms)
        out.extend((b[j, :n].numpy(), s[j, :n].numpy(), c[j, :n].numpy().astype(np.int64))
                   for j, n in enumerate(num[:, 0].tolist()))
    return out


def report(title, m, aps, names):
    print("%-52s mAP@0.5 %.4f  (%s)" % (title, m, ", ".join("%s %.3f" % (n, a) for n, a in zip(names, aps))))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", default=DEFAULT_ONNX, help="the EfficientNMS_TRT model (and the weights for PyTorch)")
    ap.add_argument("--ckpt", help="run PyTorch with this training checkpoint instead of the ONNX model's weights")
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--seed", type=int, default=scenes.TEST_SEED)
    ap.add_argument("--conf", type=float, default=0.001, help="score threshold of the standard evaluation")
    ap.add_argument("--iou", type=float, default=0.6, help="NMS IoU of the standard evaluation")
    ap.add_argument("--rtexec", help="the rtexec binary (default: build/sdk/rtexec/rtexec, $RTEXEC, PATH)")
    ap.add_argument("--batch", type=int, default=50, help="images per rtexec run")
    ap.add_argument("--work-dir", help="where the engine and the .npy batches go (default: a temporary folder)")
    ap.add_argument("--no-rtinfer", action="store_true", help="PyTorch only")
    ap.add_argument("--backend", nargs="+", default=["cpu"], choices=["cpu", "cuda"],
                    help="rtinfer backends to evaluate (each must agree with PyTorch)")
    ap.add_argument("--max-diff", type=float, default=0.5, help="allowed |PyTorch - rtinfer| in mAP points")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--int8", action="store_true",
                    help="also build INT8 engines, calibrated on --calib-count generated scenes (images through the "
                         "model's pre-processing), and compare their mAP with rtinfer float's")
    ap.add_argument("--calib-count", type=int, default=500)
    ap.add_argument("--calibrator", default="entropy")
    ap.add_argument("--max-int8-drop", type=float, default=1.0, help="allowed rtinfer float - INT8, mAP points")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, names, nms = load_onnx_model(args.onnx)
    source = os.path.relpath(args.onnx)
    if args.ckpt:
        model, ckpt = load_model(args.ckpt)
        names, source = ckpt["config"]["class_names"], os.path.relpath(args.ckpt)
    nms = nms or NMS
    t0 = time.time()
    images, boxes, classes = make_set(args.count, args.seed, model.input_size)
    print("held-out set: %d images (seeds %d..%d), %d objects, classes %s; generated in %.1f s" %
          (args.count, args.seed, args.seed + args.count - 1, sum(len(c) for c in classes), ", ".join(names),
           time.time() - t0))
    print("PyTorch weights: %s" % source)
    t0 = time.time()
    m_std, aps = mean_ap(predict(model, images, conf=args.conf, iou=args.iou), boxes, classes, model.num_classes)
    report("PyTorch, standard (conf %g, NMS IoU %g, top 100)" % (args.conf, args.iou), m_std, aps, names)
    m_pt, aps = mean_ap(predict_nms(model, images, nms), boxes, classes, model.num_classes)
    report("PyTorch, EfficientNMS_TRT settings (score > %g, IoU %g)" % (nms["score_threshold"],
                                                                        nms["iou_threshold"]), m_pt, aps, names)
    print("  (PyTorch: %.1f s)" % (time.time() - t0))
    if args.no_rtinfer:
        return 0
    rtexec = find_rtexec(args.rtexec)
    ok = True
    for backend in args.backend:
        work = args.work_dir or tempfile.mkdtemp(prefix="detector_eval_")
        try:
            preds, t_build, t_run = run_rtinfer(rtexec, args.onnx, images, args.batch,
                                                os.path.join(work, backend), backend)
        finally:
            if not args.work_dir:
                shutil.rmtree(work, ignore_errors=True)
        m_rt, aps = mean_ap(preds, boxes, classes, model.num_classes)
        report("rtinfer %s, %s" % (backend.upper(), os.path.basename(args.onnx)), m_rt, aps, names)
        print("  (rtinfer: build %.1f s, %d runs %.1f s)" % (t_build, (len(images) + args.batch - 1) // args.batch,
                                                              t_run))
        diff = 100 * (m_rt - m_pt)
        agree = abs(diff) <= args.max_diff
        ok = ok and agree
        print("rtinfer %s - PyTorch (same post-processing): %+.3f mAP points (allowed +-%.1f): %s" %
              (backend.upper(), diff, args.max_diff, "OK" if agree else "FAIL"))
        if args.int8:
            work = args.work_dir or tempfile.mkdtemp(prefix="detector_int8_")
            try:
                calib = os.path.join(work, "calibration")
                write_calibration(calib, args.calib_count, model.input_size)
                extra = ["--int8", "--calib", calib, "--calibrator", args.calibrator,
                         "--config", os.path.join(os.path.dirname(args.onnx), "detector.yml"),
                         "--calib-cache", os.path.join(work, "detector.calib")]
                # On CUDA the int8 convolutions run in float16 engines (channels-last), as with TensorRT's
                # --int8 --fp16; float layers then run in float16.
                extra += ["--fp16"] if backend == "cuda" else []
                preds, t_build, t_run = run_rtinfer(rtexec, args.onnx, images, args.batch,
                                                    os.path.join(work, backend + "-int8"), backend, extra=extra)
            finally:
                if not args.work_dir:
                    shutil.rmtree(work, ignore_errors=True)
            m_q, aps = mean_ap(preds, boxes, classes, model.num_classes)
            report("rtinfer %s INT8 (%s, %d images)" % (backend.upper(), args.calibrator, args.calib_count), m_q, aps,
                   names)
            print("  (rtinfer INT8: build with calibration %.1f s, %d runs %.1f s)" %
                  (t_build, (len(images) + args.batch - 1) // args.batch, t_run))
            drop = 100 * (m_rt - m_q)
            within = drop <= args.max_int8_drop
            ok = ok and within
            print("rtinfer %s float - INT8: %+.3f mAP points (allowed %.1f): %s" %
                  (backend.upper(), drop, args.max_int8_drop, "OK" if within else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
