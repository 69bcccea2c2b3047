#!/usr/bin/env python3
"""A small YOLOv8-style anchor-free detector (PyTorch).

Backbone: a Conv-BN-SiLU patchify stem (stride 4) and Conv + C2f stages down to strides 8/16/32, SPPF at the end.
Neck: a light PAN (nearest upsample + concat top-down, strided conv + concat bottom-up).
Head: decoupled per level; the box branch predicts 4 x REG_MAX distribution logits (DFL), the class
branch one logit per class.

forward(x) returns the raw head tensor [B, 4*REG_MAX + C, A] in the YOLOv8 layout (DFL logits, then class
logits; anchors concatenated over strides 8, 16, 32, each level row-major). decode() turns it into
boxes [B, A, 4] (x1, y1, x2, y2 in input pixels) and sigmoid scores [B, A, C].

Only ops the rtinfer CPU reference runs appear in the export: Conv, Sigmoid, Mul, Add, Concat, Split,
MaxPool, Resize (nearest), Reshape, Transpose, Softmax, Sub, MatMul. BatchNorm is folded into the convs
before export (fuse()).
"""
import torch
import torch.nn as nn

REG_MAX = 16
STRIDES = (8, 16, 32)
DEFAULT_INPUT = 160


class ConvBnAct(nn.Module):
    def __init__(self, c1, c2, k=1, s=1, p=None):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2 if p is None else p, bias=False)
        self.bn = nn.BatchNorm2d(c2, eps=1e-3, momentum=0.03)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))

    def fuse(self):
        """Fold the BatchNorm into the conv (eval statistics) so the export has no BatchNormalization."""
        w = self.conv.weight
        scale = self.bn.weight / torch.sqrt(self.bn.running_var + self.bn.eps)
        fused = nn.Conv2d(self.conv.in_channels, self.conv.out_channels, self.conv.kernel_size, self.conv.stride,
                          self.conv.padding, bias=True)
        fused.weight.data = (w * scale.view(-1, 1, 1, 1)).detach().clone()
        fused.bias.data = (self.bn.bias - self.bn.running_mean * scale).detach().clone()
        self.conv = fused
        self.bn = nn.Identity()


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut=True):
        super().__init__()
        self.cv1 = ConvBnAct(c, c, 3)
        self.cv2 = ConvBnAct(c, c, 3)
        self.add = shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    """CSP block with two convolutions (YOLOv8): split, chain of bottlenecks, concat every stage."""

    def __init__(self, c1, c2, n=1, shortcut=True):
        super().__init__()
        self.c = c2 // 2
        self.cv1 = ConvBnAct(c1, 2 * self.c, 1)
        self.cv2 = ConvBnAct((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).split((self.c, self.c), 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        c = c1 // 2
        self.cv1 = ConvBnAct(c1, c, 1)
        self.cv2 = ConvBnAct(c * 4, c2, 1)
        self.pool = nn.MaxPool2d(k, 1, k // 2)

    def forward(self, x):
        x = self.cv1(x)
        y1 = self.pool(x)
        y2 = self.pool(y1)
        return self.cv2(torch.cat((x, y1, y2, self.pool(y2)), 1))


class Detector(nn.Module):
    def __init__(self, num_classes, widths=(32, 64, 96, 128), head_width=48, input_size=DEFAULT_INPUT):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.num_classes = num_classes
        self.input_size = input_size
        self.reg_max = REG_MAX
        self.strides = STRIDES
        # Backbone. A 4x4 stride-4 "patchify" stem and one bottleneck per stage: on a CPU the memory-bound
        # work (BatchNorm, SiLU, concat) of the high-resolution stages dominates training time, and simple
        # shapes need little depth.
        self.stem = ConvBnAct(3, w1, 4, 4, 0)  # /4
        self.s2 = nn.Sequential(ConvBnAct(w1, w2, 3, 2), C2f(w2, w2, 1))  # /8
        self.s3 = nn.Sequential(ConvBnAct(w2, w3, 3, 2), C2f(w3, w3, 1))  # /16
        self.s4 = nn.Sequential(ConvBnAct(w3, w4, 3, 2), C2f(w4, w4, 1), SPPF(w4, w4))  # /32
        # Neck (PAN)
        self.up = nn.Upsample(scale_factor=2, mode="nearest")
        self.td4 = C2f(w4 + w3, w3, 1, shortcut=False)
        self.td3 = C2f(w3 + w2, w2, 1, shortcut=False)
        self.down3 = ConvBnAct(w2, w2, 3, 2)
        self.bu4 = C2f(w2 + w3, w3, 1, shortcut=False)
        self.down4 = ConvBnAct(w3, w3, 3, 2)
        self.bu5 = C2f(w3 + w4, w4, 1, shortcut=False)
        # Decoupled heads
        ch = (w2, w3, w4)
        hb = max(head_width, 4 * REG_MAX // 2)
        hc = max(head_width, num_classes)
        self.box_heads = nn.ModuleList(
            nn.Sequential(ConvBnAct(c, hb, 3), ConvBnAct(hb, hb, 3), nn.Conv2d(hb, 4 * REG_MAX, 1)) for c in ch)
        self.cls_heads = nn.ModuleList(
            nn.Sequential(ConvBnAct(c, hc, 3), ConvBnAct(hc, hc, 3), nn.Conv2d(hc, num_classes, 1)) for c in ch)
        self._init_biases()

    def _init_biases(self):
        import math
        for bh, ch, s in zip(self.box_heads, self.cls_heads, self.strides):
            bh[-1].bias.data[:] = 1.0
            # Prior: about 5 objects per image spread over the level's cells (YOLOv8's initialisation).
            ch[-1].bias.data[:] = math.log(5 / self.num_classes / (self.input_size / s) ** 2)

    def features(self, x):
        p3 = self.s2(self.stem(x))
        p4 = self.s3(p3)
        p5 = self.s4(p4)
        t4 = self.td4(torch.cat((self.up(p5), p4), 1))
        n3 = self.td3(torch.cat((self.up(t4), p3), 1))
        n4 = self.bu4(torch.cat((self.down3(n3), t4), 1))
        n5 = self.bu5(torch.cat((self.down4(n4), p5), 1))
        return n3, n4, n5

    def forward(self, x):
        outs = []
        for f, bh, ch, s in zip(self.features(x), self.box_heads, self.cls_heads, self.strides):
            # When exporting, sizes come from the configured input, not from f.shape, so that the graph has
            # constant Reshape shapes (batch as -1) and no Shape/Gather chains.
            cells = (self.input_size // s) ** 2 if torch.onnx.is_in_onnx_export() else f.shape[2] * f.shape[3]
            outs.append(torch.cat((bh(f), ch(f)), 1).reshape(-1, 4 * REG_MAX + self.num_classes, cells))
        return torch.cat(outs, 2)

    def fuse(self):
        for m in self.modules():
            if isinstance(m, ConvBnAct) and isinstance(m.bn, nn.BatchNorm2d):
                m.fuse()
        return self

    def anchors(self, size=None, device=None):
        """Anchor points (cell centres, input pixels) [A, 2] and per-anchor strides [A, 1]."""
        size = size or self.input_size
        pts, strides = [], []
        for s in self.strides:
            n = size // s
            ys, xs = torch.meshgrid(torch.arange(n, device=device, dtype=torch.float32),
                                    torch.arange(n, device=device, dtype=torch.float32), indexing="ij")
            pts.append(torch.stack((xs.reshape(-1), ys.reshape(-1)), 1) + 0.5)
            strides.append(torch.full((n * n, 1), float(s), device=device))
        strides = torch.cat(strides, 0)
        return torch.cat(pts, 0) * strides, strides


def dfl_expectation(dist):
    """[..., 4, REG_MAX] logits -> [..., 4] expected distance in stride units."""
    proj = torch.arange(REG_MAX, dtype=dist.dtype, device=dist.device)
    return (dist.softmax(-1) * proj).sum(-1)


def decode(head, anchor_points, anchor_strides, num_classes):
    """Raw head [B, 4*REG_MAX + C, A] -> boxes [B, A, 4] x1y1x2y2 (input pixels), scores [B, A, C]."""
    b, _, a = head.shape
    dist = head[:, :4 * REG_MAX].reshape(b, 4, REG_MAX, a).permute(0, 3, 1, 2)
    ltrb = dfl_expectation(dist) * anchor_strides.view(1, a, 1)
    xy = anchor_points.view(1, a, 2)
    boxes = torch.cat((xy - ltrb[..., :2], xy + ltrb[..., 2:]), -1)
    scores = head[:, 4 * REG_MAX:].permute(0, 2, 1).sigmoid()
    return boxes, scores


def param_count(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    m = Detector(4)
    x = torch.zeros(1, 3, DEFAULT_INPUT, DEFAULT_INPUT)
    print("params", param_count(m), "head", tuple(m(x).shape))
