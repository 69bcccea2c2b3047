"""Tests of scripts/pipeline/render_scenes.py and check_detections.py (numpy only).

Run: python3 -m unittest discover -s tests/pipeline_scripts   (with an interpreter that has numpy)
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PIPELINE = os.path.join(ROOT, "scripts", "pipeline")
sys.path.insert(0, PIPELINE)
sys.path.insert(0, os.path.join(ROOT, "scripts", "detector"))
import check_detections  # noqa: E402
import render_scenes  # noqa: E402
import scenes  # noqa: E402

RENDER = os.path.join(PIPELINE, "render_scenes.py")
CHECK = os.path.join(PIPELINE, "check_detections.py")
SEED = 700_123


def run(script, *args):
    return subprocess.run([sys.executable, script] + [str(a) for a in args], capture_output=True, text=True)


def read_lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def write_lines(path, records):
    with open(path, "w") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")


def as_detections(gt_records, confidence=0.9, shift=0.0, stream=0):
    """The ground truth written as rtmetasink lines: every object detected, boxes moved right by shift."""
    out = []
    for r in gt_records:
        objs = [{"class_id": o["class_id"], "label": o["label"], "confidence": confidence,
                 "box": [o["box"][0] + shift, o["box"][1], o["box"][2] + shift, o["box"][3]]} for o in r["objects"]]
        out.append({"stream": stream, "frame": r["frame"], "pts_ns": r["frame"] * 33_333_333, "width": r["width"],
                    "height": r["height"], "objects": objs, "classes": []})
    return out


class RenderScenesTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="render_scenes_test_")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def render(self, fmt, count=3, width=640, height=480, *extra):
        out = os.path.join(self.dir, "frames." + fmt.lower())
        gt = os.path.join(self.dir, "gt_%s.jsonl" % fmt)
        r = run(RENDER, "--out", out, "--gt", gt, "--format", fmt, "--count", count, "--seed", SEED, "--width",
                width, "--height", height, *extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        return out, gt, r.stdout

    def test_file_sizes_and_caps(self):
        for fmt, frame_bytes in (("RGB", 640 * 480 * 3), ("NV12", 640 * 480 * 3 // 2), ("I420", 640 * 480 * 3 // 2)):
            out, gt, stdout = self.render(fmt)
            self.assertEqual(os.path.getsize(out), 3 * frame_bytes, fmt)
            self.assertEqual(len(read_lines(gt)), 3)
            caps = stdout.strip().splitlines()[-1]
            self.assertTrue(caps.startswith("rawvideoparse format=%s width=640 height=480 framerate=30/1"
                                            % fmt.lower()), caps)
            self.assertEqual("colorimetry=bt709" in caps, fmt != "RGB", caps)

    def test_rgb_frames_and_boxes_are_the_scenes_scaled(self):
        out, gt, _ = self.render("RGB", 3, 640, 480)
        frames = np.fromfile(out, np.uint8).reshape(3, 480, 640, 3)
        records = read_lines(gt)
        total = 0
        for i, r in enumerate(records):
            img, boxes, classes = scenes.generate_scene(SEED + i, 160)
            self.assertEqual((r["frame"], r["seed"], r["width"], r["height"]), (i, SEED + i, 640, 480))
            # 4 x 3 nearest upscaling: each scene pixel is a 3-row, 4-column block of the frame.
            np.testing.assert_array_equal(frames[i], img.repeat(3, 0).repeat(4, 1))
            got = np.array([o["box"] for o in r["objects"]]).reshape(-1, 4)
            np.testing.assert_allclose(got, boxes * np.array([4, 3, 4, 3]), atol=1e-3)
            self.assertEqual([o["class_id"] for o in r["objects"]], classes.tolist())
            self.assertEqual([o["label"] for o in r["objects"]], [scenes.CLASS_NAMES[c] for c in classes])
            total += len(classes)
        self.assertGreater(total, 0)

    def test_yuv_planes_decode_back_to_the_rgb_frame(self):
        rgb_out, _, _ = self.render("RGB", 2)
        rgb = np.fromfile(rgb_out, np.uint8).reshape(2, 480, 640, 3).astype(np.float64)
        for fmt in ("NV12", "I420"):
            out, _, _ = self.render(fmt, 2)
            data = np.fromfile(out, np.uint8).reshape(2, -1)
            y = data[:, :640 * 480].reshape(2, 480, 640).astype(np.float64)
            if fmt == "NV12":
                uv = data[:, 640 * 480:].reshape(2, 240, 320, 2).astype(np.float64)
                u, v = uv[..., 0], uv[..., 1]
            else:
                u = data[:, 640 * 480:640 * 480 + 320 * 240].reshape(2, 240, 320).astype(np.float64)
                v = data[:, 640 * 480 + 320 * 240:].reshape(2, 240, 320).astype(np.float64)
            # BT.709 limited range decoded as pipelines/preprocess does (chroma block means compared).
            luma = (y - 16) * 255 / 219
            want = rgb @ np.array([0.2126, 0.7152, 0.0722])
            self.assertLess(np.abs(luma - want).max(), 1.0, fmt)
            block = rgb.reshape(2, 240, 2, 320, 2, 3).mean((2, 4))
            block_y = block @ np.array([0.2126, 0.7152, 0.0722])
            np.testing.assert_allclose((u - 128) * 255 / 224, (block[..., 2] - block_y) / 1.8556, atol=1.2)
            np.testing.assert_allclose((v - 128) * 255 / 224, (block[..., 0] - block_y) / 1.5748, atol=1.2)

    def test_padded_rows_follow_gstreamer_layout(self):
        # 162 x 2 RGB rows are 486 bytes, padded to 488; I420 chroma rows are 81 bytes, padded to 84.
        self.assertEqual(render_scenes.frame_layout("RGB", 162, 2), ([488], [0], 976))
        self.assertEqual(render_scenes.frame_layout("I420", 162, 2), ([164, 84, 84], [0, 328, 412], 496))
        self.assertEqual(render_scenes.frame_layout("NV12", 162, 2), ([164, 164], [0, 328], 492))
        out, _, _ = self.render("RGB", 1, 162, 120)
        data = np.fromfile(out, np.uint8)
        self.assertEqual(data.size, 488 * 120)
        self.assertTrue((data.reshape(120, 488)[:, 486:] == 0).all())

    def test_hold_repeats_each_scene(self):
        out, gt, _ = self.render("NV12", 2, 640, 480, "--hold", 3)
        data = np.fromfile(out, np.uint8).reshape(6, -1)
        records = read_lines(gt)
        self.assertEqual([r["frame"] for r in records], list(range(6)))
        self.assertEqual([r["seed"] for r in records], [SEED] * 3 + [SEED + 1] * 3)
        np.testing.assert_array_equal(data[0], data[2])
        self.assertFalse(np.array_equal(data[2], data[3]))

    def test_bad_arguments_are_named(self):
        r = run(RENDER, "--out", os.path.join(self.dir, "x"), "--format", "NV12", "--width", 641)
        self.assertEqual(r.returncode, 2)
        self.assertIn("641x480", r.stderr)
        self.assertIn("even", r.stderr)
        r = run(RENDER, "--out", os.path.join(self.dir, "x"), "--format", "YUY2")
        self.assertEqual(r.returncode, 2)
        self.assertIn("YUY2", r.stderr)

    def test_png_dir(self):
        png = os.path.join(self.dir, "png")
        self.render("RGB", 2, 320, 240, "--png-dir", png)
        names = sorted(os.listdir(png))
        self.assertEqual(names, ["frame_00000.png", "frame_00001.png"])
        with open(os.path.join(png, names[0]), "rb") as f:
            head = f.read(24)
        self.assertEqual(head[:8], b"\x89PNG\r\n\x1a\n")
        self.assertEqual((int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")), (320, 240))


class CheckDetectionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="check_detections_test_")
        cls.gt = os.path.join(cls.dir, "gt.jsonl")
        r = run(RENDER, "--out", os.path.join(cls.dir, "frames.rgb"), "--gt", cls.gt, "--count", 8, "--seed", SEED)
        assert r.returncode == 0, r.stderr
        cls.records = read_lines(cls.gt)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir)

    def check(self, lines, *extra):
        path = os.path.join(self.dir, "det.jsonl")
        write_lines(path, lines)
        return run(CHECK, "--detections", path, "--ground-truth", self.gt, *extra)

    def test_perfect_detections_pass(self):
        r = self.check(as_detections(self.records))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("mAP@0.5: 1.0000", r.stdout)
        self.assertIn("frames: 8 seen, 8 expected", r.stdout)
        self.assertIn("PASS", r.stdout)

    def test_shifted_boxes_fail(self):
        # Moved right by their own width, no detection overlaps its object.
        dets = as_detections(self.records)
        for d in dets:
            for o in d["objects"]:
                w = o["box"][2] - o["box"][0]
                o["box"][0] += w
                o["box"][2] += w
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mAP@0.5: 0.0000", r.stdout)
        self.assertIn("below --min-map 0.8", r.stderr)

    def test_slightly_shifted_boxes_still_match(self):
        r = self.check(as_detections(self.records, shift=1.0))
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_missing_frame_fails(self):
        dets = as_detections(self.records)
        del dets[5]
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("frames: 7 seen, 8 expected", r.stdout)
        self.assertIn("1 of 8 frames missing: 5", r.stderr)

    def test_duplicated_and_out_of_order_frames_fail(self):
        dets = as_detections(self.records)
        r = self.check(dets + [dets[7]])
        self.assertEqual(r.returncode, 1)
        self.assertIn("det.jsonl:9: frame 7 duplicated (first on line 8)", r.stderr)
        dets[2], dets[3] = dets[3], dets[2]
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("det.jsonl:4: frame 2 out of order (after frame 3)", r.stderr)

    def test_unexpected_frame_fails(self):
        dets = as_detections(self.records)
        extra = dict(dets[0], frame=99)
        r = self.check(dets + [extra])
        self.assertEqual(r.returncode, 1)
        self.assertIn("frame 99 is not in the ground truth", r.stderr)

    def test_malformed_line_names_the_line(self):
        lines = [json.dumps(d) for d in as_detections(self.records)]
        lines[3] = lines[3][:40]
        r = self.check(lines)
        self.assertEqual(r.returncode, 1)
        self.assertIn("det.jsonl:4: malformed JSON", r.stderr)
        dets = as_detections(self.records)
        dets[6]["objects"][0]["box"] = [1, 2, 3]
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("det.jsonl:7: object 0: \"box\" is [1, 2, 3]", r.stderr)
        dets = as_detections(self.records)
        dets[1]["objects"][0]["confidence"] = None
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("det.jsonl:2: object 0: confidence is null", r.stderr)

    def test_empty_objects_lists(self):
        dets = as_detections(self.records)
        for d in dets:
            d["objects"] = []
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("mAP@0.5: 0.0000", r.stdout)
        self.assertIn("frames: 8 seen, 8 expected", r.stdout)
        # Frames without objects on both sides count as correct frames.
        gt = os.path.join(self.dir, "empty_gt.jsonl")
        write_lines(gt, [{"frame": 0, "objects": []}, {"frame": 1, "objects": [{"class_id": 1, "box": [0, 0, 9, 9]}]}])
        det = os.path.join(self.dir, "empty_det.jsonl")
        write_lines(det, [{"stream": 0, "frame": 0, "objects": [], "classes": []},
                          {"stream": 0, "frame": 1, "classes": [],
                           "objects": [{"class_id": 1, "confidence": 0.5, "box": [0, 0, 9, 9]}]}])
        r = run(CHECK, "--detections", det, "--ground-truth", gt)
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_recall_threshold(self):
        dets = as_detections(self.records)
        n = sum(len(d["objects"]) for d in dets)
        for d in dets[:4]:
            for o in d["objects"]:
                o["confidence"] = 0.1  # below the operating point, still ranked for AP
        low = sum(len(d["objects"]) for d in dets[:4])
        r = self.check(dets, "--min-recall", 0.9)
        self.assertEqual(r.returncode, 1)
        self.assertIn("recall %.4f at confidence >= 0.3 is below --min-recall 0.9" % ((n - low) / n), r.stderr)
        self.assertIn("mAP@0.5: 1.0000", r.stdout)

    def test_streams(self):
        dets = as_detections(self.records, stream=0) + as_detections(self.records, stream=1, shift=1000)
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("several streams (0, 1): choose one with --stream", r.stderr)
        self.assertEqual(self.check(dets, "--stream", 0).returncode, 0)
        self.assertEqual(self.check(dets, "--stream", 1).returncode, 1)

    def test_frame_size_must_agree(self):
        dets = as_detections(self.records)
        dets[2]["width"] = 1280
        r = self.check(dets)
        self.assertEqual(r.returncode, 1)
        self.assertIn("det.jsonl:3: frame 2 is 1280x480, the ground truth's is 640x480", r.stderr)

    def test_matching_and_ap_by_hand(self):
        # One class, two objects in one frame; detections: a false positive at 0.9, a hit at 0.8, a hit at 0.3
        # on the second object, a duplicate of the first at 0.7 (false positive). Precision-recall points:
        # (0, 0) (0.5, 0.5) (0.5, 0.33) (1.0, 0.5) -> AP = 0.5 * 0.5 + 0.5 * 0.5 = 0.5.
        gt = {0: (np.array([[0, 0, 10, 10], [20, 20, 30, 30]], float), np.array([0, 0]))}
        det = {0: (np.array([[50, 50, 60, 60], [0, 0, 10, 11], [0, 0, 10, 10], [20, 20, 30, 30]], float),
                   np.array([0, 0, 0, 0]), np.array([0.9, 0.8, 0.7, 0.3]))}
        stats = check_detections.evaluate(det, gt, 0.5, 0.5, 0.0)
        self.assertAlmostEqual(stats[0]["ap"], 0.5)
        self.assertEqual((stats[0]["gt"], stats[0]["det"], stats[0]["tp"]), (2, 3, 1))
        tp = check_detections.match_frame(det[0][0], det[0][2], gt[0][0], 0.5)
        self.assertEqual(tp.tolist(), [False, True, False, True])


if __name__ == "__main__":
    unittest.main()
