#!/usr/bin/env python3
"""Benchmark: rtinfer against PyTorch on the same GPU, in the same run.

Exports torchvision resnet50, mobilenet_v2, efficientnet_b0 and vit_b_16 (seeded random weights) to ONNX,
builds rtinfer engines (FP32; FP16 where the SDK has it), times them with `rtexec bench`, times PyTorch
eager FP16 channels-last and PyTorch FP16 replayed from a CUDA graph, at batch 1 and 32, and prints a table
with latency, images/s, peak device memory, engine build time and the ratio of each PyTorch mode's latency to
rtinfer's (> 1 means rtinfer is faster).

Memory: for rtinfer the peak measured by `rtexec bench` (the fall in free device memory from before the first
context: weights, arenas, workspaces, library handles, kernels loaded on first use, the input and output
buffers); for PyTorch torch.cuda.max_memory_reserved() of the mode (the caching allocator's peak, which leaves
out cuDNN/cuBLAS handles and loaded kernels, so it favours PyTorch).

With --fp16, the FP16 builds also use a timing cache: the cold build writes it, a rebuild reads it; the
second table gives both build times and whether the two engine files are byte-identical.

    bench_vs_pytorch.py --rtexec build/sdk/rtexec/rtexec [--models ...] [--batches 1 32] [--work DIR]
"""
import argparse
import json
import os
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
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        results["eager_fp16_cl"] = (time_cuda(lambda: model(x), iters), torch.cuda.max_memory_reserved())
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            for _ in range(3):
                model(x)
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        with torch.cuda.graph(graph):
            model(x)
        results["graph_fp16"] = (time_cuda(graph.replay, iters), torch.cuda.max_memory_reserved())
    del model
    torch.cuda.empty_cache()
    return results


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def build(rtexec, onnx, engine, batch, extra):
    t0 = time.time()
    run([rtexec, "build", "--onnx", onnx, "--out", engine, "--backend", "cuda", "--min-batch", "1",
         "--opt-batch", str(batch), "--max-batch", "32"] + extra)
    return time.time() - t0


def rtinfer_mode(rtexec, onnx, engine, batch, iters, extra, cache_rows):
    cache = engine + ".timing-cache"
    use_cache = "--fp16" in extra
    if use_cache and os.path.exists(cache):
        os.remove(cache)
    cached = ["--timing-cache", cache] if use_cache else []
    build_s = build(rtexec, onnx, engine, batch, extra + cached)
    if use_cache:
        rebuilt = engine + ".rebuilt"
        rebuild_s = build(rtexec, onnx, rebuilt, batch, extra + cached)
        with open(engine, "rb") as a, open(rebuilt, "rb") as b:
            cache_rows.append((os.path.basename(engine), batch, build_s, rebuild_s, a.read() == b.read()))
    out = run([rtexec, "bench", "--engine", engine, "--batch", str(batch), "--iterations", str(iters), "--warmup", "10"])
    stats = json.loads(out.strip().splitlines()[-1])
    return stats["latency_ms"]["p50"], stats["peak_device_bytes"], build_s


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
    cache_rows = []
    for name in args.models:
        onnx = export(name, args.work)
        for batch in args.batches:
            pt = torch_modes(name, batch, args.iterations)
            modes = [("fp32", [])] + ([("fp16", ["--fp16"])] if args.fp16 else [])
            for label, extra in modes:
                engine = os.path.join(args.work, f"{name}.{label}.engine")
                try:
                    lat, mem, build_s = rtinfer_mode(args.rtexec, onnx, engine, batch, args.iterations, extra,
                                                        cache_rows)
                except subprocess.CalledProcessError as e:
                    print(f"{name} b{batch} {label}: rtexec failed: {e.stderr.strip()[-300:]}")
                    continue
                rows.append((name, batch, "rtinfer " + label, lat, batch * 1000.0 / lat, mem, build_s,
                             pt["eager_fp16_cl"][0] / lat, pt["graph_fp16"][0] / lat))
            for mode, (lat, mem) in pt.items():
                rows.append((name, batch, "torch " + mode, lat, batch * 1000.0 / lat, mem, None, None, None))
    header = f"{'model':16} {'batch':>5} {'mode':22} {'p50 ms':>9} {'img/s':>9} {'peak MiB':>8} {'build s':>8} {'eager/rt':>9} {'graph/rt':>9}"
    print(header)
    print("-" * len(header))
    for name, batch, mode, lat, ips, mem, build_s, r1, r2 in rows:
        f = lambda v, spec: format(v, spec) if v is not None else "-"
        print(f"{name:16} {batch:>5} {mode:22} {lat:9.3f} {ips:9.1f} {mem / 2**20:8.1f} {f(build_s, '8.2f'):>8} "
              f"{f(r1, '9.3f'):>9} {f(r2, '9.3f'):>9}")
    if cache_rows:
        print()
        print(f"{'engine':28} {'batch':>5} {'cold build s':>12} {'rebuild s':>10} {'identical':>9}")
        for engine, batch, cold, warm, same in cache_rows:
            print(f"{engine:28} {batch:>5} {cold:12.2f} {warm:10.2f} {'yes' if same else 'NO':>9}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
