#!/usr/bin/env python3
"""rtexec with plugins: a TensorRT-style model with EfficientNMS_TRT built and run without flags and checked
against torchvision's NMS, a YOLOv8
head decoded by YoloDecode and chained into EfficientNMS_TRT, a custom plugin given by --plugins or
RTINFER_PLUGIN_PATH, and the errors when a plugin is missing.

Usage: plugin_cli_test.py --rtexec PATH --test-plugin LIB --work DIR CASE   (--list prints the cases)
Exit 0 = pass, 1 = fail, 77 = skipped (the onnx/numpy packages are missing).
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_test import Env, Failure, need_onnx  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class PluginEnv(Env):
    def __init__(self, rtexec, work, test_plugin):
        super().__init__(rtexec, work)
        self.test_plugin = test_plugin

    def run_with(self, environ, args, code, **kw):
        """env.run with extra environment variables."""
        saved = {k: os.environ.get(k) for k in environ}
        os.environ.update(environ)
        try:
            return self.run(args, code, **kw)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


def save(path, graph, extra_opsets=()):
    from onnx import helper
    opsets = [helper.make_opsetid("", 13)] + [helper.make_opsetid(d, 1) for d in extra_opsets]
    model = helper.make_model(graph, opset_imports=opsets, producer_name="rtexec-plugin-test")
    model.ir_version = 7
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def nms_model(env, domain):
    """A TensorRT-exported detector's tail: boxes [2,6,4], scores [2,6,2] -> EfficientNMS_TRT (K = 4)."""
    from onnx import TensorProto, helper
    vi = helper.make_tensor_value_info
    node = helper.make_node("EfficientNMS_TRT", ["boxes", "scores"],
                            ["num_detections", "detection_boxes", "detection_scores", "detection_classes"],
                            name="batched_nms", domain=domain, background_class=-1, box_coding=0,
                            iou_threshold=0.5, max_output_boxes=4, plugin_version="1", score_activation=0,
                            score_threshold=0.25)
    graph = helper.make_graph(
        [node], "nms",
        [vi("boxes", TensorProto.FLOAT, [2, 6, 4]), vi("scores", TensorProto.FLOAT, [2, 6, 2])],
        [vi("num_detections", TensorProto.INT32, [2, 1]), vi("detection_boxes", TensorProto.FLOAT, [2, 4, 4]),
         vi("detection_scores", TensorProto.FLOAT, [2, 4]), vi("detection_classes", TensorProto.INT32, [2, 4])])
    return save(env.path(f"nms_{domain or 'default'}.onnx"), graph, [domain] if domain else [])


