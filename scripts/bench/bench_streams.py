#!/usr/bin/env python3
"""Multi-stream benchmark: how many camera streams one GPU carries through the default detector with the rtinfer
GStreamer element, next to a PyTorch loop doing the same work.

For each stream count N (--streams, default 1,2,4,8,16,32,64), rtinfer_multistream (samples/multistream) runs
one pipeline of N test:// streams (--width x --height, default 1920 x 1080, NV12; a solid colour, which costs
the source nearly nothing) into N rtinfer elements sharing one engine:
  - live at --fps (30): does every stream keep its rate ("holds 30 fps": the slowest stream reaches 97 % of it),
    and rtinfer's latency p50 / p99 (a frame entering rtinfer to leaving it, batching wait included);
  - not live: the sources push frames as fast as the pipeline takes them, for the maximum throughput.
While each run lasts, a thread polls nvidia-smi for the peak GPU memory: the process's own use where
nvidia-smi lists it (--query-compute-apps), else the rise of the device's used memory over its level before
the run. Without nvidia-smi the column says n/a.

With --frames-dir the streams show rendered scenes instead (frame:// sources: one raw frame per stream, repeated
by imagefreeze at no cost per frame), the same kind of frames the PyTorch loop uses.

Then scripts/bench/torch_stream_loop.py (with --torch-python) runs the same stream counts: one batch of N frames
at a time, pre-processing, the detector in FP16 and NMS on the GPU, on rendered scenes with objects (without
--frames-dir rtinfer's frames are plain, so its NMS has less to do). The ratio column is rtinfer's not-live
throughput over PyTorch's frames/s (> 1: rtinfer is faster).

Prints a Markdown table; --json-out FILE keeps every figure.

    bench_streams.py --multistream build/samples/multistream/rtinfer_multistream
    bench_streams.py --multistream ... --streams 1,2 --seconds 3 --width 320 --height 240 --torch-device cpu
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_CONFIG = os.path.join(ROOT, "models", "detector", "detector.yml")
TORCH_LOOP = os.path.join(HERE, "torch_stream_loop.py")
HOLDS_FRACTION = 0.97  # a window of S seconds at F fps can end a frame short of S * F


class GpuMemoryPoller:
    """Peak GPU memory (MiB) of a process while it runs, polled from nvidia-smi in a thread."""

    def __init__(self, interval=0.2):
        self.interval = interval
        self.smi = shutil.which("nvidia-smi")
        self.peak_process = None
        self.peak_device = None
        self.baseline = None
        self._stop = threading.Event()
        self._thread = None
        self.pid = None

    def _query(self, args):
        try:
            out = subprocess.run([self.smi] + args + ["--format=csv,noheader,nounits"], capture_output=True,
                                 text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if out.returncode != 0:
            return None
        return [line.split(",") for line in out.stdout.strip().splitlines() if line.strip()]

    def _device_used(self):
        rows = self._query(["--query-gpu=memory.used"])
        try:
            return sum(float(r[0]) for r in rows) if rows else None
        except ValueError:
            return None

    def _process_used(self):
        rows = self._query(["--query-compute-apps=pid,used_memory"])
        if rows is None:
            return None
        used = None
        for r in rows:
            try:
                if int(r[0]) == self.pid:
                    used = (used or 0.0) + float(r[1])
            except (ValueError, IndexError):
                continue
        return used

    def start(self, pid):
        if self.smi is None:
            return
        self.pid = pid
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def measure_baseline(self):
        if self.smi is not None:
            self.baseline = self._device_used()

    def _run(self):
        while not self._stop.is_set():
            p = self._process_used()
            if p is not None:
                self.peak_process = max(self.peak_process or 0.0, p)
            d = self._device_used()
            if d is not None:
                self.peak_device = max(self.peak_device or 0.0, d)
            self._stop.wait(self.interval)

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def result(self):
        """(MiB, how it was measured) or (None, why not)."""
        if self.smi is None:
            return None, "no nvidia-smi"
        if self.peak_process:
            return self.peak_process, "process"
        if self.peak_device is not None and self.baseline is not None:
            return max(0.0, self.peak_device - self.baseline), "device rise"
        return None, "nvidia-smi gave no figures"


def run_multistream(args, n, live):
    cmd = [args.multistream, "--config", args.config, "--seconds", str(args.seconds), "--warmup", str(args.warmup),
           "--width", str(args.width), "--height", str(args.height), "--fps", str(args.fps), "--format", args.format,
           "--json"]
    if not live:
        cmd.append("--not-live")
    if args.max_latency is not None:
        cmd += ["--max-latency", str(args.max_latency)]
    if args.preprocess:
        cmd += ["--preprocess", args.preprocess]
    if args.frames_dir:
        frames = sorted(os.path.join(args.frames_dir, f) for f in os.listdir(args.frames_dir) if f.endswith(".raw"))
        cmd += ["frame://" + os.path.abspath(frames[i % len(frames)]) for i in range(n)]
    else:
        cmd += ["test://"] * n
    poller = GpuMemoryPoller()
    poller.measure_baseline()
    try:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except OSError as e:
        return {"error": "cannot run %s: %s" % (args.multistream, e.strerror)}
    poller.start(proc.pid)
    try:
        out, err = proc.communicate(timeout=args.seconds + args.warmup + args.start_timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        poller.stop()
        return {"error": "no result after %d s" % (args.seconds + args.warmup + args.start_timeout)}
    poller.stop()
    mib, how = poller.result()
    if proc.returncode != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        return {"error": lines[-1] if lines else "exit %d" % proc.returncode}
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": "no JSON line from rtinfer_multistream: %r" % out[-200:]}
    result["gpu_mib"] = mib
    result["gpu_mib_from"] = how
    return result


def run_torch(args, counts):
    """{N: result} from torch_stream_loop.py, or {} with a message on stderr when it fails."""
    cmd = [args.torch_python, TORCH_LOOP, "--streams", ",".join(str(n) for n in counts), "--seconds",
           str(args.seconds), "--width", str(args.width), "--height", str(args.height), "--format", args.format,
           "--device", args.torch_device]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=len(counts) * (args.seconds + args.start_timeout) + args.start_timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("bench_streams.py: PyTorch loop: %s" % e, file=sys.stderr)
        return {}
    results = {}
    for line in proc.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        results[r["streams"]] = r
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        print("bench_streams.py: PyTorch loop exited with %d: %s" % (proc.returncode, lines[-1] if lines else ""),
              file=sys.stderr)
    return results


def fmt(value, digits=1):
    return "n/a" if value is None else "%.*f" % (digits, value)


def table(rows, fps_target):
    head = ["N", "rtinfer fps (live)", "min stream fps", "holds %g fps" % fps_target, "p50 / p99 ms",
            "max fps (not live)", "mean batch", "GPU MiB", "PyTorch fps", "ratio"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        live, thr, torch = row["live"], row["throughput"], row["torch"]
        cells = [str(row["streams"])]
        if "error" in live:
            cells += ["failed: %s" % live["error"], "", "", ""]
        else:
            holds = live["min_stream_fps"] >= HOLDS_FRACTION * fps_target
            cells += [fmt(live["fps"]), fmt(live["min_stream_fps"]), "yes" if holds else "no",
                      "%s / %s" % (fmt(live["latency_ms_p50"]), fmt(live["latency_ms_p99"]))]
        if thr is None:
            cells += ["", ""]
        elif "error" in thr:
            cells += ["failed: %s" % thr["error"], ""]
        else:
            cells += [fmt(thr["fps"]), fmt(thr["mean_batch"], 2)]
        mibs = [r.get("gpu_mib") for r in (live, thr) if r and r.get("gpu_mib") is not None]
        cells.append(fmt(max(mibs), 0) if mibs else "n/a")
        cells.append(fmt(torch["fps"]) if torch else "n/a")
        best = thr if thr and "error" not in thr else (live if "error" not in live else None)
        cells.append(fmt(best["fps"] / torch["fps"], 2) if best and torch and torch["fps"] > 0 else "n/a")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


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
    ap.add_argument("--multistream", required=True, help="the rtinfer_multistream program")
    ap.add_argument("--config", default=DEFAULT_CONFIG, help="model.yml (default: the default detector)")
    ap.add_argument("--streams", type=stream_counts, default=[1, 2, 4, 8, 16, 32, 64],
                    help="stream counts, comma-separated (default 1,2,4,8,16,32,64)")
    ap.add_argument("--seconds", type=float, default=10.0, help="measured seconds per run (default 10)")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds at the start of each run (default 2)")
    ap.add_argument("--width", type=int, default=1920)
    ap.add_argument("--height", type=int, default=1080)
    ap.add_argument("--fps", type=int, default=30, help="rate of the live streams (default 30)")
    ap.add_argument("--format", choices=("NV12", "RGB"), default="NV12")
    ap.add_argument("--max-latency", type=int, help="rtinfer's batching wait, microseconds (element default 20000)")
    ap.add_argument("--preprocess", choices=("auto", "cpu", "gpu"), help="rtinfer's pre-processing (default auto)")
    ap.add_argument("--no-throughput", action="store_true", help="leave out the not-live runs")
    ap.add_argument("--no-torch", action="store_true", help="leave out the PyTorch loop")
    ap.add_argument("--frames-dir", help="raw frames (*.raw, --format, --width x --height) that the streams show "
                    "instead of a solid colour: stream i shows frame i mod their count (frame:// sources)")
    ap.add_argument("--torch-python", default="python3", help="the Python with PyTorch (default python3)")
    ap.add_argument("--torch-device", default="cuda", help="device of the PyTorch loop (default cuda; cpu: smoke run)")
    ap.add_argument("--start-timeout", type=float, default=600.0,
                    help="seconds a run may take beyond its measured time (engine builds; default 600)")
    ap.add_argument("--json-out", help="write every figure to this JSON file")
    args = ap.parse_args(argv)
    if args.seconds <= 0 or args.warmup < 0 or args.fps <= 0:
        ap.error("--seconds and --fps must be positive, --warmup not negative")
    if not os.access(args.multistream, os.X_OK):
        ap.error("--multistream %s: not an executable file" % args.multistream)

    rows = []
    for n in args.streams:
        print("%d streams: live at %d fps ..." % (n, args.fps), file=sys.stderr, flush=True)
        live = run_multistream(args, n, live=True)
        thr = None
        if not args.no_throughput and "error" not in live:
            print("%d streams: not live ..." % n, file=sys.stderr, flush=True)
            thr = run_multistream(args, n, live=False)
        for name, r in (("live", live), ("not live", thr)):
            if r and "error" in r:
                print("%d streams, %s: %s" % (n, name, r["error"]), file=sys.stderr)
        rows.append({"streams": n, "live": live, "throughput": thr, "torch": None})
    if not args.no_torch:
        print("PyTorch loop: %s streams ..." % ",".join(map(str, args.streams)), file=sys.stderr, flush=True)
        torch = run_torch(args, args.streams)
        for row in rows:
            row["torch"] = torch.get(row["streams"])

    some = next((r[k] for r in rows for k in ("live", "throughput") if r[k] and "error" not in r[k]), None)
    if some:
        print("rtinfer: %s, batch size %d, %dx%d %s test streams; GPU memory from %s" % (
            os.path.relpath(args.config), some["batch_size"], args.width, args.height, args.format,
            some.get("gpu_mib_from")))
    torch_any = next((r["torch"] for r in rows if r["torch"]), None)
    if torch_any:
        print("PyTorch: %s on %s, %s model, %s NMS" % (torch_any["torch"], torch_any["device"],
                                                       torch_any["model_dtype"], torch_any["nms"]))
    print()
    print(table(rows, args.fps))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"args": {k: v for k, v in vars(args).items()}, "rows": rows}, f, indent=1)
    failed = any("error" in r["live"] or (r["throughput"] and "error" in r["throughput"]) for r in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
