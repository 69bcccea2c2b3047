#!/usr/bin/env python3
"""rtexec build --int8: calibration from a folder of .npy tensors and images, each calibrator, the calibration
cache (written, then read so that a rebuild skips calibration), models with QuantizeLinear/DequantizeLinear
nodes, and the errors: a folder with no readable samples, a malformed image, a cache made for another model,
INT8 with neither data nor cache, calibration flags without --int8.

Usage: int8_cli_test.py --rtexec PATH --work DIR [--backend cpu|cuda] CASE   (--list prints the cases)
Exit 0 = pass, 1 = fail, 77 = skipped (the onnx/numpy packages are missing).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_test import Env, Failure, need_onnx, save_model  # noqa: E402
from cli_test import main as cli_main  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class BackendEnv(Env):
    """Every build for one backend (the CPU in CI; the GPU machine runs the cases with --backend cuda)."""

    def __init__(self, rtexec, work, backend):
        super().__init__(rtexec, work)
        self.backend = backend

    def run(self, args, code, **kw):
        if args and args[0] == "build":
            args = list(args) + ["--backend", self.backend]
        return super().run(args, code, **kw)


def conv_net(env, name="net.onnx", seed=0):
    """x [N,3,8,8] -> Conv 3x3 (8) -> Relu -> Conv 1x1 (8) -> Relu -> GlobalAveragePool -> Flatten -> Gemm (4)."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    w1 = (rng.standard_normal((8, 3, 3, 3)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((8, 8, 1, 1)) * 0.3).astype(np.float32)
    wg = (rng.standard_normal((4, 8)) * 0.5).astype(np.float32)
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(rng.standard_normal(8).astype(np.float32) * 0.1, "b1"),
             numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(wg, "wg")]
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2"], ["c2"], name="conv2"),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
             helper.make_node("GlobalAveragePool", ["r2"], ["p"], name="pool"),
             helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "wg"], ["y"], name="fc", transB=1)]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    return save_model(env.path(name), nodes, [x], [y], inits, opset=17)


def write_samples(env, folder, count, seed=1, batch_files=False):
    import numpy as np
    d = env.path(folder)
    os.makedirs(d, exist_ok=True)
    rng = np.random.default_rng(seed)
    if batch_files:  # one file holding a batch [count, 3, 8, 8]
        np.save(os.path.join(d, "batch.npy"), rng.random((count, 3, 8, 8), dtype=np.float32))
    else:
        for i in range(count):
            np.save(os.path.join(d, f"s{i:03d}.npy"), rng.random((1, 3, 8, 8), dtype=np.float32))
    return d


def run_engine(env, engine, x, tag):
    import numpy as np
    np.save(env.path(f"in_{tag}.npy"), x)
    out = env.path(f"out_{tag}")
    env.run(["run", "--engine", engine, "--input", f"x={env.path(f'in_{tag}.npy')}", "--output-dir", out], 0)
    return np.load(os.path.join(out, "y.npy"))


def rel_l2(a, b):
    import numpy as np
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@case
def calibrate_then_rebuild_from_cache(env):
    need_onnx()
    import numpy as np
    model = conv_net(env)
    calib = write_samples(env, "calib", 24)
    cache = env.path("net.calib")
    fp32 = env.path("fp32.engine")
    env.run(["build", "--onnx", model, "--out", fp32, "--batch", "4"], 0)
    int8 = env.path("int8.engine")
    p = env.run(["build", "--onnx", model, "--out", int8, "--batch", "4", "--int8", "--calib", calib,
                 "--calib-cache", cache], 0,
                stderr_has=["calibrating 3 tensors [", "24/24 samples", "calibration cache written to " + cache,
                            "INT8: 3 layers quantized"], stdout_has=["int8:        3 activations quantized"])
    text = open(cache).read()
    for needed in ("format: 1", "calibrator: entropy", "samples: 24", "amax "):
        if needed not in text:
            raise Failure(f"the calibration cache lacks {needed!r}:\n{text}")
    ranges = {line.split(" ", 2)[2]: float(line.split(" ", 2)[1]) for line in text.splitlines()
              if line.startswith("amax ")}
    if sorted(ranges) != ["f", "r1", "x"]:
        raise Failure(f"the cache measured {sorted(ranges)}, expected the inputs of conv1, conv2 and fc")
    if not 0.5 < ranges["x"] <= 1.0:  # the samples are uniform in [0, 1)
        raise Failure(f"amax of x is {ranges['x']}, expected close to 1")

    x = np.random.default_rng(5).random((4, 3, 8, 8), dtype=np.float32)
    y32 = run_engine(env, fp32, x, "fp32")
    y8 = run_engine(env, int8, x, "int8")
    err = rel_l2(y8, y32)
    if np.array_equal(y8, y32) or not err < 0.05:
        raise Failure(f"int8 against float32: relative L2 error {err} (expected 0 < error < 0.05)")

    # The rebuild reads the ranges and runs no calibration; the engine computes the same.
    again = env.path("again.engine")
    p = env.run(["build", "--onnx", model, "--out", again, "--batch", "4", "--int8", "--calib-cache", cache], 0,
                stderr_has=["calibration skipped: 3 tensor ranges from the calibration cache " + cache])
    if "calibrating" in p.stderr:
        raise Failure(f"the rebuild calibrated again:\n{p.stderr}")
    if not np.array_equal(run_engine(env, again, x, "again"), y8):
        raise Failure("the engine rebuilt from the cache computes differently")


