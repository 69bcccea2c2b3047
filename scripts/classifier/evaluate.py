#!/usr/bin/env python3
"""Top-1 of the default classifier on a held-out generated set, through PyTorch and through rtinfer.

The held-out set: --count images from shapes.TEST_SEED (a seed range disjoint from training and validation).
PyTorch runs the trained network of --ckpt (the training checkpoint, which stays out of git). rtinfer builds
--onnx (the shipped classifier.onnx) with `rtexec build` for the CPU backend (--backend cpu cuda: both), runs it
with `rtexec run` on the same images written as .npy batches, and takes the argmax of its logits. The program
prints top-1 and per-class accuracy of each, and how many images the two predict alike; it exits with status 1
when rtinfer and PyTorch agree on fewer than --min-agree of the images.

--write-calib DIR --count N writes N generated images (seeds from shapes.CALIB_SEED, disjoint from everything
else) for INT8 calibration instead: DIR/calib_XXXXX.png (RGB) and DIR/calib_XXXXX.npy (float32 [1,3,S,S],
preprocessed as the model's input), plus DIR/labels.csv; then it exits.

Usage: /usr/bin/python3 scripts/classifier/evaluate.py [--count 2000] [--rtexec build/sdk/rtexec/rtexec]
       [--backend cpu cuda] [--onnx models/classifier/classifier.onnx] [--ckpt CHECKPOINT] [--no-rtinfer]
       [--no-torch]
       /usr/bin/python3 scripts/classifier/evaluate.py --write-calib DIR --count 500
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_CKPT = os.path.join(ROOT, "models", "classifier", "classifier.pt")
DEFAULT_ONNX = os.path.join(ROOT, "models", "classifier", "classifier.onnx")


def nchw_float(images):
    """uint8 [N,H,W,3] RGB -> float32 [N,3,H,W] pixel / 255, the model's input."""
    return np.ascontiguousarray(images.transpose(0, 3, 1, 2)).astype(np.float32) / np.float32(255.0)


def load_model(path):
    import torch
    from model import Classifier
    ckpt = torch.load(path, map_location="cpu")
    cfg = ckpt["config"]
    model = Classifier(cfg["num_classes"], tuple(cfg["widths"]), tuple(cfg["blocks"]))
    model.load_state_dict(ckpt["model"])
    return model.eval(), ckpt


def logits_torch(model, images, batch=250):
    import torch
    with torch.no_grad():
        return np.concatenate([model(torch.from_numpy(nchw_float(images[i:i + batch]))).numpy()
                               for i in range(0, len(images), batch)])


def predict_torch(model, images, batch=250):
    return logits_torch(model, images, batch).argmax(1)


def find_rtexec(explicit=None):
    for c in (explicit, os.environ.get("RTEXEC"), os.path.join(ROOT, "build", "sdk", "rtexec", "rtexec"),
              shutil.which("rtexec")):
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    raise SystemExit("rtexec not found: build the project (cmake --build build) or pass --rtexec")


def run_rtinfer(rtexec, onnx_path, images, batch, work_dir, backend="cpu", extra=()):
    """Builds onnx_path for rtinfer's backend (extra: more build flags, e.g. --int8) and runs it on images in
    batches of .npy files; returns the logits [N,C] and the build and run times."""
    os.makedirs(work_dir, exist_ok=True)
    engine = os.path.join(work_dir, "classifier.engine")
    t0 = time.time()
    subprocess.run([rtexec, "build", "--onnx", onnx_path, "--out", engine, "--backend", backend, "--min-batch", "1",
                    "--opt-batch", str(batch), "--max-batch", str(batch)] + list(extra), check=True,
                   stdout=subprocess.DEVNULL)
    t_build = time.time() - t0
    logits = []
    inp = os.path.join(work_dir, "images.npy")
    out_dir = os.path.join(work_dir, "out")
    os.makedirs(out_dir, exist_ok=True)
    for i in range(0, len(images), batch):
        np.save(inp, nchw_float(images[i:i + batch]))
        subprocess.run([rtexec, "run", "--engine", engine, "--input", "images=" + inp, "--output-dir", out_dir],
                       check=True, stdout=subprocess.DEVNULL)
        logits.append(np.load(os.path.join(out_dir, "logits.npy")))
    return np.concatenate(logits), t_build, time.time() - t0 - t_build


