#!/usr/bin/env python3
"""A small ResNet-style classifier (PyTorch) for the generated shapes (shapes.py).

Stem: 3x3 conv, stride 2, BatchNorm, ReLU. Three stages of basic residual blocks (two 3x3 conv + BatchNorm,
ReLU after the residual add; a strided 1x1 conv + BatchNorm on the shortcut where the shape changes) at
strides 2, 4 and 8; a global average pool and a linear head giving the logits.

The ONNX export keeps to the ops INT8 quantization is about: Conv (BatchNorm folded in by the exporter), Relu,
Add, GlobalAveragePool, Flatten and Gemm.
"""
import torch
import torch.nn as nn

DEFAULT_INPUT = 64


class BasicBlock(nn.Module):
    def __init__(self, c1, c2, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c1, c2, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c2)
        self.conv2 = nn.Conv2d(c2, c2, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.relu = nn.ReLU(inplace=True)
        self.shortcut = None
        if stride != 1 or c1 != c2:
            self.shortcut = nn.Sequential(nn.Conv2d(c1, c2, 1, stride, bias=False), nn.BatchNorm2d(c2))

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return self.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class Classifier(nn.Module):
    def __init__(self, num_classes, widths=(32, 64, 128), blocks=(1, 1, 2)):
        super().__init__()
        self.num_classes = num_classes
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 2, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU(inplace=True))
        layers = []
        c = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            for j in range(n):
                layers.append(BasicBlock(c, w, 2 if (i > 0 and j == 0) else 1))
                c = w
        self.stages = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, num_classes)
        # No zero-initialised last BatchNorm per block: with it the blocks start as identities, the network sees
        # little more than 3x3 colour statistics, and on these shapes it sat at chance for hundreds of iterations.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.stages(self.stem(x))), 1))


def param_count(model):
    return sum(p.numel() for p in model.parameters())


if __name__ == "__main__":
    m = Classifier(10)
    print("params", param_count(m), "logits", tuple(m(torch.zeros(2, 3, DEFAULT_INPUT, DEFAULT_INPUT)).shape))
