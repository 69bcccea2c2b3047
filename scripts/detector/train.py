#!/usr/bin/env python3
"""Train the default detector on generated scenes, on the CPU (Debian's python3-torch).

Recipe (the defaults; README.md in models/detector records the run that produced the shipped model):
  * data: --scenes 16000 scenes of 160x160 px (scenes.py: 6 classes, circle / square / triangle / cross / star /
    ring, 1-8 objects of 12-80 px per scene, varied colours, shading, overlap and backgrounds) from TRAIN_SEED.. ,
    generated once by --workers processes and cached as .npz in --cache-dir (generation is ~10 ms a scene,
    so a cache keeps it out of the training loop); each sample gets one of the 8 symmetries of the square
    (quarter turns and mirrors; boxes transformed exactly). Validation: --val scenes from VAL_SEED.
  * model: model.Detector, widths 32/64/96/128, head width 48 (1.25 M parameters), input 160.
  * assignment: YOLOv8's task-aligned assigner (top-10 anchors per object by score^0.5 * CIoU^6 among anchors
    inside the object's box; an anchor claimed by several objects goes to the one it overlaps most); losses:
    BCE on classes against the normalised alignment metric, CIoU and DFL on boxes of the assigned anchors
    (gains 7.5 / 0.5 / 1.5).
  * optimisation: AdamW lr 3e-3, weight decay 5e-4, batch 16, linear warm-up, cosine decay to 5 %; EMA of the
    weights (decay 0.996), the EMA model is the one validated and saved.
  * budget: with --minutes, the schedule follows max(iteration fraction, elapsed-time fraction), so the learning
    rate reaches the end of its decay within the wall-time budget however busy the machine is.

Threads: one (--threads 1) is the fastest on a shared 2-core machine: with two, PyTorch's OpenMP threads wait
on each other whenever another process holds a core, and an iteration gets many times slower.

Usage: nice -n 10 /usr/bin/python3 scripts/detector/train.py --minutes 55
       then scripts/detector/export.py and scripts/detector/evaluate.py
"""
import argparse
import copy
import hashlib
import math
import multiprocessing
import os
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evaluate  # noqa: E402
import scenes  # noqa: E402
from model import REG_MAX, Detector, dfl_expectation, param_count  # noqa: E402


def _generate_chunk(args):
    seeds, size = args
    return [scenes.generate_scene(k, size) for k in seeds]


def scene_cache(count, seed, size, workers, cache_dir):
    """count scenes from seed upwards, generated once (workers processes) and kept in an .npz cache.

    Returns (images uint8 [N,S,S,3], boxes list of [n,4] float32, classes list of [n] int64). The cache key
    holds the generator's source hash, so editing scenes.py regenerates."""
    with open(scenes.__file__, "rb") as f:
        key = hashlib.sha256(f.read() + repr((count, seed, size, scenes.CLASS_NAMES)).encode()).hexdigest()[:16]
    path = os.path.join(cache_dir, "scenes_%d_%d_%d_%s.npz" % (count, seed, size, key)) if cache_dir else None
    if path and os.path.isfile(path):
        z = np.load(path)
        off = z["offsets"]
        boxes = [z["boxes"][off[i]:off[i + 1]] for i in range(count)]
        classes = [z["classes"][off[i]:off[i + 1]] for i in range(count)]
        print("scene cache: %d scenes from %s" % (count, path), flush=True)
        return z["images"], boxes, classes
    t0 = time.time()
    chunks = [(range(seed + i, seed + min(i + 250, count)), size) for i in range(0, count, 250)]
    if workers > 1:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_generate_chunk, chunks)
    else:
        parts = [_generate_chunk(c) for c in chunks]
    items = [x for part in parts for x in part]
    images = np.stack([x[0] for x in items])
    boxes = [x[1] for x in items]
    classes = [x[2] for x in items]
    print("scene cache: generated %d scenes (%d objects) in %.0f s" % (count, sum(len(c) for c in classes),
                                                                       time.time() - t0), flush=True)
    if path:
        os.makedirs(cache_dir, exist_ok=True)
        off = np.cumsum([0] + [len(c) for c in classes])
        tmp = path + ".tmp.npz"
        np.savez(tmp, images=images, boxes=np.concatenate(boxes).reshape(-1, 4),
                 classes=np.concatenate(classes).astype(np.int64), offsets=off)
        os.replace(tmp, path)
    return images, boxes, classes


