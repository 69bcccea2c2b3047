#!/usr/bin/env python3
"""Check a pipeline's detections (rtmetasink JSON lines) against the ground truth of render_scenes.py.

Detections: one JSON object a line, as pipelines/metadata/json_lines.h writes them:
  {"stream":0,"frame":12,"pts_ns":...,"width":W,"height":H,
   "objects":[{"class_id":2,"label":"circle","confidence":0.91,"box":[x1,y1,x2,y2]}],"classes":[]}
Ground truth: {"frame":i,"objects":[{"class_id":c,"label":name,"box":[x1,y1,x2,y2]}]} a line (render_scenes.py
also writes "width" and "height"; where both files give a frame's size they must agree). Boxes in frame pixels.
Blank lines are ignored; any other line that is not such an object is an error naming the file and line.

Frames: the detections of one stream (--stream; required when the file holds several) must carry each
ground-truth frame number exactly once, in increasing order, and no other.

Matching, per frame and class: detections in order of decreasing confidence, each taking the unmatched
ground-truth object of its class with the highest IoU, if that IoU is at least --iou (0.5); the rest are false
positives. AP per class is VOC-style (all-point interpolated precision-recall area) over every detection with
confidence >= --min-score; mAP@0.5 is the mean over the classes present in the ground truth. Precision and
recall are reported at an operating point, the detections with confidence >= --conf (0.3).

Exit status: 0 when the frames are complete and mAP@0.5 >= --min-map and recall >= --min-recall; 1 otherwise,
or when a file cannot be read or has a malformed line, with a message saying what failed.

Example: check_detections.py --detections meta.jsonl --ground-truth scenes.gt.jsonl --min-map 0.85
"""
import argparse
import json
import math
import sys

import numpy as np


class CheckError(Exception):
    """A problem with the inputs (unreadable file, malformed line, frames wrong); the message says which."""


def _number(value, what, where):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise CheckError("%s: %s is %s, not a number" % (where, what, json.dumps(value)))
    if not math.isfinite(value):
        raise CheckError("%s: %s is not finite" % (where, what))
    return float(value)


def _integer(value, what, where):
    if isinstance(value, bool) or not isinstance(value, int):
        raise CheckError("%s: %s is %s, not an integer" % (where, what, json.dumps(value)))
    return value


def _objects(record, where, with_confidence):
    """(boxes [N,4], class ids [N], confidences [N] or None, labels {id: name}) of a record's "objects"."""
    objs = record.get("objects")
    if not isinstance(objs, list):
        raise CheckError("%s: \"objects\" is missing or not a list" % where)
    boxes = np.zeros((len(objs), 4))
    classes = np.zeros(len(objs), np.int64)
    scores = np.zeros(len(objs)) if with_confidence else None
    labels = {}
    for k, o in enumerate(objs):
        at = "%s: object %d" % (where, k)
        if not isinstance(o, dict):
            raise CheckError("%s is not a JSON object" % at)
        classes[k] = _integer(o.get("class_id"), "class_id", at)
        if classes[k] < 0:
            raise CheckError("%s: class_id %d is negative" % (at, classes[k]))
        box = o.get("box")
        if not isinstance(box, list) or len(box) != 4:
            raise CheckError("%s: \"box\" is %s, not a list of 4 numbers" % (at, json.dumps(box)))
        boxes[k] = [_number(v, "box value", at) for v in box]
        if boxes[k, 2] < boxes[k, 0] or boxes[k, 3] < boxes[k, 1]:
            raise CheckError("%s: box %s has x2 < x1 or y2 < y1" % (at, json.dumps(box)))
        if with_confidence:
            scores[k] = _number(o.get("confidence"), "confidence", at)
        if isinstance(o.get("label"), str):
            labels[int(classes[k])] = o["label"]
    return boxes, classes, scores, labels


def read_json_lines(path, with_confidence):
    """[(line number, frame, stream or None, (width, height) or None, boxes, classes, scores)] and labels."""
    records = []
    labels = {}
    try:
        f = open(path)
    except OSError as e:
        raise CheckError("cannot read %s: %s" % (path, e.strerror))
    with f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = "%s:%d" % (path, number)
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise CheckError("%s: malformed JSON at column %d: %s" % (where, e.colno, e.msg))
            if not isinstance(record, dict):
                raise CheckError("%s: not a JSON object" % where)
            frame = _integer(record.get("frame"), "\"frame\"", where)
            stream = record.get("stream")
            if stream is not None:
                stream = _integer(stream, "\"stream\"", where)
            size = None
            if "width" in record or "height" in record:
                size = (_integer(record.get("width"), "\"width\"", where),
                        _integer(record.get("height"), "\"height\"", where))
            boxes, classes, scores, names = _objects(record, where, with_confidence)
            labels.update(names)
            records.append((number, frame, stream, size, boxes, classes, scores))
    return records, labels


