#!/usr/bin/env python3
"""Compares an rtinfer output (.npy) with a PyTorch reference (.npy): relative L2 error and top-1 agreement."""
import argparse
import sys

import numpy as np


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ref", required=True, help="reference output .npy (PyTorch)")
    parser.add_argument("--out", required=True, help="rtinfer output .npy")
    parser.add_argument("--max-rel-l2", type=float, default=1e-4)
    args = parser.parse_args()
    ref = np.load(args.ref).astype(np.float64)
    out = np.load(args.out).astype(np.float64)
    if ref.shape != out.shape:
        print(f"compare: shape {out.shape} differs from the reference {ref.shape}")
        return 1
    rel = float(np.linalg.norm(out - ref) / max(np.linalg.norm(ref), 1e-30))
    top1_ref = ref.reshape(ref.shape[0], -1).argmax(axis=1)
    top1_out = out.reshape(out.shape[0], -1).argmax(axis=1)
    agree = int((top1_ref == top1_out).sum())
    print(f"relative L2 error vs PyTorch: {rel:.3e} (limit {args.max_rel_l2:g})")
    print(f"top-1 class agreement: {agree}/{len(top1_ref)}; rtinfer top-1 per image: {top1_out.tolist()}")
    return 0 if rel <= args.max_rel_l2 else 1


if __name__ == "__main__":
    sys.exit(main())
