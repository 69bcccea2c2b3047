#!/usr/bin/env python3
"""Train the default classifier on generated shapes, on the CPU (Debian's python3-torch).

Recipe (the defaults; models/classifier/README.md records the run that produced the shipped model):
  * data: --samples images of 64x64 px (shapes.py: 10 classes, circle / square / triangle / cross / star / ring /
    hexagon / stripes / checker / dots, on varied backgrounds with clutter) from TRAIN_SEED.., generated once
    and cached as .npz in --cache-dir; each sample gets one of the 8 symmetries of the square (quarter turns
    and mirrors, under which every class stays itself). Validation: --val images from VAL_SEED.
  * model: model.Classifier, widths 32/64/128, blocks 1/1/2 (0.60 M parameters).
  * optimisation: AdamW lr 2e-3, weight decay 0.05 (not on BatchNorm and biases), batch 32, label smoothing 0.05,
    linear warm-up, cosine decay to 2 %.
  * budget: with --minutes, the schedule follows max(iteration fraction, elapsed-time fraction), so the learning
    rate reaches the end of its decay within the wall-time budget however busy the machine is.

Threads: one (--threads 1) is the fastest on a shared 2-core machine: with two, PyTorch's OpenMP threads wait on
each other whenever another process holds a core.

Usage: /usr/bin/python3 scripts/classifier/train.py --minutes 12
       then scripts/classifier/export.py and scripts/classifier/evaluate.py
"""
import argparse
import hashlib
import math
import os
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import shapes  # noqa: E402
from evaluate import DEFAULT_CKPT, nchw_float, predict_torch  # noqa: E402
from model import Classifier, param_count  # noqa: E402


def sample_cache(count, seed, size, cache_dir):
    """count samples from seed upwards, generated once and kept in an .npz cache keyed by the generator's
    source, so editing shapes.py regenerates."""
    with open(shapes.__file__, "rb") as f:
        key = hashlib.sha256(f.read() + repr((count, seed, size, shapes.CLASS_NAMES)).encode()).hexdigest()[:16]
    path = os.path.join(cache_dir, "shapes_%d_%d_%d_%s.npz" % (count, seed, size, key)) if cache_dir else None
    if path and os.path.isfile(path):
        z = np.load(path)
        print("sample cache: %d images from %s" % (count, path), flush=True)
        return z["images"], z["labels"]
    t0 = time.time()
    images, labels = shapes.make_set(count, seed, size)
    print("sample cache: generated %d images in %.0f s" % (count, time.time() - t0), flush=True)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        tmp = path + ".tmp.npz"
        np.savez(tmp, images=images, labels=labels)
        os.replace(tmp, path)
    return images, labels


def d4(images, rng):
    """One random symmetry of the square per image (k % 4 quarter turns, then a mirror if k >= 4)."""
    out = np.empty_like(images)
    for i, k in enumerate(rng.integers(0, 8, len(images))):
        im = np.rot90(images[i], int(k % 4))
        out[i] = im[:, ::-1] if k >= 4 else im
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--iters", type=int, default=5000, help="iteration limit (--minutes usually ends it first)")
    ap.add_argument("--minutes", type=float, default=12, help="wall-time budget for the schedule (0: none)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--smoothing", type=float, default=0.05)
    ap.add_argument("--size", type=int, default=shapes.DEFAULT_SIZE)
    ap.add_argument("--widths", default="32,64,128")
    ap.add_argument("--blocks", default="1,1,2")
    ap.add_argument("--samples", type=int, default=40000, help="training images, generated once and cached")
    ap.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "rtinfer_classifier_shapes"),
                    help="where the generated training images are kept ('' for nowhere)")
    ap.add_argument("--val", type=int, default=1000, help="validation images")
    ap.add_argument("--val-every", type=int, default=250, help="iterations between validations")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads")
    ap.add_argument("--out", default=DEFAULT_CKPT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    cfg = {"num_classes": shapes.NUM_CLASSES, "widths": [int(w) for w in args.widths.split(",")],
           "blocks": [int(b) for b in args.blocks.split(",")], "input_size": args.size,
           "class_names": list(shapes.CLASS_NAMES)}
    model = Classifier(cfg["num_classes"], tuple(cfg["widths"]), tuple(cfg["blocks"]))
    print("params: %d, config %s" % (param_count(model), cfg), flush=True)
    t_data = time.time()
    images, labels = sample_cache(args.samples, shapes.TRAIN_SEED, args.size, args.cache_dir)
    val_images, val_labels = shapes.make_set(args.val, shapes.VAL_SEED, args.size)
    t_data = time.time() - t_data
    decay, no_decay = [], []
    for p in model.parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
                            lr=args.lr)
    budget = args.minutes * 60
    t_start = time.time()
    t_val = 0.0
    history = []
    acc = float("nan")
    it = 0
    loss_sum, n = 0.0, 0
    while True:
        progress = it / args.iters
        if budget > 0:
            progress = max(progress, (time.time() - t_start) / budget)
        done = progress >= 1
        if not done:
            model.train()
            lr = args.lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
            if it < args.warmup:
                lr *= (it + 1) / args.warmup
            for g in opt.param_groups:
                g["lr"] = lr
            idx = rng.integers(0, len(images), args.batch)
            x = torch.from_numpy(nchw_float(d4(images[idx], rng)))
            y = torch.from_numpy(labels[idx])
            loss = F.cross_entropy(model(x), y, label_smoothing=args.smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item()
            n += 1
            it += 1
            if it % 50 == 0:
                print("  it %4d  lr %.5f  loss %.3f  %.2f s/it" % (it, lr, loss_sum / n,
                                                                  (time.time() - t_start - t_val) / it), flush=True)
                loss_sum, n = 0.0, 0
        # At the end, validate unless this very iteration already was.
        if (it % args.val_every == 0 and not done) or (done and (not history or history[-1][0] != it)):
            t0 = time.time()
            model.eval()
            acc = float((predict_torch(model, val_images) == val_labels).mean())
            t_val += time.time() - t0
            history.append((it, round(acc, 4)))
            print("it %d: val top-1 %.4f (%d images) | elapsed %.1f min" % (it, acc, args.val,
                                                                            (time.time() - t_start) / 60), flush=True)
            ckpt = {"model": {k: v.clone() for k, v in model.state_dict().items()}, "config": cfg, "iterations": it,
                    "train_args": vars(args), "val_top1": acc, "val_history": history,
                    "train_minutes": (time.time() - t_start) / 60, "data_minutes": t_data / 60}
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            torch.save(ckpt, args.out)
        if done:
            break
    print("finished: %d iterations, %d images, %.1f min training (of which %.1f min validation) + %.1f min data "
          "generation, val top-1 %.4f" % (it, it * args.batch, (time.time() - t_start) / 60, t_val / 60,
                                          t_data / 60, acc), flush=True)


if __name__ == "__main__":
    main()