@case
def each_calibrator(env):
    need_onnx()
    model = conv_net(env)
    calib = write_samples(env, "calib", 16, batch_files=True)
    amax = {}
    for name in ("entropy", "percentile", "minmax", "mse"):
        cache = env.path(f"{name}.calib")
        env.run(["build", "--onnx", model, "--out", env.path(f"{name}.engine"), "--int8", "--calib", calib,
                 "--calibrator", name, "--percentile", "99", "--calib-cache", cache], 0,
                stderr_has=["16/16 samples", "INT8: 3 layers quantized"])
        lines = open(cache).read().splitlines()
        if f"calibrator: {name}" not in "\n".join(lines):
            raise Failure(f"{cache} does not name the calibrator {name}")
        amax[name] = {line.split(" ", 2)[2]: float(line.split(" ", 2)[1]) for line in lines if line.startswith("amax ")}
    for tensor, top in amax["minmax"].items():
        for name in ("entropy", "percentile", "mse"):
            if not 0 < amax[name][tensor] <= top * 1.0001:
                raise Failure(f"{name} amax of {tensor} is {amax[name][tensor]}, minmax {top}: it must not exceed it")
    if amax["percentile"]["r1"] >= amax["minmax"]["r1"]:
        raise Failure(f"the 99th percentile of r1 ({amax['percentile']['r1']}) is not below its max")
    env.run(["build", "--onnx", model, "--out", env.path("x.engine"), "--int8", "--calib", calib, "--calibrator",
             "median"], 1, stderr_has=["median"])


@case
def images_through_preprocessing(env):
    need_onnx()
    import numpy as np
    model = conv_net(env)
    d = env.path("images")
    os.makedirs(d)
    rng = np.random.default_rng(3)
    for i in range(6):  # 12x10 RGB PPMs, stretched to 8x8
        pixels = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
        with open(os.path.join(d, f"img{i}.ppm"), "wb") as f:
            f.write(b"P6\n# made by the test\n12 10\n255\n" + pixels.tobytes())
    for value in (0, 255):  # flat images keep the extremes through the resize
        with open(os.path.join(d, f"flat{value}.ppm"), "wb") as f:
            f.write(b"P6\n12 10\n255\n" + bytes([value]) * 360)
    with open(os.path.join(d, "notes.txt"), "w") as f:
        f.write("not an image: ignored\n")
    cache = env.path("images.calib")
    env.run(["build", "--onnx", model, "--out", env.path("img.engine"), "--int8", "--calib", d, "--calibrator",
             "minmax", "--calib-cache", cache], 0, stderr_has=["8/8 samples", "INT8: 3 layers quantized"])
    plain = {l.split(" ", 2)[2]: float(l.split(" ", 2)[1]) for l in open(cache).read().splitlines() if l.startswith("amax ")}
    if abs(plain["x"] - 1.0) > 1e-6:  # pixels / 255
        raise Failure(f"amax of x from images scaled by 1/255 is {plain['x']}")
    # A model.yml that scales by 1/127.5 and subtracts 1: the flat images become -1 and 1; and one that scales by
    # 0.5/255: they become 0 and 0.5.
    for scale, mean, expected in (("0.00784313725", "1.0", 1.0), ("0.00196078431", "0.0", 0.5)):
        yml = env.path("model.yml")
        with open(yml, "w") as f:
            f.write(f"model:\n  onnx: {model}\ninput:\n  scale: {scale}\n  mean: [{mean}, {mean}, {mean}]\n")
        cache2 = env.path("images2.calib")
        env.run(["build", "--onnx", model, "--out", env.path("img2.engine"), "--int8", "--calib", d, "--config", yml,
                 "--calibrator", "minmax", "--calib-cache", cache2], 0, stderr_has=["8/8 samples"])
        scaled = {l.split(" ", 2)[2]: float(l.split(" ", 2)[1]) for l in open(cache2).read().splitlines()
                  if l.startswith("amax ")}
        if abs(scaled["x"] - expected) > 1e-5:
            raise Failure(f"amax of x through the model.yml pre-processing (scale {scale}, mean {mean}) is "
                          f"{scaled['x']}, expected {expected}")
        os.remove(cache2)


