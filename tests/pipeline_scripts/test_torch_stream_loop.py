"""Tests of scripts/bench/torch_stream_loop.py on the CPU (needs PyTorch; skipped, saying so, without it).

Run: python3 -m unittest discover -s tests/pipeline_scripts
"""
import json
import os
import subprocess
import sys
import unittest

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(ROOT, "scripts", "bench", "torch_stream_loop.py")
sys.path.insert(0, os.path.join(ROOT, "scripts", "bench"))
MISSING = ""
try:
    import torch
    import torch_stream_loop as bench
except ImportError as e:  # reported as a skip with this reason
    torch = None
    MISSING = str(e)


@unittest.skipIf(torch is None, "PyTorch is not installed for this interpreter: %s" % MISSING)
class TorchStreamLoopTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        torch.set_num_threads(1)
        cls.model, cls.names = bench.load_detector(bench.DEFAULT_ONNX)

    def test_onnx_weights_reproduce_the_reference(self):
        self.assertEqual(self.names, ["circle", "square", "triangle", "cross", "star", "ring"])
        d_boxes, d_scores = bench.verify_against_reference(self.model, bench.DEFAULT_REFERENCE)
        self.assertLessEqual(max(d_boxes, d_scores), 1e-3)

    def test_wrong_weights_are_caught(self):
        model, _ = bench.load_detector(bench.DEFAULT_ONNX)
        state = model.state_dict()
        state["stem.conv.bias"] = state["stem.conv.bias"].flip(0)
        model.load_state_dict(state)
        with self.assertRaisesRegex(bench.BenchError, "weights were not mapped right"):
            bench.verify_against_reference(model, bench.DEFAULT_REFERENCE)

    def test_initializers_by_name(self):
        inits, meta = bench.read_onnx(bench.DEFAULT_ONNX)
        self.assertEqual(inits["model.stem.conv.weight"].shape, (32, 3, 4, 4))
        self.assertEqual(inits["anchor_points"].shape, (1, 525, 2))
        self.assertEqual(meta["input_size"], "[160, 160]")

    def test_loop_detects_the_scenes_in_nv12_and_rgb(self):
        for fmt in ("NV12", "RGB"):
            frames, truth = bench.make_frames(fmt, 640, 480, 3, 500_000)
            loop = bench.StreamLoop(self.model, fmt, 640, 480, torch.device("cpu"), torch.float32, torch.float32,
                                    0.25, 0.45, 100)
            dets = loop(torch.from_numpy(frames)).numpy()
            self.assertGreaterEqual(bench.recall_of(dets, truth, [0, 1, 2]), 0.8, fmt)
            self.assertTrue((np.diff(dets[:, 0]) >= 0).all())
            self.assertTrue((dets[:, 2] > 0.25).all())

    def test_host_nms_equals_torchvision_and_max_det_caps(self):
        frames, _ = bench.make_frames("NV12", 320, 240, 4, 500_000)
        loop = bench.StreamLoop(self.model, "NV12", 320, 240, torch.device("cpu"), torch.float32, torch.float32,
                                0.05, 0.45, 100)
        x = torch.from_numpy(frames)
        saved = bench._tv_batched_nms
        if saved is None:
            self.skipTest("torchvision is not installed: nothing to compare the host NMS with")
        want = loop(x)
        try:
            bench._tv_batched_nms = None
            got = loop(x)
        finally:
            bench._tv_batched_nms = saved
        self.assertTrue(torch.equal(got, want))
        loop.max_det = 2
        capped = loop(x)
        self.assertEqual(torch.bincount(capped[:, 0].long()).tolist(), [2, 2, 2, 2])

    def test_cpu_smoke_run_prints_json_lines(self):
        r = subprocess.run([sys.executable, SCRIPT, "--device", "cpu", "--seconds", "0.2", "--streams", "1,2",
                            "--width", "320", "--height", "240", "--warmup", "1", "--threads", "1"],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(line) for line in r.stdout.splitlines()]
        self.assertEqual([x["streams"] for x in lines], [1, 2])
        for x in lines:
            self.assertGreater(x["fps"], 0)
            self.assertGreaterEqual(x["latency_ms_p99"], x["latency_ms_p50"])
            self.assertGreaterEqual(x["recall"], 0.7)


if __name__ == "__main__":
    unittest.main()
