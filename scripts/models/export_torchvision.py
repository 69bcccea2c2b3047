#!/usr/bin/python3
"""Export a torchvision classifier to ONNX together with a reference input and PyTorch's outputs.

Writes into --out-dir:
  NAME.onnx          the model, input "input" and output "output", both with a dynamic batch axis
  NAME.input.npy     float32 input of shape (batch, 3, H, W), normal noise, fixed seed
  NAME.torch.npy     PyTorch's float32 output for that input
  NAME.torch64.npy   the same model run in float64: the oracle the model tests compare against

No weights are downloaded: the model is built with weights=None under a fixed seed. Default
initialisation leaves some layers trivial (BatchNorm statistics of 0/1, ViT's zero classifier head),
which would hide bugs in e.g. BatchNorm folding or give an all-zero output, so those are re-drawn
from a seeded generator. Everything is deterministic: the same arguments give the same files.

Run with Debian's interpreter, which carries python3-torch and python3-torchvision:
  /usr/bin/python3 scripts/models/export_torchvision.py --model resnet18 --out-dir /tmp/models
"""

import argparse
import collections
import os
import sys
import time
import warnings

import numpy as np
import torch
import torchvision

SEED = 20240601

# Input resolution per model; everything here is a 224x224 ImageNet classifier.
MODELS = {
    "resnet18": 224,
    "mobilenet_v2": 224,
    "efficientnet_b0": 224,
    "vit_b_16": 224,
}


def build_model(name):
    torch.manual_seed(SEED)
    model = getattr(torchvision.models, name)(weights=None)
    randomize_trivial_parameters(model)
    return model.eval()


def randomize_trivial_parameters(model):
    gen = torch.Generator().manual_seed(SEED + 1)

    def uniform(t, lo, hi):
        t.copy_(torch.rand(t.shape, generator=gen, dtype=t.dtype) * (hi - lo) + lo)

    def normal(t, std):
        t.copy_(torch.randn(t.shape, generator=gen, dtype=t.dtype) * std)

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                normal(module.running_mean, 0.1)
                uniform(module.running_var, 0.5, 1.5)
                if module.affine:
                    uniform(module.weight, 0.5, 1.5)
                    normal(module.bias, 0.1)
            elif isinstance(module, torch.nn.LayerNorm) and module.elementwise_affine:
                uniform(module.weight, 0.5, 1.5)
                normal(module.bias, 0.1)
            elif isinstance(module, torch.nn.Linear):
                if not module.weight.abs().sum():
                    normal(module.weight, 1.0 / module.in_features ** 0.5)
                if module.bias is not None and not module.bias.abs().sum():
                    normal(module.bias, 0.1)


def make_input(batch, size):
    gen = torch.Generator().manual_seed(SEED + 2)
    return torch.randn((batch, 3, size, size), generator=gen, dtype=torch.float32)


def op_histogram(graph, counts=None):
    counts = collections.Counter() if counts is None else counts
    for node in graph.node:
        counts[node.op_type if node.domain in ("", "ai.onnx") else node.domain + "." + node.op_type] += 1
        for attr in node.attribute:
            if attr.g.node:
                op_histogram(attr.g, counts)
            for sub in attr.graphs:
                op_histogram(sub, counts)
    return counts


def check_onnx(path):
    import onnx

    onnx.checker.check_model(path)
    model = onnx.load(path)
    counts = op_histogram(model.graph)
    opsets = ", ".join("%s:%d" % (o.domain or "ai.onnx", o.version) for o in model.opset_import)
    print("onnx check: ok (opset %s, %d nodes, %d initializers)"
          % (opsets, sum(counts.values()), len(model.graph.initializer)))
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    print("op histogram: " + ", ".join("%s=%d" % (op, n) for op, n in ordered))


def export(name, out_dir, batch, opset, check):
    if name not in MODELS:
        sys.exit("unknown model %r (known: %s)" % (name, ", ".join(sorted(MODELS))))
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

    model = build_model(name)
    x = make_input(batch, MODELS[name])
    onnx_path = os.path.join(out_dir, name + ".onnx")

    start = time.monotonic()
    # Grad stays enabled while tracing: under no_grad nn.MultiheadAttention takes its fused fast path,
    # which has no ONNX export.
    with warnings.catch_warnings():
        # The tracer warns about Python control flow on shapes; the exported graph is checked below.
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), onnx_path, opset_version=opset, input_names=["input"],
                          output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                          do_constant_folding=True)
    export_s = time.monotonic() - start

    with torch.no_grad():
        out32 = model(x).numpy()
        out64 = model.double()(x.double()).numpy()

    np.save(os.path.join(out_dir, name + ".input.npy"), x.numpy())
    np.save(os.path.join(out_dir, name + ".torch.npy"), out32)
    np.save(os.path.join(out_dir, name + ".torch64.npy"), out64)

    rel32 = np.linalg.norm(out32 - out64) / np.linalg.norm(out64)
    print("exported %s: %s (%.1f MB) in %.1f s, opset %d, input %s, output %s"
          % (name, onnx_path, os.path.getsize(onnx_path) / 1e6, export_s, opset, tuple(x.shape), out32.shape))
    print("torch float32 vs float64 rel_l2=%.3e, |output| rms=%.3e" % (rel32, np.sqrt(np.mean(out64 ** 2))))
    if check:
        check_onnx(onnx_path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=sorted(MODELS))
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--check", action="store_true", help="run onnx.checker and print the op histogram")
    args = parser.parse_args()
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    export(args.model, args.out_dir, args.batch, args.opset, args.check)


if __name__ == "__main__":
    main()