def d4_transform(img, boxes, k):
    """One of the 8 symmetries of the square (k in 0..7: k % 4 quarter turns, then a mirror if k >= 4) applied
    to an image [S,S,3] and its x1y1x2y2 boxes. The shapes' classes do not change under any of them."""
    s = img.shape[0]
    b = boxes.copy()
    for _ in range(k % 4):
        # np.rot90 (counter-clockwise): new (x, y) = (y, S - x)
        img = np.rot90(img)
        b = np.stack((b[:, 1], s - b[:, 2], b[:, 3], s - b[:, 0]), 1)
    if k >= 4:
        img = img[:, ::-1]
        b = np.stack((s - b[:, 2], b[:, 1], s - b[:, 0], b[:, 3]), 1)
    return img, b


def sample_batch(cache, rng, batch, augment=True):
    images, boxes, classes = cache
    idx = rng.integers(0, len(images), batch)
    items = []
    for i in idx:
        img, b = images[i], boxes[i]
        if augment:
            img, b = d4_transform(img, b, int(rng.integers(0, 8)))
        items.append((img, b.astype(np.float32), classes[i]))
    return collate(items)


def collate(batch):
    """[(image uint8 [S,S,3], boxes [n,4], classes [n])] -> images [B,3,S,S], boxes/labels/mask padded to [B,M]."""
    imgs = evaluate.to_tensor([b[0] for b in batch])
    m = max(1, max(len(b[2]) for b in batch))
    boxes = torch.zeros(len(batch), m, 4)
    labels = torch.zeros(len(batch), m, dtype=torch.long)
    mask = torch.zeros(len(batch), m, dtype=torch.bool)
    for i, (_, b, c) in enumerate(batch):
        n = len(c)
        boxes[i, :n] = torch.from_numpy(np.ascontiguousarray(b))
        labels[i, :n] = torch.from_numpy(c)
        mask[i, :n] = True
    return imgs, boxes, labels, mask


def bbox_ciou(b1, b2, eps=1e-7):
    """CIoU of broadcastable x1y1x2y2 boxes."""
    w1, h1 = b1[..., 2] - b1[..., 0], b1[..., 3] - b1[..., 1] + eps
    w2, h2 = b2[..., 2] - b2[..., 0], b2[..., 3] - b2[..., 1] + eps
    inter = (torch.min(b1[..., 2], b2[..., 2]) - torch.max(b1[..., 0], b2[..., 0])).clamp(0) * \
            (torch.min(b1[..., 3], b2[..., 3]) - torch.max(b1[..., 1], b2[..., 1])).clamp(0)
    union = w1 * h1 + w2 * h2 - inter + eps
    iou = inter / union
    cw = torch.max(b1[..., 2], b2[..., 2]) - torch.min(b1[..., 0], b2[..., 0])
    ch = torch.max(b1[..., 3], b2[..., 3]) - torch.min(b1[..., 1], b2[..., 1])
    c2 = cw ** 2 + ch ** 2 + eps
    rho2 = ((b2[..., 0] + b2[..., 2] - b1[..., 0] - b1[..., 2]) ** 2 +
            (b2[..., 1] + b2[..., 3] - b1[..., 1] - b1[..., 3]) ** 2) / 4
    v = (4 / math.pi ** 2) * (torch.atan(w2 / h2) - torch.atan(w1 / h1)) ** 2
    with torch.no_grad():
        alpha = v / (v - iou + (1 + eps))
    return iou - (rho2 / c2 + v * alpha)


@torch.no_grad()
def assign(pd_scores, pd_boxes, anc, anc_strides, gt_labels, gt_boxes, gt_mask, topk=10, alpha=0.5, beta=6.0,
           eps=1e-9):
    """Task-aligned assignment. Returns target boxes [B,A,4], target scores [B,A,C], foreground mask [B,A]."""
    b, a, c = pd_scores.shape
    m = gt_boxes.shape[1]
    # Candidates: anchor centres inside the object's box. Boxes narrower than a stride are widened to one
    # stride so that small objects always get candidates on the finest level.
    pad = (anc_strides.view(1, 1, a, 1) - (gt_boxes[..., 2:] - gt_boxes[..., :2]).unsqueeze(2)).clamp(min=0) / 2
    lt = anc.view(1, 1, a, 2) - gt_boxes[:, :, None, :2] + pad
    rb = gt_boxes[:, :, None, 2:] - anc.view(1, 1, a, 2) + pad
    cand = (torch.cat((lt, rb), -1).amin(-1) > eps) & gt_mask[:, :, None]  # [B,M,A]
    score = pd_scores.gather(2, gt_labels[:, None, :].expand(b, a, m)).permute(0, 2, 1)  # [B,M,A]
    ious = bbox_ciou(gt_boxes[:, :, None, :], pd_boxes[:, None, :, :]).clamp(0) * cand
    metric = score.pow(alpha) * ious.pow(beta) * cand
    k = min(topk, a)
    top = torch.zeros_like(cand).scatter_(-1, metric.topk(k, -1).indices, True)
    pos = top & cand
    multi = pos.sum(1) > 1  # [B,A]
    if multi.any():
        best = F.one_hot(ious.argmax(1), m).permute(0, 2, 1).bool()
        pos = torch.where(multi[:, None, :], best & cand, pos)
    fg = pos.any(1)
    idx = pos.float().argmax(1)  # [B,A]
    t_labels = gt_labels.gather(1, idx)
    t_boxes = gt_boxes.gather(1, idx[..., None].expand(b, a, 4))
    metric = metric * pos
    norm = (metric * (ious * pos).amax(-1, keepdim=True) / (metric.amax(-1, keepdim=True) + eps)).amax(1)
    t_scores = F.one_hot(t_labels, c).float() * (norm * fg)[..., None]
    return t_boxes, t_scores, fg