@case
def png_and_jpeg_images(env):
    """The same pictures as PNG give the PPM ranges exactly; as JPEG (lossy) nearly; a broken one is named."""
    need_onnx()
    import numpy as np
    try:
        from PIL import Image
    except ImportError:
        print("SKIP: PIL is not installed (it writes the PNG and JPEG files)")
        sys.exit(77)
    model = conv_net(env)
    rng = np.random.default_rng(4)
    pictures = [rng.integers(0, 256, (10, 12, 3), dtype=np.uint8) for _ in range(5)]
    pictures.append(np.full((10, 12, 3), 255, np.uint8))
    ranges = {}
    for fmt, ext in (("PPM", "ppm"), ("PNG", "png"), ("JPEG", "jpg")):
        d = env.path(fmt.lower())
        os.makedirs(d)
        for i, p in enumerate(pictures):
            Image.fromarray(p).save(os.path.join(d, f"img{i}.{ext}"), fmt, **({"quality": 95} if fmt == "JPEG" else {}))
        cache = env.path(f"{fmt.lower()}.calib")
        env.run(["build", "--onnx", model, "--out", env.path("e.engine"), "--int8", "--calib", d, "--calibrator",
                 "minmax", "--calib-cache", cache], 0, stderr_has=["6/6 samples"])
        ranges[fmt] = {l.split(" ", 2)[2]: float(l.split(" ", 2)[1]) for l in open(cache).read().splitlines()
                       if l.startswith("amax ")}
    if ranges["PNG"] != ranges["PPM"]:
        raise Failure(f"PNG ranges {ranges['PNG']} differ from the same pictures as PPM {ranges['PPM']}")
    for tensor, value in ranges["PPM"].items():
        if abs(ranges["JPEG"][tensor] - value) > 0.1 * value:
            raise Failure(f"JPEG range of {tensor} {ranges['JPEG'][tensor]} is far from the PPM one {value}")
    broken = env.path("broken")
    os.makedirs(broken)
    for name, data in (("a.png", b"\x89PNG\r\n\x1a\nnot really"), ("b.jpg", b"\xff\xd8\xff\xe0 truncated")):
        with open(os.path.join(broken, name), "wb") as f:
            f.write(data)
        env.run(["build", "--onnx", model, "--out", env.path("e.engine"), "--int8", "--calib", broken], 1,
                stderr_has=[os.path.join(broken, name) + ": not a readable image"])
        os.remove(os.path.join(broken, name))


@case
def calibration_errors(env):
    need_onnx()
    import numpy as np
    model = conv_net(env)
    out = env.path("e.engine")
    empty = env.path("empty")
    os.makedirs(empty)
    with open(os.path.join(empty, "readme.txt"), "w") as f:
        f.write("no samples here\n")
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", empty], 1,
            stderr_has=[empty + ": no calibration samples", "1 files"])
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", env.path("missing")], 1,
            stderr_has=[env.path("missing") + ": the calibration folder does not exist"])
    bad = env.path("bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "broken.ppm"), "wb") as f:
        f.write(b"P6\n12")
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", bad], 1,
            stderr_has=[os.path.join(bad, "broken.ppm") + ": not a readable image"])
    shapes = env.path("shapes")
    os.makedirs(shapes)
    np.save(os.path.join(shapes, "wrong.npy"), np.ones((1, 3, 9, 9), np.float32))
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", shapes], 1,
            stderr_has=[os.path.join(shapes, "wrong.npy") + ": shape [1,3,9,9] does not fit input 'x'"])
    env.run(["build", "--onnx", model, "--out", out, "--int8"], 1, stderr_has=["INT8 needs calibration data"])
    env.run(["build", "--onnx", model, "--out", out, "--calib", empty], 2, stderr_has=["need --int8"])

    # A cache made for one model is refused for another (other weights: other ranges).
    calib = write_samples(env, "calib", 4)
    cache = env.path("a.calib")
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", calib, "--calib-cache", cache], 0)
    other = conv_net(env, "other.onnx", seed=1)
    env.run(["build", "--onnx", other, "--out", out, "--int8", "--calib-cache", cache], 1,
            stderr_has=[cache, "was made for model"])
    with open(cache, "a") as f:
        f.write("amax minus-one oops\n")
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib-cache", cache], 1, stderr_has=[cache + ":"])