@case
def efficient_nms_without_flags(env):
    need_onnx()
    import numpy as np
    boxes = np.zeros((2, 6, 4), np.float32)
    scores = np.zeros((2, 6, 2), np.float32)
    # Item 0: boxes 0 and 1 overlap (IoU 0.68), box 2 apart, box 3 below the threshold, 4 and 5 empty.
    boxes[0, :4] = [[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [80, 80, 90, 90]]
    scores[0, :4, 0] = [0.9, 0.8, 0.7, 0.1]
    scores[0, 1, 1] = 0.6  # box 1 as class 1 survives: classes are separate
    # Item 1: five disjoint boxes above the threshold: clipped to the best 4.
    for i in range(6):
        boxes[1, i] = [i * 20, 0, i * 20 + 10, 10]
    scores[1, :, 1] = [0.3, 0.9, 0.5, 0.2, 0.8, 0.6]
    np.save(env.path("boxes.npy"), boxes)
    np.save(env.path("scores.npy"), scores)
    for domain in ("TRT", ""):
        model = nms_model(env, domain)
        engine = env.path(f"nms_{domain or 'default'}.engine")
        env.run(["build", "--onnx", model, "--out", engine], 0, stdout_has=["layers:      1"])
        env.run(["inspect", "--engine", engine], 0, stdout_has=["batched_nms", "EfficientNMS_TRT"])
        out = env.path(f"out_{domain or 'default'}")
        env.run(["run", "--engine", engine, "--input", f"boxes={env.path('boxes.npy')}",
                 "--input", f"scores={env.path('scores.npy')}", "--output-dir", out], 0,
                stdout_has=["output 'num_detections' int32 [2,1]", "output 'detection_boxes' float32 [2,4,4]"])
        num = np.load(os.path.join(out, "num_detections.npy"))
        got_scores = np.load(os.path.join(out, "detection_scores.npy"))
        got_classes = np.load(os.path.join(out, "detection_classes.npy"))
        got_boxes = np.load(os.path.join(out, "detection_boxes.npy"))
        if num.dtype != np.int32 or num.tolist() != [[3], [4]]:
            raise Failure(f"num_detections {num.tolist()}, expected [[3], [4]]")
        if not np.allclose(got_scores, [[0.9, 0.7, 0.6, 0], [0.9, 0.8, 0.6, 0.5]]):
            raise Failure(f"detection_scores {got_scores.tolist()}")
        if got_classes.tolist() != [[0, 0, 1, 0], [1, 1, 1, 1]]:
            raise Failure(f"detection_classes {got_classes.tolist()}")
        if not np.array_equal(got_boxes[0, :3], boxes[0, [0, 2, 1]]) or got_boxes[0, 3].any():
            raise Failure(f"detection_boxes {got_boxes[0].tolist()}")
        env.run(["bench", "--engine", engine, "--iterations", "5", "--warmup", "1"], 0, stdout_has=["p99_ms"])


def yolo_reference(head, strides, grids, reg_max, classes):
    """YOLOv8 decoding in float64, written out here: boxes [A, 4] (x1 y1 x2 y2), scores [A, C]."""
    import numpy as np
    h = head[0].astype(np.float64)  # [4 * reg_max + C, A]
    boxes, a = [], 0
    for s, (gh, gw) in zip(strides, grids):
        for y in range(gh):
            for x in range(gw):
                d = []
                for side in range(4):
                    bins = h[side * reg_max:(side + 1) * reg_max, a]
                    p = np.exp(bins - bins.max())
                    d.append(float((p / p.sum()) @ np.arange(reg_max)))
                boxes.append([(x + 0.5 - d[0]) * s, (y + 0.5 - d[1]) * s, (x + 0.5 + d[2]) * s, (y + 0.5 + d[3]) * s])
                a += 1
    scores = 1.0 / (1.0 + np.exp(-h[4 * reg_max:4 * reg_max + classes].T))
    return np.array(boxes), scores


def nms_reference(boxes, scores, score_threshold, iou_threshold, k):
    """Greedy NMS per class over the candidates above the threshold, best first: [(score, class, box)]."""
    def iou(p, q):
        iw = min(p[2], q[2]) - max(p[0], q[0])
        ih = min(p[3], q[3]) - max(p[1], q[1])
        if iw <= 0 or ih <= 0:
            return 0.0
        inter = iw * ih
        return inter / ((p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter)
    cands = sorted(((scores[a, c], a, c) for a in range(len(boxes)) for c in range(scores.shape[1])
                    if scores[a, c] > score_threshold), key=lambda t: (-t[0], t[1], t[2]))
    kept = []
    for score, a, c in cands:
        if all(kc != c or iou(kb, boxes[a]) <= iou_threshold for _, kc, kb in kept):
            kept.append((score, c, boxes[a]))
    return kept[:k]


@case
def yolo_decode_then_nms(env):
    """head [1, 4 * 4 + 3, 20] -> YoloDecode (yolov8, strides 8 and 16 on 32 x 32: 4x4 + 2x2 cells) ->
    EfficientNMS_TRT, against the decoding and NMS written out in numpy; 8 candidates pass the threshold
    and some are suppressed."""
    need_onnx()
    import numpy as np
    from onnx import TensorProto, helper
    vi = helper.make_tensor_value_info
    strides, grids, reg_max, classes, k = [8, 16], [(4, 4), (2, 2)], 4, 3, 8
    decode = helper.make_node("YoloDecode", ["head"], ["boxes", "scores"], name="decode", domain="rtinfer",
                              style="yolov8", strides=strides, image_size=[32, 32], reg_max=reg_max)
    nms = helper.make_node("EfficientNMS_TRT", ["boxes", "scores"],
                           ["num_detections", "detection_boxes", "detection_scores", "detection_classes"],
                           name="nms", domain="TRT", score_threshold=0.3, iou_threshold=0.3, max_output_boxes=k,
                           plugin_version="1")
    graph = helper.make_graph(
        [decode, nms], "yolo", [vi("head", TensorProto.FLOAT, [1, 4 * reg_max + classes, 20])],
        [vi("num_detections", TensorProto.INT32, [1, 1]), vi("detection_boxes", TensorProto.FLOAT, [1, k, 4]),
         vi("detection_scores", TensorProto.FLOAT, [1, k]), vi("detection_classes", TensorProto.INT32, [1, k])])
    model = save(env.path("yolo_nms.onnx"), graph, ["rtinfer", "TRT"])

    rng = np.random.default_rng(5)
    head = np.zeros((1, 4 * reg_max + classes, 20), np.float32)
    head[0, :4 * reg_max] = rng.normal(0, 2, (4 * reg_max, 20))  # box bins: distances spread over 0..3 cells
    head[0, 4 * reg_max:] = -8.0                                  # classes: below the threshold...
    head[0, :4 * reg_max, 4] = head[0, :4 * reg_max, 5]           # cell 4's box: cell 5's moved 8 px left
    for a, c, logit in [(5, 0, 3.0), (4, 0, 2.8), (6, 0, 2.5), (9, 0, 2.2), (6, 1, 2.0), (10, 1, 1.0), (17, 2, 0.5),
                        (18, 2, 0.1)]:
        head[0, 4 * reg_max + c, a] = logit                       # ...but for these 8 candidates
    np.save(env.path("head.npy"), head)
    engine = env.path("yolo_nms.engine")
    env.run(["build", "--onnx", model, "--out", engine], 0, stdout_has=["layers:      2"])
    env.run(["inspect", "--engine", engine], 0, stdout_has=["decode", "YoloDecode", "nms", "EfficientNMS_TRT"])
    out = env.path("out")
    env.run(["run", "--engine", engine, "--input", f"head={env.path('head.npy')}", "--output-dir", out], 0,
            stdout_has=["output 'detection_boxes' float32 [1,8,4]"])

    boxes, scores = yolo_reference(head, strides, grids, reg_max, classes)
    want = nms_reference(boxes, scores, 0.3, 0.3, k)
    num = np.load(os.path.join(out, "num_detections.npy"))
    got_boxes = np.load(os.path.join(out, "detection_boxes.npy"))[0]
    got_scores = np.load(os.path.join(out, "detection_scores.npy"))[0]
    got_classes = np.load(os.path.join(out, "detection_classes.npy"))[0]
    if num.tolist() != [[len(want)]] or not 2 <= len(want) < 8:
        raise Failure(f"num_detections {num.tolist()}, expected [[{len(want)}]] (of 8 candidates, some suppressed)")
    n = len(want)
    if got_classes[:n].tolist() != [c for _, c, _ in want]:
        raise Failure(f"detection_classes {got_classes.tolist()}, expected {[c for _, c, _ in want]}")
    if not np.allclose(got_scores[:n], [s for s, _, _ in want], atol=1e-5):
        raise Failure(f"detection_scores {got_scores.tolist()}, expected {[s for s, _, _ in want]}")
    if not np.allclose(got_boxes[:n], [b for _, _, b in want], atol=1e-3):
        raise Failure(f"detection_boxes {got_boxes.tolist()}, expected {[list(b) for _, _, b in want]}")
    if got_boxes[n:].any() or got_scores[n:].any():
        raise Failure("rows past num_detections are not zero")


def scale_model(env):
    """y = TestScale(x; factor 2, bias 0.5) from the test plugin, in domain test.ops."""
    from onnx import TensorProto, helper
    vi = helper.make_tensor_value_info
    node = helper.make_node("TestScale", ["x"], ["y"], name="scale0", domain="test.ops", factor=2.0, bias=0.5)
    graph = helper.make_graph([node], "scale", [vi("x", TensorProto.FLOAT, [2, 3])], [vi("y", TensorProto.FLOAT, [2, 3])])
    return save(env.path("scale.onnx"), graph, ["test.ops"])


@case
def custom_plugin_flags_and_env(env):
    need_onnx()
    import numpy as np
    model = scale_model(env)
    engine = env.path("scale.engine")
    env.run(["build", "--onnx", model, "--out", engine], 1,
            stderr_has=["rtexec build: error:", "node 'scale0' (test.ops::TestScale)", "no kernel"])
    env.run(["inspect", "--onnx", model, "--capability"], 1, stdout_has=["node 'scale0' (TestScale)", "1 unsupported"],
            one_error_line=False)
    env.run(["inspect", "--onnx", model, "--capability", "--plugins", env.test_plugin], 0,
            stdout_has=["1 of 1 nodes supported"])
    env.run(["build", "--onnx", model, "--out", engine, "--plugins", env.test_plugin], 0)
    x = np.array([[-1.5, 2.0, -0.25], [3.0, -4.0, 0.5]], np.float32)
    np.save(env.path("x.npy"), x)

    # The engine names the plugin it needs; without it, run, bench and inspect say which and where.
    for command in ("run", "bench", "inspect"):
        env.run([command, "--engine", engine], 1,
                stderr_has=[f"rtexec {command}: error: not found", engine,
                            "layer 'scale0' needs plugin 'TestScale' (version 1, namespace 'test.ops'), which is not "
                            "loaded"])
    env.run(["run", "--engine", engine, "--plugins", env.test_plugin, "--input", f"x={env.path('x.npy')}",
             "--output-dir", env.path("o1")], 0, stdout_has=["output 'y' float32 [2,3]"])
    if not np.allclose(np.load(env.path("o1/y.npy")), x * 2 + 0.5):
        raise Failure("wrong TestScale output with --plugins")
    env.run_with({"RTINFER_PLUGIN_PATH": os.path.dirname(env.test_plugin) + "/nope.so:" + env.test_plugin},
                 ["run", "--engine", engine], 1,
                 stderr_has=["RTINFER_PLUGIN_PATH: plugin library '", "nope.so' not found"])
    env.run_with({"RTINFER_PLUGIN_PATH": ":" + env.test_plugin},
                 ["run", "--engine", engine, "--input", f"x={env.path('x.npy')}", "--output-dir", env.path("o2")], 0)
    if not np.allclose(np.load(env.path("o2/y.npy")), x * 2 + 0.5):
        raise Failure("wrong TestScale output with RTINFER_PLUGIN_PATH")
    env.run(["bench", "--engine", engine, "--plugins", env.test_plugin, "--iterations", "3"], 0)
    env.run(["inspect", "--engine", engine, "--plugins", env.test_plugin], 0, stdout_has=["scale0", "TestScale"])

    # Library errors name the library.
    env.run(["build", "--onnx", model, "--out", engine, "--plugins", env.path("missing.so")], 1,
            stderr_has=["rtexec build: error: not found:", "plugin library '" + env.path("missing.so") + "' not found"])
    with open(env.path("bogus.so"), "w") as f:
        f.write("not an ELF file")
    env.run(["run", "--engine", engine, "--plugins", env.path("bogus.so")], 1,
            stderr_has=["plugin library '" + env.path("bogus.so") + "' cannot be loaded"])
    env.run(["build", "--help"], 0, stdout_has=["--plugins"])
    env.run(["run", "--help"], 0, stdout_has=["--plugins"])


def nms_batch_model(env, name, batch, anchors, classes, k, score_threshold, iou_threshold, agnostic):
    from onnx import TensorProto, helper
    vi = helper.make_tensor_value_info
    node = helper.make_node("EfficientNMS_TRT", ["boxes", "scores"],
                            ["num_detections", "detection_boxes", "detection_scores", "detection_classes"],
                            name="nms", domain="TRT", background_class=-1, box_coding=0, class_agnostic=agnostic,
                            iou_threshold=iou_threshold, max_output_boxes=k, score_activation=0,
                            score_threshold=score_threshold, plugin_version="1")
    graph = helper.make_graph(
        [node], "nms", [vi("boxes", TensorProto.FLOAT, [batch, anchors, 4]),
                        vi("scores", TensorProto.FLOAT, [batch, anchors, classes])],
        [vi("num_detections", TensorProto.INT32, [batch, 1]), vi("detection_boxes", TensorProto.FLOAT, [batch, k, 4]),
         vi("detection_scores", TensorProto.FLOAT, [batch, k]), vi("detection_classes", TensorProto.INT32, [batch, k])])
    return save(env.path(name + ".onnx"), graph, ["TRT"])


@case
def efficient_nms_vs_torchvision(env):
    """EfficientNMS_TRT through rtexec against torchvision's nms / batched_nms on random boxes: class-aware and
    class-agnostic, a batch of 3, max_output_boxes clipping, an image whose boxes all coincide (all but one
    per class suppressed) and one whose scores are all below the threshold (no detections). The backend is
    cpu, or $RTINFER_TEST_BACKEND (cuda on a GPU machine)."""
    need_onnx()
    try:
        import torch
        import torchvision
    except ImportError as e:
        print(f"SKIP: torchvision is not installed ({e})")
        sys.exit(77)
    import numpy as np
    backend = os.environ.get("RTINFER_TEST_BACKEND", "cpu")
    batch, anchors, classes, thr, iou = 3, 200, 4, 0.3, 0.45
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 100, (batch, anchors, 2)).astype(np.float32)
    wh = rng.uniform(5, 40, (batch, anchors, 2)).astype(np.float32)
    boxes = np.concatenate([xy, xy + wh], axis=2)
    scores = rng.uniform(0, 1, (batch, anchors, classes)).astype(np.float32)  # distinct: no ties
    boxes[1] = boxes[1, :1]                      # image 1: one box repeated everywhere
    scores[2] = rng.uniform(0, thr * 0.9, (anchors, classes))  # image 2: nothing above the threshold
    np.save(env.path("boxes.npy"), boxes)
    np.save(env.path("scores.npy"), scores)
    for agnostic in (0, 1):
        for k in (20, 300):
            name = f"nms_a{agnostic}_k{k}"
            model = nms_batch_model(env, name, batch, anchors, classes, k, thr, iou, agnostic)
            engine = env.path(name + ".engine")
            env.run(["build", "--onnx", model, "--out", engine, "--backend", backend], 0)
            out = env.path(name + ".out")
            env.run(["run", "--engine", engine, "--input", f"boxes={env.path('boxes.npy')}",
                     "--input", f"scores={env.path('scores.npy')}", "--output-dir", out], 0)
            num = np.load(os.path.join(out, "num_detections.npy")).reshape(-1)
            got_b = np.load(os.path.join(out, "detection_boxes.npy"))
            got_s = np.load(os.path.join(out, "detection_scores.npy"))
            got_c = np.load(os.path.join(out, "detection_classes.npy"))
            for b in range(batch):
                a_idx, c_idx = np.nonzero(scores[b] > thr)
                cb = torch.from_numpy(boxes[b][a_idx])
                cs = torch.from_numpy(scores[b][a_idx, c_idx])
                cc = torch.from_numpy(c_idx)
                keep = torchvision.ops.nms(cb, cs, iou) if agnostic else torchvision.ops.batched_nms(cb, cs, cc, iou)
                keep = keep[:k].numpy()
                what = f"{name} image {b} ({backend})"
                if num[b] != len(keep):
                    raise Failure(f"{what}: num_detections {num[b]}, torchvision keeps {len(keep)}")
                n = len(keep)
                if got_c[b, :n].tolist() != c_idx[keep].tolist():
                    raise Failure(f"{what}: classes {got_c[b, :n].tolist()} != {c_idx[keep].tolist()}")
                if not np.allclose(got_s[b, :n], cs.numpy()[keep], atol=1e-6):
                    raise Failure(f"{what}: scores differ from torchvision's")
                if not np.allclose(got_b[b, :n], cb.numpy()[keep], atol=1e-5):
                    raise Failure(f"{what}: boxes differ from torchvision's")
            if not (num[1] == (1 if agnostic else classes) and num[2] == 0 and num[0] == (20 if k == 20 else num[0])):
                raise Failure(f"{name}: num_detections {num.tolist()} (expected image 1: {1 if agnostic else classes}, "
                              "image 2: 0, image 0 clipped to 20 when max_output_boxes is 20)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--rtexec")
    parser.add_argument("--test-plugin")
    parser.add_argument("--work")
    parser.add_argument("case", nargs="?")
    args = parser.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if args.case not in CASES or not args.rtexec or not args.work or not args.test_plugin:
        parser.error("need --rtexec, --test-plugin, --work and one of: " + ", ".join(CASES))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    try:
        CASES[args.case](PluginEnv(os.path.abspath(args.rtexec), os.path.abspath(args.work),
                                   os.path.abspath(args.test_plugin)))
    except Failure as e:
        print(f"FAIL {args.case}: {e}")
        return 1
    print(f"PASS {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