def select_stream(records, stream, path):
    streams = sorted({r[2] for r in records if r[2] is not None})
    if stream is None:
        if len(streams) > 1:
            raise CheckError("%s holds several streams (%s): choose one with --stream" %
                             (path, ", ".join(map(str, streams))))
        return records
    if any(r[2] is None for r in records):
        raise CheckError("%s: --stream %d given but line %d has no \"stream\"" %
                         (path, stream, next(r[0] for r in records if r[2] is None)))
    chosen = [r for r in records if r[2] == stream]
    if not chosen:
        raise CheckError("%s has no lines of stream %d (streams: %s)" %
                         (path, stream, ", ".join(map(str, streams)) or "none"))
    return chosen


def frame_problems(det_records, gt_frames, path, limit=10):
    """Messages about duplicated, out-of-order, unexpected and missing frames (empty when all is well)."""
    problems = []
    seen = {}
    last = None
    for number, frame, *_ in det_records:
        if frame in seen:
            problems.append("%s:%d: frame %d duplicated (first on line %d)" % (path, number, frame, seen[frame]))
        elif last is not None and frame < last:
            problems.append("%s:%d: frame %d out of order (after frame %d)" % (path, number, frame, last))
        if frame not in gt_frames:
            problems.append("%s:%d: frame %d is not in the ground truth" % (path, number, frame))
        seen.setdefault(frame, number)
        last = frame if last is None else max(last, frame)
    missing = sorted(set(gt_frames) - set(seen))
    if missing:
        shown = ", ".join(map(str, missing[:limit])) + (", ..." if len(missing) > limit else "")
        problems.append("%d of %d frames missing: %s" % (len(missing), len(gt_frames), shown))
    return problems


