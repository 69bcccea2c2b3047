#!/usr/bin/env python3
"""mAP@0.5 of the detector on a held-out generated set, through PyTorch.

Decoding: DFL expectation -> x1y1x2y2 boxes in input pixels, sigmoid scores; every (anchor, class) pair
above --conf is a candidate (multi-label), then torchvision.ops.batched_nms per class and the top
--max-det per image. AP is VOC-style with all-point interpolation, per class, then averaged.

Usage: /usr/bin/python3 scripts/detector/evaluate.py [--ckpt models/detector/detector.pt] [--count 500]
"""
import argparse
import os
import sys
import time

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scenes  # noqa: E402
from model import Detector, decode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CKPT = os.path.join(HERE, "..", "..", "models", "detector", "detector.pt")


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
        keep = torchvision.ops.batched_nms(bx, sc, cls, iou)[:max_det]
        results.append((bx[keep], sc[keep], cls[keep]))
    return results


@torch.no_grad()
def predict(model, images, batch_size=32, **kw):
    model.eval()
    anc, strides = model.anchors(images[0].shape[0])
    out = []
    for i in range(0, len(images), batch_size):
        head = model(to_tensor(images[i:i + batch_size]))
        boxes, scores = decode(head, anc, strides, model.num_classes)
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


def make_set(count, seed, size):
    images, boxes, classes = [], [], []
    for i in range(count):
        im, b, c = scenes.generate_scene(seed + i, size)
        images.append(im)
        boxes.append(b)
        classes.append(c)
    return images, boxes, classes


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=DEFAULT_CKPT)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--seed", type=int, default=scenes.TEST_SEED)
    ap.add_argument("--conf", type=float, default=0.001)
    ap.add_argument("--iou", type=float, default=0.6)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model, ckpt = load_model(args.ckpt)
    t0 = time.time()
    images, boxes, classes = make_set(args.count, args.seed, model.input_size)
    t1 = time.time()
    preds = predict(model, images, conf=args.conf, iou=args.iou)
    t2 = time.time()
    m, aps = mean_ap(preds, boxes, classes, model.num_classes)
    names = ckpt["config"]["class_names"]
    print("held-out set: %d images (seeds %d..%d), %d objects; generated in %.1fs, inference %.1fs" %
          (args.count, args.seed, args.seed + args.count - 1, sum(len(c) for c in classes), t1 - t0, t2 - t1))
    for n, a in zip(names, aps):
        print("  AP@0.5 %-9s %.4f" % (n, a))
    print("mAP@0.5 = %.4f" % m)


if __name__ == "__main__":
    main()
