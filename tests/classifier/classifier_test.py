#!/usr/bin/env python3
"""The shipped default classifier (models/classifier/classifier.onnx) through rtinfer's CPU backend, with rtexec.

NUM_IMAGES freshly generated images (scripts/classifier/shapes.py, seeds of the check range, disjoint from
training, validation and the held-out set) in one batch: the argmax of the logits must match the known class on
at least MIN_TOP1 of them, and every class must be predicted at least once. The model is the committed file:
nothing is trained or exported here. Needs only numpy.

Usage: classifier_test.py --rtexec PATH --work DIR     Exit 0 = pass, 1 = fail, 77 = skipped.
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
MODELS = os.path.join(ROOT, "models", "classifier")
SKIP = 77

# The shipped model's top-1 on these 200 images and on the 2,000-image held-out set is in
# models/classifier/README.md; the bar leaves room for a retrained model's luck but not for a broken one.
NUM_IMAGES = 200
MIN_TOP1 = 0.85


def rtexec_ok(rtexec, args):
    p = subprocess.run([rtexec] + args, capture_output=True, text=True, timeout=100)
    if p.returncode != 0:
        print("FAIL: %s exited with %d\n  stdout: %s\n  stderr: %s" %
              (" ".join([rtexec] + args), p.returncode, p.stdout[-2000:], p.stderr[-2000:]))
        sys.exit(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rtexec", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    try:
        import numpy as np
    except ImportError:
        print("SKIP: numpy is not installed for %s" % sys.executable)
        return SKIP
    sys.path.insert(0, os.path.join(ROOT, "scripts", "classifier"))
    import shapes
    rtexec = os.path.abspath(args.rtexec)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)

    with open(os.path.join(MODELS, "labels.txt")) as f:
        names = [line.strip() for line in f if line.strip()]
    if names != list(shapes.CLASS_NAMES):
        print("FAIL: labels.txt %s differs from the generator's classes %s" % (names, list(shapes.CLASS_NAMES)))
        return 1
    images, labels = shapes.make_set(NUM_IMAGES, shapes.CHECK_SEED)
    x = np.ascontiguousarray(images.transpose(0, 3, 1, 2)).astype(np.float32) / np.float32(255.0)
    engine = os.path.join(args.work, "classifier.engine")
    rtexec_ok(rtexec, ["build", "--onnx", os.path.join(MODELS, "classifier.onnx"), "--out", engine,
                       "--backend", "cpu", "--batch", str(NUM_IMAGES)])
    inp = os.path.join(args.work, "images.npy")
    np.save(inp, x)
    out_dir = os.path.join(args.work, "out")
    os.makedirs(out_dir)
    rtexec_ok(rtexec, ["run", "--engine", engine, "--input", "images=" + inp, "--output-dir", out_dir])
    logits = np.load(os.path.join(out_dir, "logits.npy"))
    if logits.shape != (NUM_IMAGES, len(names)) or not np.isfinite(logits).all():
        print("FAIL: logits have shape %s (expected %s) or are not all finite" %
              (logits.shape, (NUM_IMAGES, len(names))))
        return 1
    pred = logits.argmax(1)
    top1 = float((pred == labels).mean())
    per_class = ", ".join("%s %d/%d" % (n, int((pred[labels == c] == c).sum()), int((labels == c).sum()))
                          for c, n in enumerate(names))
    print("%d images (seeds %d..): top-1 %.3f (needed >= %.2f); per class: %s" %
          (NUM_IMAGES, shapes.CHECK_SEED, top1, MIN_TOP1, per_class))
    missing = [n for c, n in enumerate(names) if not (pred == c).any()]
    if missing:
        print("FAIL: never predicted: %s" % ", ".join(missing))
        return 1
    if top1 < MIN_TOP1:
        print("FAIL: top-1 %.3f is below %.2f" % (top1, MIN_TOP1))
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
