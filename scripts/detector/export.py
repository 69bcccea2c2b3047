#!/usr/bin/env python3
"""Export the trained detector to ONNX (opset 17, dynamic batch), write the labels and a reference batch.

models/detector/detector.onnx
    input   images [B,3,S,S] float32 RGB, pixel / 255 in [0,1]
    outputs boxes  [B,A,4] x1y1x2y2 in input pixels, decoded in the graph (DFL softmax expectation around
                   the anchor points of strides 8, 16, 32, each level row-major)
            scores [B,A,C] per-class sigmoid scores
    metadata_props describe the layout (class names, strides, input format).
models/detector/detector_nms.onnx
    the same graph ending in a TensorRT-style EfficientNMS_TRT node (domain "", attributes as TensorRT's
    exporters write them, see NMS below). outputs num_detections [B,1] int32, detection_boxes [B,100,4],
    detection_scores [B,100], detection_classes [B,100] int32.
models/detector/labels.txt
    class names, one a line, in class-id order.
models/detector/reference/
    a small reference batch (uint8 input and PyTorch's outputs of both models) for the tests.

Usage: /usr/bin/python3 scripts/detector/export.py [--ckpt models/detector/detector.pt]
"""
import argparse
import collections
import json
import os
import sys

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate  # noqa: E402
import scenes  # noqa: E402
from evaluate import NMS, efficient_nms_reference  # noqa: E402
from model import REG_MAX, decode  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "models", "detector"))
OPSET = 17


class Decoded(torch.nn.Module):
    """Network + in-graph decode: boxes [B,A,4] (x1y1x2y2, input pixels) and sigmoid scores [B,A,C]."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        anc, strides = model.anchors()
        self.a = anc.shape[0]
        self.register_buffer("anchor_points", anc.view(1, self.a, 2))
        self.register_buffer("anchor_strides", strides.view(1, self.a, 1))
        self.register_buffer("proj", torch.arange(REG_MAX, dtype=torch.float32).view(REG_MAX, 1))

    def forward(self, x):
        head = self.model(x)
        dist, cls = head.split((4 * REG_MAX, self.model.num_classes), 1)
        # [B,4,R,A] -> [B,A,4,R]; softmax over the bins; expectation as a MatMul with 0..R-1.
        dist = dist.reshape(-1, 4, REG_MAX, self.a).permute(0, 3, 1, 2).softmax(-1)
        ltrb = torch.matmul(dist, self.proj).reshape(-1, self.a, 4) * self.anchor_strides
        lt, rb = ltrb.split((2, 2), -1)
        boxes = torch.cat((self.anchor_points - lt, self.anchor_points + rb), -1)
        scores = cls.permute(0, 2, 1).sigmoid()
        return boxes, scores


def metadata(model, cfg, kind):
    meta = {
        "model": "rtinfer default detector (YOLOv8-style, anchor-free, DFL)",
        "output_kind": kind,
        "num_classes": str(model.num_classes),
        "class_names": json.dumps(cfg["class_names"]),
        "reg_max": str(REG_MAX),
        "widths": json.dumps(list(cfg["widths"])),
        "head_width": str(cfg["head_width"]),
        "strides": json.dumps(list(model.strides)),
        "input_size": json.dumps([model.input_size, model.input_size]),
        "input_format": "RGB, NCHW float32, pixel/255 in [0,1], image stretched (resized) to the input size",
        "num_anchors": str(sum((model.input_size // s) ** 2 for s in model.strides)),
        "box_format": "x1y1x2y2 in input pixels; anchor point = (col + 0.5, row + 0.5) * stride, "
                      "box = point -/+ DFL expectation (left, top | right, bottom) * stride",
    }
    if kind == "decoded":
        meta["layout"] = "boxes[B, A, 4] x1y1x2y2, scores[B, A, num_classes] sigmoid; anchors over strides " \
                         "8, 16, 32, row-major per level; apply per-class NMS to get detections"
    else:
        meta["nms"] = json.dumps(NMS)
    return meta


def histogram(model_proto):
    return collections.Counter(n.op_type for n in model_proto.graph.node)


def set_shape(value_info, dims):
    """The exporter names the static sizes behind a -1 Reshape symbolically; write the real ones."""
    shape = value_info.type.tensor_type.shape
    del shape.dim[:]
    for d in dims:
        dim = shape.dim.add()
        if isinstance(d, str):
            dim.dim_param = d
        else:
            dim.dim_value = d


def export_decoded(model, cfg, path, x):
    torch.onnx.export(Decoded(model), x, path, opset_version=OPSET, input_names=["images"],
                      output_names=["boxes", "scores"], do_constant_folding=True,
                      dynamic_axes={"images": {0: "batch"}, "boxes": {0: "batch"}, "scores": {0: "batch"}})
    m = onnx.load(path)
    a = sum((model.input_size // s) ** 2 for s in model.strides)
    for o in m.graph.output:
        set_shape(o, ["batch", a, 4 if o.name == "boxes" else model.num_classes])
    helper.set_model_props(m, metadata(model, cfg, "decoded"))
    m.graph.name = "rtinfer_default_detector"
    m.doc_string = "rtinfer default detector: decoded boxes and class scores per anchor, no NMS"
    onnx.save(m, path)
    return m


def with_nms(decoded, model, cfg):
    """The decoded graph with an EfficientNMS_TRT node on its two outputs, as TensorRT's exporters write it."""
    m = onnx.ModelProto()
    m.CopyFrom(decoded)
    k = NMS["max_output_boxes"]
    nms = helper.make_node("EfficientNMS_TRT", ["boxes", "scores"],
                           ["num_detections", "detection_boxes", "detection_scores", "detection_classes"],
                           name="EfficientNMS_TRT_0", domain="", **NMS)
    m.graph.node.append(nms)
    # The decoded tensors become intermediates; the NMS outputs replace them as graph outputs.
    for o in list(m.graph.output):
        m.graph.value_info.append(o)
    del m.graph.output[:]
    m.graph.output.extend([
        helper.make_tensor_value_info("num_detections", TensorProto.INT32, ["batch", 1]),
        helper.make_tensor_value_info("detection_boxes", TensorProto.FLOAT, ["batch", k, 4]),
        helper.make_tensor_value_info("detection_scores", TensorProto.FLOAT, ["batch", k]),
        helper.make_tensor_value_info("detection_classes", TensorProto.INT32, ["batch", k]),
    ])
    del m.metadata_props[:]
    helper.set_model_props(m, metadata(model, cfg, "efficient_nms"))
    m.doc_string = "rtinfer default detector, decoded in the graph, EfficientNMS_TRT (TensorRT plugin layout)"
    return m