def detection_loss(head, anc, anc_strides, gt_boxes, gt_labels, gt_mask, num_classes, gains=(7.5, 0.5, 1.5)):
    b, _, a = head.shape
    dist = head[:, :4 * REG_MAX].reshape(b, 4, REG_MAX, a).permute(0, 3, 1, 2)  # [B,A,4,R]
    cls = head[:, 4 * REG_MAX:].permute(0, 2, 1)  # [B,A,C]
    ltrb = dfl_expectation(dist) * anc_strides.view(1, a, 1)
    xy = anc.view(1, a, 2)
    pd_boxes = torch.cat((xy - ltrb[..., :2], xy + ltrb[..., 2:]), -1)
    t_boxes, t_scores, fg = assign(cls.detach().sigmoid(), pd_boxes.detach(), anc, anc_strides, gt_labels, gt_boxes,
                                   gt_mask)
    tss = t_scores.sum().clamp(min=1)
    l_cls = F.binary_cross_entropy_with_logits(cls, t_scores, reduction="sum") / tss
    l_box = head.new_zeros(())
    l_dfl = head.new_zeros(())
    if fg.any():
        w = t_scores.sum(-1)[fg]
        tb = t_boxes[fg]
        l_box = ((1 - bbox_ciou(pd_boxes[fg], tb)) * w).sum() / tss
        s = anc_strides.view(1, a, 1).expand(b, a, 1)[fg]
        p = xy.expand(b, a, 2)[fg]
        target = (torch.cat((p - tb[:, :2], tb[:, 2:] - p), -1) / s).clamp(0, REG_MAX - 1 - 0.01)
        left = target.long()
        wl = (left + 1).float() - target
        d = dist[fg].reshape(-1, REG_MAX)
        ce_l = F.cross_entropy(d, left.view(-1), reduction="none").view(-1, 4)
        ce_r = F.cross_entropy(d, (left + 1).view(-1), reduction="none").view(-1, 4)
        l_dfl = ((ce_l * wl + ce_r * (1 - wl)).mean(-1) * w).sum() / tss
    loss = gains[0] * l_box + gains[1] * l_cls + gains[2] * l_dfl
    return loss, torch.stack((l_box, l_cls, l_dfl)).detach()