def box_iou(a, b):
    """IoU of boxes a [N,4] and b [M,4] (x1y1x2y2) -> [N,M]."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.clip(rb - lt, 0, None).prod(-1)
    area_a = (a[:, 2:] - a[:, :2]).prod(-1)
    area_b = (b[:, 2:] - b[:, :2]).prod(-1)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def match_frame(det_boxes, det_scores, gt_boxes, iou_thr):
    """Greedy matching of one class in one frame: true-positive flags of the detections (in their order)."""
    tp = np.zeros(len(det_boxes), bool)
    if len(det_boxes) == 0 or len(gt_boxes) == 0:
        return tp
    ious = box_iou(det_boxes, gt_boxes)
    used = np.zeros(len(gt_boxes), bool)
    for i in np.argsort(-det_scores, kind="stable"):
        cand = np.where(used, -1.0, ious[i])
        j = int(cand.argmax())
        if cand[j] >= iou_thr:
            used[j] = True
            tp[i] = True
    return tp


def voc_ap(recall, precision):
    """All-point interpolated AP (VOC 2010+)."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]
    i = np.nonzero(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def evaluate(det_by_frame, gt_by_frame, iou_thr, conf, min_score):
    """Per class: {"gt", "det", "tp" (at conf), "precision", "recall" (at conf), "ap"} (ap None without gt)."""
    class_ids = set()
    for _, c in gt_by_frame.values():
        class_ids.update(c.tolist())
    for _, c, _ in det_by_frame.values():
        class_ids.update(c.tolist())
    stats = {}
    for c in sorted(class_ids):
        scores, flags = [], []
        n_gt = 0
        for frame, (gb, gc) in gt_by_frame.items():
            g = gb[gc == c]
            n_gt += len(g)
            db, dc, ds = det_by_frame.get(frame, (np.zeros((0, 4)), np.zeros(0, np.int64), np.zeros(0)))
            m = (dc == c) & (ds >= min_score)
            scores.append(ds[m])
            flags.append(match_frame(db[m], ds[m], g, iou_thr))
        scores = np.concatenate(scores) if scores else np.zeros(0)
        flags = np.concatenate(flags) if flags else np.zeros(0, bool)
        order = np.argsort(-scores, kind="stable")
        tp_sorted = flags[order].astype(np.float64)
        at_conf = scores >= conf
        tp = int(flags[at_conf].sum())
        ndet = int(at_conf.sum())
        ap = None
        if n_gt:
            ctp = np.cumsum(tp_sorted)
            ap = voc_ap(ctp / n_gt, ctp / np.arange(1, len(ctp) + 1)) if len(ctp) else 0.0
        stats[c] = {"gt": n_gt, "det": ndet, "tp": tp, "precision": tp / ndet if ndet else None,
                    "recall": tp / n_gt if n_gt else None, "ap": ap}
    return stats


def fmt(value):
    return "  -   " if value is None else "%.4f" % value


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--detections", required=True, help="the pipeline's metadata JSON lines (rtmetasink)")
    ap.add_argument("--ground-truth", required=True, help="render_scenes.py's ground-truth JSON lines")
    ap.add_argument("--stream", type=int, help="check this stream's lines (needed when the file has several)")
    ap.add_argument("--iou", type=float, default=0.5, help="IoU for a match (default 0.5)")
    ap.add_argument("--conf", type=float, default=0.3, help="confidence of the precision / recall point (0.3)")
    ap.add_argument("--min-score", type=float, default=0.0, help="ignore detections below this (default 0)")
    ap.add_argument("--min-map", type=float, default=0.8, help="fail below this mAP@IoU (default 0.8)")
    ap.add_argument("--min-recall", type=float, default=0.0, help="fail below this recall at --conf (default 0)")
    args = ap.parse_args(argv)
    if not 0 < args.iou <= 1:
        ap.error("--iou %g: must be in (0, 1]" % args.iou)
    try:
        gt_records, gt_labels = read_json_lines(args.ground_truth, with_confidence=False)
        det_records, det_labels = read_json_lines(args.detections, with_confidence=True)
        det_records = select_stream(det_records, args.stream, args.detections)
        gt_by_frame = {}
        gt_sizes = {}
        for number, frame, _, size, boxes, classes, _ in gt_records:
            if frame in gt_by_frame:
                raise CheckError("%s:%d: frame %d appears twice in the ground truth" %
                                 (args.ground_truth, number, frame))
            gt_by_frame[frame] = (boxes, classes)
            gt_sizes[frame] = size
        if not gt_by_frame:
            raise CheckError("%s has no frames" % args.ground_truth)
        for number, frame, _, size, *_ in det_records:
            want = gt_sizes.get(frame)
            if size and want and size != want:
                raise CheckError("%s:%d: frame %d is %dx%d, the ground truth's is %dx%d (boxes would not compare)" %
                                 ((args.detections, number, frame) + size + want))
    except CheckError as e:
        print("check_detections.py: %s" % e, file=sys.stderr)
        return 1

    problems = frame_problems(det_records, set(gt_by_frame), args.detections)
    det_by_frame = {}
    for _, frame, _, _, boxes, classes, scores in det_records:
        det_by_frame.setdefault(frame, (boxes, classes, scores))  # a duplicate is reported above, not counted
    stats = evaluate(det_by_frame, gt_by_frame, args.iou, args.conf, args.min_score)
    labels = dict(gt_labels)
    labels.update({k: v for k, v in det_labels.items() if k not in labels})

    iou_name = "AP@%g" % args.iou
    print("frames: %d seen, %d expected (%d detection lines)" % (len(det_by_frame.keys() & gt_by_frame.keys()),
                                                                 len(gt_by_frame), len(det_records)))
    print("%-4s %-12s %6s %6s %6s  %-9s %-9s %-9s" % ("id", "class", "gt", "det", "tp", "precision", "recall",
                                                    iou_name))
    for c, s in stats.items():
        print("%-4d %-12s %6d %6d %6d  %-9s %-9s %-9s" % (c, labels.get(c, "?")[:12], s["gt"], s["det"], s["tp"],
                                                          fmt(s["precision"]), fmt(s["recall"]), fmt(s["ap"])))
    n_gt = sum(s["gt"] for s in stats.values())
    n_det = sum(s["det"] for s in stats.values())
    n_tp = sum(s["tp"] for s in stats.values())
    aps = [s["ap"] for s in stats.values() if s["ap"] is not None]
    precision = n_tp / n_det if n_det else None
    recall = n_tp / n_gt if n_gt else None
    mean_ap = float(np.mean(aps)) if aps else None
    print("%-17s %6d %6d %6d  %-9s %-9s %-9s" % ("all", n_gt, n_det, n_tp, fmt(precision), fmt(recall), fmt(mean_ap)))
    print("m%s: %s over %d classes (precision / recall at confidence >= %g)" % (iou_name, fmt(mean_ap), len(aps),
                                                                               args.conf))
    if mean_ap is not None and mean_ap < args.min_map:
        problems.append("m%s %.4f is below --min-map %g" % (iou_name, mean_ap, args.min_map))
    if recall is not None and recall < args.min_recall:
        problems.append("recall %.4f at confidence >= %g is below --min-recall %g" % (recall, args.conf,
                                                                                   args.min_recall))
    if mean_ap is None and args.min_map > 0:
        problems.append("the ground truth has no objects, so there is no mAP to compare with --min-map")
    if problems:
        for p in problems:
            print("FAIL: %s" % p, file=sys.stderr)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
