#!/usr/bin/env python3
"""Benchmark: rtinfer against PyTorch on the same GPU, in the same run.

Exports torchvision resnet50, mobilenet_v2, efficientnet_b0 and vit_b_16 (seeded random weights) to ONNX,
builds rtinfer engines (FP32; FP16 where the SDK has it), times them with `rtexec bench`, times PyTorch
eager FP16 channels-last and PyTorch FP16 replayed from a CUDA graph, at batch 1 and 32, and prints a table
with latency, images/s, memory, engine build time and the ratio of each PyTorch mode's latency to rtinfer's
(> 1 means rtinfer is faster).

    bench_vs_pytorch.py --rtexec build/sdk/rtexec/rtexec [--models ...] [--batches 1 32] [--work DIR]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

import torch
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
EXPORT = os.path.join(HERE, "..", "models", "export_torchvision.py")
MODELS = ["resnet50", "mobilenet_v2", "efficientnet_b0", "vit_b_16"]


def make_model(name):
    torch.manual_seed(0)
    return getattr(torchvision.models, name)(weights=None).eval().cuda()


def export(name, work):
    path = os.path.join(work, name + ".onnx")
    if os.path.exists(path):
        return path
    model = make_model(name).cpu()
    x = torch.randn(1, 3, 224, 224)
    torch.onnx.export(model, x, path, input_names=["input"], output_names=["output"], opset_version=17,
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False)
    return path


def time_cuda(fn, iters, warmup=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    times.sort()
    return times[len(times) // 2]


def torch_modes(name, batch, iters):
    model = make_model(name).half().to(memory_format=torch.channels_last)
    x = torch.randn(batch, 3, 224, 224, device="cuda").half().to(memory_format=torch.channels_last)
    results = {}
    with torch.inference_mode():
        torch.cuda.reset_peak_memory_stats()
        results["eager_fp16_cl"] = (time_cuda(lambda: model(x), iters), torch.cuda.max_memory_allocated())
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                model(x)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        torch.cuda.reset_peak_memory_stats()
        with torch.cuda.graph(graph):
            model(x)
        results["graph_fp16"] = (time_cuda(graph.replay, iters), torch.cuda.max_memory_allocated())
    del model
    torch.cuda.empty_cache()
    return results


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def rtinfer_mode(rtexec, onnx, engine, batch, iters, extra):
    t0 = time.time()
    run([rtexec, "build", "--onnx", onnx, "--out", engine, "--backend", "cuda", "--min-batch", "1",
         "--opt-batch", str(batch), "--max-batch", "32"] + extra)
    build_s = time.time() - t0
    out = run([rtexec, "bench", "--engine", engine, "--batch", str(batch), "--iterations", str(iters), "--warmup", "10"])
    stats = json.loads(out.strip().splitlines()[-1])
    info = run([rtexec, "inspect", "--engine", engine])
    mem = 0
    for key in ("weights", "activations", "workspace"):
        m = re.search(r"%s:\s.*\((\d+) bytes\)" % key, info)
        mem += int(m.group(1)) if m else 0
    return stats["latency_ms"]["p50"], mem, build_s


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rtexec", required=True)
    parser.add_argument("--models", nargs="*", default=MODELS)
    parser.add_argument("--batches", nargs="*", type=int, default=[1, 32])
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--work", default="bench-work")
    parser.add_argument("--fp16", action="store_true", help="also build rtinfer FP16 engines")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    print(f"device: {torch.cuda.get_device_name()}; torch {torch.__version__}; date {time.strftime('%Y-%m-%d')}")
    rows = []
    for name in args.models:
        onnx = export(name, args.work)
        for batch in args.batches:
            pt = torch_modes(name, batch, args.iterations)
            modes = [("fp32", [])] + ([("fp16", ["--fp16"])] if args.fp16 else [])
            for label, extra in modes:
                engine = os.path.join(args.work, f"{name}.{label}.engine")
                try:
                    lat, mem, build_s = rtinfer_mode(args.rtexec, onnx, engine, batch, args.iterations, extra)
                except subprocess.CalledProcessError as e:
                    print(f"{name} b{batch} {label}: rtexec failed: {e.stderr.strip()[-300:]}")
                    continue
                rows.append((name, batch, "rtinfer " + label, lat, batch * 1000.0 / lat, mem, build_s,
                             pt["eager_fp16_cl"][0] / lat, pt["graph_fp16"][0] / lat))
            for mode, (lat, mem) in pt.items():
                rows.append((name, batch, "torch " + mode, lat, batch * 1000.0 / lat, mem, None, None, None))
    header = f"{'model':16} {'batch':>5} {'mode':22} {'p50 ms':>9} {'img/s':>9} {'mem MiB':>8} {'build s':>8} {'eager/rt':>9} {'graph/rt':>9}"
    print(header)
    print("-" * len(header))
    for name, batch, mode, lat, ips, mem, build_s, r1, r2 in rows:
        f = lambda v, spec: format(v, spec) if v is not None else "-"
        print(f"{name:16} {batch:>5} {mode:22} {lat:9.3f} {ips:9.1f} {mem / 2**20:8.1f} {f(build_s, '8.2f'):>8} "
              f"{f(r1, '9.3f'):>9} {f(r2, '9.3f'):>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
