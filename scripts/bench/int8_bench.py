#!/usr/bin/env python3
"""INT8 against FP16 in rtinfer, on the GPU: calibration time, the rebuild from the calibration cache, and
throughput at one batch, for torchvision classifiers with random weights (speed does not need trained ones).

For each model: export to ONNX (dynamic batch), write --calib-count calibration images (PPM, smooth random
colour fields so that activations look like an image's), then
  1. rtexec build --fp16                                    the FP16 engine
  2. rtexec build --fp16 --int8 --calib DIR --calib-cache   INT8 with calibration, timed (the log's
                                                            "calibrated ... N samples, S s" line too)
  3. the same build again with only --calib-cache           must say "calibration skipped"
  4. rtexec bench of both at --batch                        p50 latency and images/s
and prints a table with the INT8/FP16 throughput ratio. Output agreement of the two engines on one batch
(relative L2 error and top-1 agreement) is printed as well, checked before anything is timed.

Usage: python3 scripts/bench/int8_bench.py --rtexec PATH [--models resnet50] [--batch 32] [--work DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import numpy as np


def export(name, work):
    import torch
    import torchvision
    path = os.path.join(work, name + ".onnx")
    if os.path.exists(path):
        return path
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    torch.onnx.export(model, torch.randn(1, 3, 224, 224), path, input_names=["input"], output_names=["output"],
                      opset_version=17, dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False)
    return path


def smooth_image(rng, size):
    """An image-like field: a few random colour blobs blurred over a gradient, uint8 HxWx3."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    img = np.stack([rng.random() * x + rng.random() * y for _ in range(3)], axis=-1)
    for _ in range(6):
        cy, cx, r = rng.random(), rng.random(), 0.05 + 0.2 * rng.random()
        blob = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
        img += blob[..., None] * rng.random(3)
    img += 0.05 * rng.standard_normal(img.shape)
    img = (img - img.min()) / (img.max() - img.min() + 1e-6)
    return (img * 255).astype(np.uint8)


def write_calibration(folder, count, size=224):
    if os.path.isdir(folder) and len(os.listdir(folder)) == count:
        return
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    for i in range(count):
        with open(os.path.join(folder, "img%04d.ppm" % i), "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (size, size) + smooth_image(rng, size).tobytes())


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed (%d): %s\n%s\n%s" % (p.returncode, " ".join(cmd), p.stdout[-3000:], p.stderr[-3000:]))
    return p


def bench(rtexec, engine, batch, iters):
    out = run([rtexec, "bench", "--engine", engine, "--batch", str(batch), "--iterations", str(iters),
               "--warmup", "10"]).stdout
    stats = json.loads(out.strip().splitlines()[-1])
    return stats["latency_ms"]["p50"]


def outputs(rtexec, engine, x_path, out_dir):
    run([rtexec, "run", "--engine", engine, "--input", "input=" + x_path, "--output-dir", out_dir])
    return np.load(os.path.join(out_dir, "output.npy"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rtexec", required=True)
    ap.add_argument("--models", nargs="*", default=["resnet50"])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--calib-count", type=int, default=500)
    ap.add_argument("--calibrator", default="entropy")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--work", default="int8-bench-work")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    calib = os.path.join(args.work, "calibration")
    t0 = time.time()
    write_calibration(calib, args.calib_count)
    print("calibration images: %d PPM files 224x224 in %.1f s" % (args.calib_count, time.time() - t0))
    rows = []
    for name in args.models:
        onnx = export(name, args.work)
        common = ["build", "--onnx", onnx, "--backend", "cuda", "--fp16", "--batch", str(args.batch)]
        fp16 = os.path.join(args.work, name + ".fp16.engine")
        int8 = os.path.join(args.work, name + ".int8.engine")
        again = os.path.join(args.work, name + ".int8-cached.engine")
        cache = os.path.join(args.work, name + ".calib")
        if os.path.exists(cache):
            os.remove(cache)
        run([args.rtexec] + common + ["--out", fp16])
        t0 = time.time()
        p = run([args.rtexec] + common + ["--out", int8, "--int8", "--calib", calib, "--calibrator", args.calibrator,
                                          "--calib-cache", cache])
        build_s = time.time() - t0
        m = re.search(r"calibrated (\d+) tensors \[#+\] (\d+)/(\d+) samples, ([0-9.]+) s", p.stderr)
        calib_s = float(m.group(4)) if m else float("nan")
        quantized = re.search(r"INT8: (\d+) layers quantized", p.stderr)
        t0 = time.time()
        p2 = run([args.rtexec] + common + ["--out", again, "--int8", "--calib-cache", cache])
        rebuild_s = time.time() - t0
        skipped = "calibration skipped" in p2.stderr and "calibrating" not in p2.stderr
        # Agreement before timing: one batch of image-like inputs.
        rng = np.random.default_rng(5)
        x = np.stack([smooth_image(rng, 224) for _ in range(args.batch)]).transpose(0, 3, 1, 2)
        x = np.ascontiguousarray(x, np.float32) / np.float32(255)
        x_path = os.path.join(args.work, "x.npy")
        np.save(x_path, x)
        y16 = outputs(args.rtexec, fp16, x_path, os.path.join(args.work, "o16"))
        y8 = outputs(args.rtexec, int8, x_path, os.path.join(args.work, "o8"))
        rel = float(np.linalg.norm(y8 - y16) / np.linalg.norm(y16))
        top1 = float((y8.argmax(1) == y16.argmax(1)).mean() * 100)
        p16 = bench(args.rtexec, fp16, args.batch, args.iterations)
        p8 = bench(args.rtexec, int8, args.batch, args.iterations)
        rows.append((name, args.batch, quantized.group(1) if quantized else "?", calib_s, build_s, rebuild_s,
                     skipped, rel, top1, p16, p8))
    print()
    print("| model | batch | layers int8 | calibration s (%d images) | INT8 build s | rebuild from cache s | "
          "calibration skipped | rel. L2 INT8 vs FP16 | top-1 agreement | FP16 p50 ms | INT8 p50 ms | "
          "INT8 img/s / FP16 img/s |" % args.calib_count)
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (name, b, q, cs, bs, rs, sk, rel, top1, p16, p8) in rows:
        print("| %s | %d | %s | %.1f | %.1f | %.1f | %s | %.3g | %.1f%% | %.3f | %.3f | %.2fx |" %
              (name, b, q, cs, bs, rs, "yes" if sk else "NO", rel, top1, p16, p8, p16 / p8))
    return 0


if __name__ == "__main__":
    sys.exit(main())