@case
def accuracy_budget(env):
    need_onnx()
    import re
    model = conv_net(env)
    calib = write_samples(env, "calib", 40)
    out = env.path("b.engine")
    # Loose: every layer stays int8. Tight: the most costly layers go back to float until it holds.
    p = env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", calib, "--accuracy-budget", "0.5"], 0,
                stderr_has=["5 samples held out", "accuracy budget 0.5 met with 0 of 3 layers in float",
                            "INT8: 3 layers quantized"])
    p = env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", calib, "--accuracy-budget", "1e-9"], 0,
                stderr_has=["accuracy budget 1e-9 met with 3 of 3 layers in float", "INT8: 0 layers quantized",
                            "kept in float for the accuracy budget"])
    m = re.search(r"probe: 0 of 3 layers in float: output rel. L2 error ([0-9.e+-]+)", p.stderr)
    if not m or not 0 < float(m.group(1)) < 0.5:
        raise Failure(f"the all-int8 probe's error is not reported or not in (0, 0.5):\n{p.stderr}")
    middle = float(m.group(1)) * 0.999  # just below all-int8's error: at least one layer back to float
    p = env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", calib, "--accuracy-budget",
                 "%.6g" % middle], 0, stderr_has=["met with"])
    kept = int(re.search(r"met with (\d) of 3 layers in float", p.stderr).group(1))
    if not 1 <= kept <= 3:
        raise Failure(f"a budget just below the all-int8 error kept {kept} layers in float:\n{p.stderr}")
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--calib", calib, "--accuracy-budget", "top1:101"], 1,
            stderr_has=["accuracy budget 'top1:101'"])
    env.run(["build", "--onnx", model, "--out", out, "--int8", "--accuracy-budget", "0.1"], 1,
            stderr_has=["an accuracy budget is judged on calibration samples"])


@case
def qdq_model_runs_with_its_scales(env):
    need_onnx()
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(11)
    w = rng.integers(-127, 128, (6, 4, 1, 1)).astype(np.int8)
    w_scale = (rng.random(6) * 0.02 + 0.005).astype(np.float32)
    x_scale = np.float32(0.02)
    inits = [numpy_helper.from_array(np.array(x_scale, np.float32), "xs"),
             numpy_helper.from_array(np.array(0, np.int8), "xz"),
             numpy_helper.from_array(w, "wq"), numpy_helper.from_array(w_scale, "ws"),
             numpy_helper.from_array(np.zeros(6, np.int8), "wz")]
    nodes = [helper.make_node("QuantizeLinear", ["x", "xs", "xz"], ["xq"], name="q"),
             helper.make_node("DequantizeLinear", ["xq", "xs", "xz"], ["xd"], name="dq"),
             helper.make_node("DequantizeLinear", ["wq", "ws", "wz"], ["wd"], name="dqw", axis=0),
             helper.make_node("Conv", ["xd", "wd"], ["y"], name="conv")]
    model = save_model(env.path("qdq.onnx"), nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 6, 5, 5])], inits, opset=13)
    engine = env.path("qdq.engine")
    env.run(["build", "--onnx", model, "--out", engine, "--int8"], 0,
            stderr_has=["INT8 from the model's QuantizeLinear/DequantizeLinear scales (no calibration)"])
    x = (rng.standard_normal((1, 4, 5, 5)) * 1.5).astype(np.float32)
    np.save(env.path("x.npy"), x)
    env.run(["run", "--engine", engine, "--input", f"x={env.path('x.npy')}", "--output-dir", env.path("o")], 0)
    y = np.load(env.path(os.path.join("o", "y.npy")))
    # ONNX semantics by hand: round half to even, saturate to int8, integer products, per-channel scales.
    xq = np.clip(np.rint(x / x_scale), -128, 127).astype(np.int32)
    acc = np.einsum("oi,nihw->nohw", w[:, :, 0, 0].astype(np.int32), xq)
    expected = acc.astype(np.float32) * x_scale * w_scale[None, :, None, None]
    err = float(np.abs(y - expected).max() / np.abs(expected).max())
    if err > 1e-5:
        raise Failure(f"the Q/DQ model computes {err} relative error against its ONNX semantics")


if __name__ == "__main__":
    sys.exit(cli_main(CASES, lambda rtexec, work, args: BackendEnv(rtexec, work, args.backend)))
