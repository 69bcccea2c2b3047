#!/usr/bin/python3
"""One model test: export a torchvision model to ONNX, build and run it with rtexec, compare with PyTorch.

The export (scripts/models/export_torchvision.py) is cached in --work-dir under a key made of the
model name, batch, opset and the export script's own hash, so editing the script re-exports and
nothing else does. The engine is always rebuilt: building is part of what is tested.

Prints one summary line
  MODEL name rel_l2=... build_s=... run_s=...
where rel_l2 = ||out - ref|| / ||ref|| against PyTorch's float64 output, and exits
  0   rel_l2 <= --tol and every step worked
  1   a step failed or the output is wrong or off
  77  /usr/bin/python3 cannot import torch/torchvision, so nothing could be exported (CTest: skipped)
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time

SKIP = 77
FILES = ("{m}.onnx", "{m}.input.npy", "{m}.torch.npy", "{m}.torch64.npy")


class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def left(self, step):
        left = self.end - time.monotonic()
        if left <= 0:
            raise StepError("out of time before " + step)
        return left


class StepError(Exception):
    pass


def run_step(name, cmd, deadline):
    print("$ " + " ".join(cmd), flush=True)
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace", timeout=deadline.left(name))
    except subprocess.TimeoutExpired as e:
        out = e.output if isinstance(e.output, str) else (e.output or b"").decode("utf-8", "replace")
        print(out, end="")
        raise StepError("%s timed out after %.0f s" % (name, time.monotonic() - start))
    except OSError as e:
        raise StepError("%s could not start: %s" % (name, e))
    elapsed = time.monotonic() - start
    print(proc.stdout, end="" if proc.stdout.endswith("\n") or not proc.stdout else "\n")
    if proc.returncode != 0:
        raise StepError("%s failed with exit code %d after %.1f s" % (name, proc.returncode, elapsed))
    return elapsed


def cached_export(args, deadline):
    with open(args.export_script, "rb") as f:
        script_hash = hashlib.sha256(f.read()).hexdigest()
    key = hashlib.sha256(("%s|%d|%d|%s" % (args.model, args.batch, args.opset, script_hash)).encode()).hexdigest()[:16]
    cache_root = os.path.join(args.work_dir, "cache")
    cache_dir = os.path.join(cache_root, "%s-%s" % (args.model, key))
    paths = [os.path.join(cache_dir, f.format(m=args.model)) for f in FILES]
    if os.path.isfile(os.path.join(cache_dir, "complete")) and all(os.path.isfile(p) for p in paths):
        print("export: cached in " + cache_dir)
        return paths

    os.makedirs(cache_root, exist_ok=True)
    for entry in os.listdir(cache_root):
        if entry.startswith(args.model + "-") and entry != os.path.basename(cache_dir):
            shutil.rmtree(os.path.join(cache_root, entry), ignore_errors=True)
    # Export into a private folder and rename it into place, so an interrupted export is never reused.
    tmp_dir = "%s.tmp-%d" % (cache_dir, os.getpid())
    shutil.rmtree(tmp_dir, ignore_errors=True)
    run_step("export", [sys.executable, args.export_script, "--model", args.model, "--out-dir", tmp_dir,
                        "--batch", str(args.batch), "--opset", str(args.opset)], deadline)
    open(os.path.join(tmp_dir, "complete"), "w").close()
    shutil.rmtree(cache_dir, ignore_errors=True)
    os.rename(tmp_dir, cache_dir)
    return paths


def rel_l2(out, ref):
    import numpy as np

    return float(np.linalg.norm((out.astype(np.float64) - ref).ravel()) / np.linalg.norm(ref.ravel()))


def run(args):
    try:
        import torch  # noqa: F401  (only the export needs it, but without it nothing can be tested)
        import torchvision  # noqa: F401
    except ImportError as e:
        print("SKIP: %s cannot import the PyTorch stack (%s); install python3-torch and python3-torchvision"
              % (sys.executable, e))
        return SKIP
    import numpy as np

    deadline = Deadline(args.timeout)
    onnx_path, input_path, ref32_path, ref64_path = cached_export(args, deadline)

    model_dir = os.path.join(args.work_dir, args.model)
    engine_path = os.path.join(model_dir, args.model + ".engine")
    # Stale results must not pass for new ones.
    shutil.rmtree(model_dir, ignore_errors=True)
    os.makedirs(model_dir)

    # The export keeps the batch dim dynamic; build a 1..batch profile, as for deployment, run it at the
    # reference batch and then at batch 1, which must give the first row of the same answer.
    batch = str(args.batch)
    build_s = run_step("rtexec build", [args.rtexec, "build", "--onnx", onnx_path, "--out", engine_path,
                                        "--min-batch", "1", "--opt-batch", batch, "--max-batch", batch], deadline)
    ref64 = np.load(ref64_path)
    ref32 = np.load(ref32_path)
    out, run_s = run_engine(args, engine_path, input_path, os.path.join(model_dir, "out"), ref64.shape, deadline)

    err64 = rel_l2(out, ref64)
    err32 = rel_l2(out, ref32.astype(np.float64))
    max_abs = float(np.max(np.abs(out.astype(np.float64) - ref64)))
    top1 = float(np.mean(np.argmax(out, axis=1) == np.argmax(ref64, axis=1))) if out.ndim == 2 else float("nan")
    print("torch float32: rel_l2=%.3e (float32 vs float64 in torch: %.3e); max_abs=%.3e top1_agree=%.2f"
          % (err32, rel_l2(ref32, ref64), max_abs, top1))
    failed = []
    if not err64 <= args.tol:
        failed.append("rel_l2 %.3e exceeds the tolerance %.1e" % (err64, args.tol))

    if args.batch > 1:
        input1_path = os.path.join(model_dir, args.model + ".input1.npy")
        np.save(input1_path, np.load(input_path)[:1])
        out1, _ = run_engine(args, engine_path, input1_path, os.path.join(model_dir, "out1"), ref64[:1].shape,
                             deadline)
        err1 = rel_l2(out1, ref64[:1])
        print("batch 1 of the same engine: rel_l2=%.3e" % err1)
        if not err1 <= args.tol:
            failed.append("at batch 1, rel_l2 %.3e exceeds the tolerance %.1e" % (err1, args.tol))

    print("MODEL %s rel_l2=%.3e build_s=%.2f run_s=%.2f" % (args.model, err64, build_s, run_s), flush=True)
    for reason in failed:
        print("FAIL: %s: %s" % (args.model, reason))
    return 1 if failed else 0


def run_engine(args, engine_path, input_path, out_dir, expected_shape, deadline):
    import numpy as np

    os.makedirs(out_dir)
    run_s = run_step("rtexec run", [args.rtexec, "run", "--engine", engine_path, "--input", "input=" + input_path,
                                    "--output-dir", out_dir], deadline)
    out_path = os.path.join(out_dir, "output.npy")
    if not os.path.isfile(out_path):
        found = ", ".join(sorted(os.listdir(out_dir))) or "nothing"
        raise StepError("rtexec run wrote no output.npy (found: %s)" % found)
    out = np.load(out_path)
    if out.shape != expected_shape:
        raise StepError("output shape %s, PyTorch gives %s" % (out.shape, expected_shape))
    if out.dtype != np.float32:
        raise StepError("output dtype %s, expected float32" % out.dtype)
    if not np.all(np.isfinite(out)):
        raise StepError("output has %d non-finite values" % int(np.sum(~np.isfinite(out))))
    return out, run_s


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--rtexec", required=True, help="path to the rtexec executable")
    parser.add_argument("--export-script", required=True, help="path to scripts/models/export_torchvision.py")
    parser.add_argument("--work-dir", required=True, help="folder for the export cache, engine and outputs")
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--opset", type=int, default=17)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds for all steps together")
    args = parser.parse_args()
    try:
        return run(args)
    except StepError as e:
        print("FAIL: %s: %s" % (args.model, e), flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