def check(m, has_plugin):
    if not has_plugin:
        onnx.checker.check_model(m, full_check=True)
        return "onnx.checker full_check: ok"
    try:
        onnx.checker.check_model(m)
        return "onnx.checker: ok"
    except onnx.checker.ValidationError as e:
        first = str(e).strip().splitlines()[0]
    # Check everything but the plugin node: the same graph with the NMS inputs as its outputs.
    sub = onnx.ModelProto()
    sub.CopyFrom(m)
    nodes = [n for n in sub.graph.node if n.op_type != "EfficientNMS_TRT"]
    del sub.graph.node[:]
    sub.graph.node.extend(nodes)
    outs = [v for v in sub.graph.value_info if v.name in ("boxes", "scores")]
    del sub.graph.output[:]
    sub.graph.output.extend(outs)
    onnx.checker.check_model(sub, full_check=True)
    return "onnx.checker on the full model fails as expected (%s); without the EfficientNMS_TRT node: ok" % first


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=evaluate.DEFAULT_CKPT)
    ap.add_argument("--out-dir", default=OUT_DIR)
    ap.add_argument("--ref-dir", default=os.path.join(OUT_DIR, "reference"))
    ap.add_argument("--ref-batch", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    model, ckpt = evaluate.load_model(args.ckpt)
    cfg = ckpt["config"]
    unfused, _ = evaluate.load_model(args.ckpt)
    model.fuse().eval()
    os.makedirs(args.out_dir, exist_ok=True)
    s = model.input_size
    x = torch.rand(2, 3, s, s)

    dec_path = os.path.join(args.out_dir, "detector.onnx")
    nms_path = os.path.join(args.out_dir, "detector_nms.onnx")
    with torch.no_grad():
        dec = export_decoded(model, cfg, dec_path, x)
    nms = with_nms(dec, model, cfg)
    onnx.save(nms, nms_path)
    with open(os.path.join(args.out_dir, "labels.txt"), "w") as f:
        f.write("\n".join(cfg["class_names"]) + "\n")
    for path, m, plugin in ((dec_path, dec, False), (nms_path, nms, True)):
        print("%s: %.2f MB, opset %d" % (os.path.relpath(path), os.path.getsize(path) / 1e6,
                                         m.opset_import[0].version))
        print("  " + check(m, plugin))
        hist = histogram(m)
        print("  ops (%d nodes): %s" % (sum(hist.values()),
                                        ", ".join("%s %d" % kv for kv in sorted(hist.items(), key=lambda kv: -kv[1]))))

    # Reference batch: uint8 RGB images (the float input is exactly float32(u8) / 255) and PyTorch outputs
    # of the fused model.
    images = [scenes.generate_scene(scenes.CHECK_SEED + i, s)[0] for i in range(args.ref_batch)]
    u8 = np.ascontiguousarray(np.stack(images).transpose(0, 3, 1, 2))
    xin = torch.from_numpy(u8).float() / 255.0
    with torch.no_grad():
        boxes, scores = Decoded(model)(xin)
        num, dboxes, dscores, dclasses = efficient_nms_reference(boxes, scores)
        # The export runs the BatchNorm-folded network with the decode written for the graph: both must
        # match the trained network and evaluate.py's decode.
        anc, strides = model.anchors()
        ref_boxes, ref_scores = decode(unfused(xin), anc, strides, model.num_classes)
    print("fused graph decode vs trained network + evaluate.decode: boxes %.2e px, scores %.2e" %
          ((boxes - ref_boxes).abs().max(), (scores - ref_scores).abs().max()))
    os.makedirs(args.ref_dir, exist_ok=True)
    refs = {"input_u8": u8, "boxes": boxes.numpy(), "scores": scores.numpy(),
            "num_detections": num.numpy(), "detection_boxes": dboxes.numpy(), "detection_scores": dscores.numpy(),
            "detection_classes": dclasses.numpy()}
    with open(os.path.join(args.ref_dir, "nms.json"), "w") as f:
        json.dump(NMS, f)
    total = 0
    for name, arr in refs.items():
        p = os.path.join(args.ref_dir, name + ".npy")
        np.save(p, arr)
        total += os.path.getsize(p)
    print("reference batch (%d images, seeds from %d) in %s: %.0f KB; detections per image %s" %
          (args.ref_batch, scenes.CHECK_SEED, os.path.relpath(args.ref_dir), total / 1e3, num.flatten().tolist()))


if __name__ == "__main__":
    main()