class Ema:
    def __init__(self, model, decay=0.996, ramp=100.0):
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.decay, self.ramp, self.updates = decay, ramp, 0

    @torch.no_grad()
    def update(self, model):
        self.updates += 1
        d = self.decay * (1 - math.exp(-self.updates / self.ramp))
        src = model.state_dict()
        for k, v in self.model.state_dict().items():
            if v.dtype.is_floating_point:
                v.mul_(d).add_(src[k].detach(), alpha=1 - d)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--iters", type=int, default=500, help="iterations per epoch (validation after each)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--wd", type=float, default=5e-4)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--minutes", type=float, default=55, help="wall-time budget for the schedule (0: none)")
    ap.add_argument("--size", type=int, default=scenes.DEFAULT_SIZE, help="input size (training and export)")
    ap.add_argument("--widths", default="32,64,96,128", help="backbone widths at strides 4, 8, 16, 32")
    ap.add_argument("--head-width", type=int, default=48)
    ap.add_argument("--scenes", type=int, default=16000, help="training scenes, generated once and cached")
    ap.add_argument("--cache-dir", default=os.path.join(tempfile.gettempdir(), "rtinfer_detector_scenes"),
                    help="where the generated training scenes are kept ('' for nowhere)")
    ap.add_argument("--no-augment", action="store_true", help="no random flips / quarter turns")
    ap.add_argument("--val", type=int, default=150, help="validation images per epoch")
    ap.add_argument("--threads", type=int, default=1, help="PyTorch threads")
    ap.add_argument("--workers", type=int, default=2, help="processes generating the scene cache")
    ap.add_argument("--device", default="cpu", help="for experiments; the shipped model is trained on the CPU")
    ap.add_argument("--out", default=evaluate.DEFAULT_CKPT)
    ap.add_argument("--init", help="start from this checkpoint's weights (continue training with a new schedule)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    dev = torch.device(args.device)

    cfg = {"num_classes": scenes.NUM_CLASSES, "widths": [int(w) for w in args.widths.split(",")],
           "head_width": args.head_width, "input_size": args.size, "class_names": list(scenes.CLASS_NAMES),
           "reg_max": REG_MAX}
    model = Detector(cfg["num_classes"], tuple(cfg["widths"]), cfg["head_width"], args.size)
    prior_minutes, prior_its = 0.0, 0
    if args.init:
        init = torch.load(args.init, map_location="cpu")
        model.load_state_dict(init["model"])
        prior_minutes = init.get("train_minutes", 0.0)
        prior_its = init.get("iterations", 0)
        print("initialised from %s (%d iterations, %.1f min)" % (args.init, prior_its, prior_minutes), flush=True)
    model.to(dev)
    print("params: %d, config %s" % (param_count(model), cfg), flush=True)
    t_data = time.time()
    cache = scene_cache(args.scenes, scenes.TRAIN_SEED, args.size, args.workers, args.cache_dir)
    val = evaluate.make_set(args.val, scenes.VAL_SEED, args.size)
    t_data = time.time() - t_data
    ema = Ema(model)
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (decay if p.ndim > 1 else no_decay).append(p)
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0}],
                            lr=args.lr, betas=(0.9, 0.999))
    anc, anc_strides = (t.to(dev) for t in model.anchors(args.size))
    total = args.epochs * args.iters
    budget = args.minutes * 60
    t_start = time.time()
    t_val_total = 0.0
    it = 0
    done = False
    m = float("nan")
    history = []
    for epoch in range(args.epochs):
        model.train()
        sums = torch.zeros(3)
        n = 0
        t_ep = time.time()
        for _ in range(args.iters):
            progress = it / total
            if budget > 0:
                progress = max(progress, (time.time() - t_start) / budget)
            if progress >= 1:
                done = True
                break
            lr = args.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
            if it < args.warmup:
                lr *= (it + 1) / args.warmup
            for g in opt.param_groups:
                g["lr"] = lr
            imgs, boxes, labels, mask = (t.to(dev) for t in sample_batch(cache, rng, args.batch,
                                                                          not args.no_augment))
            loss, parts = detection_loss(model(imgs), anc, anc_strides, boxes, labels, mask, cfg["num_classes"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
            opt.step()
            ema.update(model)
            sums += parts.cpu()
            n += 1
            it += 1
            if it % 50 == 0:
                print("  it %4d  lr %.5f  loss %.3f (box %.3f cls %.3f dfl %.3f)  %.2fs/it" %
                      (it, lr, loss.item(), *parts.tolist(), (time.time() - t_ep) / n), flush=True)
        t_val = time.time()
        preds = evaluate.predict(ema.model, val[0])
        m, _ = evaluate.mean_ap(preds, val[1], val[2], cfg["num_classes"])
        t_val_total += time.time() - t_val
        avg = (sums / max(n, 1)).tolist()
        history.append((prior_its + it, round(m, 4)))
        print("epoch %d: %d its, loss box %.3f cls %.3f dfl %.3f | val mAP@0.5 %.4f (%d imgs, %.0fs) | "
              "elapsed %.1f min" % (epoch + 1, n, *avg, m, args.val, time.time() - t_val,
                                    (time.time() - t_start) / 60), flush=True)
        state = {k: v.cpu() for k, v in ema.model.state_dict().items()}
        ckpt = {"model": state, "config": cfg, "epoch": epoch + 1, "iterations": prior_its + it,
                "train_args": vars(args), "val_map50": m, "val_history": history,
                "train_minutes": prior_minutes + (time.time() - t_start) / 60, "data_minutes": t_data / 60}
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        torch.save(ckpt, args.out)
        if done:
            break
    print("finished: %d iterations, %d images, %.1f min training (of which %.1f min validation) + %.1f min data "
          "generation, last val mAP@0.5 %.4f" % (it, it * args.batch, (time.time() - t_start) / 60,
                                                t_val_total / 60, t_data / 60, m), flush=True)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