def write_calib(out_dir, count, seed, size):
    """Calibration images: PNG for tools that preprocess themselves, .npy already in the model's input format."""
    try:
        from PIL import Image
    except ImportError:
        Image = None
        from scenes import write_png  # shapes.py put scripts/detector on the path
    os.makedirs(out_dir, exist_ok=True)
    lines = ["file,class_id,class_name"]
    for i in range(count):
        img, cls = shapes.generate_sample(seed + i, size)
        png = os.path.join(out_dir, "calib_%05d.png" % i)
        if Image is not None:
            Image.fromarray(img).save(png)
        else:
            write_png(png, img)
        np.save(os.path.join(out_dir, "calib_%05d.npy" % i), nchw_float(img[None]))
        lines.append("calib_%05d.png,%d,%s" % (i, cls, shapes.CLASS_NAMES[cls]))
    with open(os.path.join(out_dir, "labels.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d calibration images (seeds %d..%d; .png and float32 [1,3,%d,%d] .npy) to %s" %
          (count, seed, seed + count - 1, size, size, out_dir))


def report(title, pred, labels):
    per_class = ["%s %.3f" % (n, (pred[labels == c] == c).mean()) for c, n in enumerate(shapes.CLASS_NAMES)]
    top1 = float((pred == labels).mean())
    print("%-34s top-1 %.4f  (%s)" % (title, top1, ", ".join(per_class)))
    return top1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx", default=DEFAULT_ONNX)
    ap.add_argument("--ckpt", default=DEFAULT_CKPT, help="the training checkpoint PyTorch runs")
    ap.add_argument("--count", type=int, default=2000, help="held-out images (or calibration images)")
    ap.add_argument("--seed", type=int, help="first seed (default: shapes.TEST_SEED, or CALIB_SEED)")
    ap.add_argument("--size", type=int, default=shapes.DEFAULT_SIZE)
    ap.add_argument("--write-calib", metavar="DIR", help="write --count calibration images to DIR and exit")
    ap.add_argument("--rtexec", help="the rtexec binary (default: build/sdk/rtexec/rtexec, $RTEXEC, PATH)")
    ap.add_argument("--backend", nargs="+", default=["cpu"], choices=["cpu", "cuda"])
    ap.add_argument("--batch", type=int, default=250, help="images per rtexec run")
    ap.add_argument("--work-dir", help="where the engine and the .npy batches go (default: a temporary folder)")
    ap.add_argument("--no-rtinfer", action="store_true", help="PyTorch only")
    ap.add_argument("--no-torch", action="store_true", help="rtinfer only (no checkpoint needed)")
    ap.add_argument("--min-agree", type=float, default=0.999, help="fraction of images predicted alike")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--int8", action="store_true",
                    help="also build INT8 engines, calibrated on --calib-count images of the calibration seeds")
    ap.add_argument("--calib-count", type=int, default=500)
    ap.add_argument("--calibrator", default="entropy")
    ap.add_argument("--max-int8-drop", type=float, default=1.0, help="allowed rtinfer float - INT8, top-1 points")
    args = ap.parse_args()
    if args.write_calib:
        write_calib(args.write_calib, args.count, shapes.CALIB_SEED if args.seed is None else args.seed, args.size)
        return 0
    seed = shapes.TEST_SEED if args.seed is None else args.seed
    t0 = time.time()
    images, labels = shapes.make_set(args.count, seed, args.size)
    print("held-out set: %d images (seeds %d..%d), %s images per class; generated in %.1f s" %
          (args.count, seed, seed + args.count - 1, np.bincount(labels, minlength=shapes.NUM_CLASSES).tolist(),
           time.time() - t0))
    results = {"count": args.count, "seed": seed}
    pt = None
    if not args.no_torch:
        import torch
        torch.set_num_threads(1)
        model, _ = load_model(args.ckpt)
        t0 = time.time()
        pt_logits = logits_torch(model, images)
        pt = pt_logits.argmax(1)
        results["torch_top1"] = report("PyTorch (%s)" % os.path.basename(args.ckpt), pt, labels)
        print("  (PyTorch: %.1f s)" % (time.time() - t0))
    ok = True
    if not args.no_rtinfer:
        rtexec = find_rtexec(args.rtexec)
        for backend in args.backend:
            with tempfile.TemporaryDirectory(prefix="classifier_eval_") as tmp:
                logits, t_build, t_run = run_rtinfer(rtexec, args.onnx, images, args.batch,
                                                     os.path.join(args.work_dir or tmp, backend), backend)
            rt = logits.argmax(1)
            results[backend + "_top1"] = report("rtinfer %s (%s)" % (backend.upper(), os.path.basename(args.onnx)),
                                                rt, labels)
            print("  (rtinfer: build %.1f s, %d runs %.1f s)" % (t_build, (args.count + args.batch - 1) // args.batch,
                                                                  t_run))
            if args.int8:
                with tempfile.TemporaryDirectory(prefix="classifier_int8_") as tmp:
                    calib = os.path.join(tmp, "calibration")
                    write_calib(calib, args.calib_count, shapes.CALIB_SEED, args.size)
                    extra = ["--int8", "--calib", calib, "--calibrator", args.calibrator]
                    # On CUDA the int8 convolutions run in float16 engines (channels-last); see docs/int8.md.
                    extra += ["--fp16"] if backend == "cuda" else []
                    q_logits, q_build, q_run = run_rtinfer(rtexec, args.onnx, images, args.batch,
                                                           os.path.join(tmp, backend + "-int8"), backend, extra)
                q = q_logits.argmax(1)
                results[backend + "_int8_top1"] = report("rtinfer %s INT8 (%s, %d images)" % (
                    backend.upper(), args.calibrator, args.calib_count), q, labels)
                print("  (rtinfer INT8: build with calibration %.1f s, %d runs %.1f s)" %
                      (q_build, (args.count + args.batch - 1) // args.batch, q_run))
                drop = 100 * (results[backend + "_top1"] - results[backend + "_int8_top1"])
                within = drop <= args.max_int8_drop
                ok = ok and within
                print("rtinfer %s float - INT8: %+.2f top-1 points (allowed %.1f), predictions alike on %.2f %%: %s" %
                      (backend.upper(), drop, args.max_int8_drop, 100 * float((q == rt).mean()),
                       "OK" if within else "FAIL"))
            if pt is not None:
                agree = float((rt == pt).mean())
                results[backend + "_agree"] = agree
                results[backend + "_max_logit_diff"] = float(np.abs(logits - pt_logits).max())
                good = agree >= args.min_agree
                ok = ok and good
                print("rtinfer %s and PyTorch predict alike on %d of %d images (%.2f %%, needed %.2f %%): %s; "
                      "max |logit difference| %.2e" % (backend.upper(), int((rt == pt).sum()), args.count, 100 * agree,
                                                        100 * args.min_agree, "OK" if good else "FAIL",
                                                        results[backend + "_max_logit_diff"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
