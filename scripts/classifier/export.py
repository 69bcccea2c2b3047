#!/usr/bin/env python3
"""Export the trained classifier to ONNX (opset 17, dynamic batch) and write its labels.

models/classifier/classifier.onnx
    input   images [B,3,S,S] float32 RGB, pixel / 255 in [0,1]
    output  logits [B,C] (no softmax)
    BatchNorm folded into the convolutions (the exporter does it in eval mode); metadata_props describe the
    input format and the class names.
models/classifier/labels.txt
    class names, one a line, in class-id order.

Usage: /usr/bin/python3 scripts/classifier/export.py [--ckpt models/classifier/classifier.pt]
"""
import argparse
import collections
import json
import os
import sys

import onnx
import torch
from onnx import helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from evaluate import DEFAULT_CKPT, DEFAULT_ONNX, load_model  # noqa: E402

OPSET = 17


def metadata(cfg, ckpt):
    s = cfg["input_size"]
    return {
        "model": "rtinfer default classifier (ResNet-style, generated shapes)",
        "num_classes": str(cfg["num_classes"]),
        "class_names": json.dumps(cfg["class_names"]),
        "widths": json.dumps(cfg["widths"]),
        "blocks": json.dumps(cfg["blocks"]),
        "input_size": json.dumps([s, s]),
        "input_format": "RGB, NCHW float32, pixel/255 in [0,1], image stretched (resized) to the input size",
        "output": "logits[B, num_classes]; argmax is the class, softmax gives probabilities",
        "val_top1": "%.4f" % ckpt["val_top1"],
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=DEFAULT_CKPT)
    ap.add_argument("--out", default=DEFAULT_ONNX)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, ckpt = load_model(args.ckpt)
    cfg = ckpt["config"]
    s = cfg["input_size"]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, torch.rand(2, 3, s, s), args.out, opset_version=OPSET, input_names=["images"],
                          output_names=["logits"], do_constant_folding=True,
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    m = onnx.load(args.out)
    helper.set_model_props(m, metadata(cfg, ckpt))
    m.graph.name = "rtinfer_default_classifier"
    m.doc_string = "rtinfer default classifier: logits of %d generated-shape classes" % cfg["num_classes"]
    onnx.save(m, args.out)
    onnx.checker.check_model(m, full_check=True)
    with open(os.path.join(os.path.dirname(os.path.abspath(args.out)), "labels.txt"), "w") as f:
        f.write("\n".join(cfg["class_names"]) + "\n")
    hist = collections.Counter(n.op_type for n in m.graph.node)
    print("%s: %.2f MB, opset %d, onnx.checker full_check: ok" % (os.path.relpath(args.out),
                                                                   os.path.getsize(args.out) / 1e6,
                                                                   m.opset_import[0].version))
    print("  ops (%d nodes): %s" % (sum(hist.values()),
                                    ", ".join("%s %d" % kv for kv in sorted(hist.items(), key=lambda kv: -kv[1]))))


if __name__ == "__main__":
    main()
