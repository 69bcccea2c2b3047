#!/usr/bin/env python3
"""Command-line tests of rtexec: bad input gives one clear error line and exit code 1 or 2, never a crash.

Usage: cli_test.py --rtexec PATH --work DIR CASE   (one CTest test per CASE; --list prints the cases)
Exit 0 = pass, 1 = fail, 77 = skipped (the onnx/numpy packages are missing).
Models are generated here with the onnx package; nothing binary is checked in.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

SKIP = 77
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


class Failure(Exception):
    pass


class Env:
    def __init__(self, rtexec, work):
        self.rtexec = rtexec
        self.work = work

    def path(self, name):
        return os.path.join(self.work, name)

    def run(self, args, code, stderr_has=(), stdout_has=(), one_error_line=True):
        """Runs rtexec; checks the exit code (never a signal), and the texts that must appear."""
        cmd = [self.rtexec] + list(args)
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        except subprocess.TimeoutExpired:
            raise Failure(f"timed out: {' '.join(cmd)}")
        where = f"\n  command: {' '.join(cmd)}\n  exit: {p.returncode}\n  stdout: {p.stdout[-2000:]}" \
                f"\n  stderr: {p.stderr[-2000:]}"
        if p.returncode < 0:
            raise Failure(f"crashed with signal {-p.returncode}{where}")
        if p.returncode not in (0, 1, 2):
            raise Failure(f"exit code {p.returncode} is none of 0, 1, 2{where}")
        if p.returncode != code:
            raise Failure(f"expected exit code {code}{where}")
        for text in stderr_has:
            if text not in p.stderr:
                raise Failure(f"stderr lacks {text!r}{where}")
        for text in stdout_has:
            if text not in p.stdout:
                raise Failure(f"stdout lacks {text!r}{where}")
        if code != 0 and one_error_line:
            errors = [line for line in p.stderr.splitlines() if ": error: " in line]
            if len(errors) != 1 or not errors[0].startswith("rtexec"):
                raise Failure(f"expected exactly one 'rtexec ...: error: ...' line on stderr{where}")
        return p


def need_onnx():
    try:
        import numpy  # noqa: F401
        import onnx  # noqa: F401
    except ImportError:
        print("SKIP: the onnx and numpy Python packages are not installed")
        sys.exit(SKIP)


def save_model(path, nodes, inputs, outputs, initializers=(), opset=13):
    from onnx import helper
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="rtexec-test")
    model.ir_version = 7
    with open(path, "wb") as f:
        f.write(model.SerializeToString())
    return path


def relu_model(env, name="relu.onnx"):
    """y = Relu(x), x float32 [2,3]."""
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    return save_model(env.path(name), [helper.make_node("Relu", ["x"], ["y"], name="relu0")], [x], [y])


def build_engine(env, model, engine_name="m.engine"):
    engine = env.path(engine_name)
    env.run(["build", "--onnx", model, "--out", engine], 0, stdout_has=["layers"])
    return engine


# --- usage errors (exit 2) -------------------------------------------------------------------------------

@case
def help_all(env):
    p = env.run(["--help"], 0)
    for command in ("build", "run", "bench", "inspect", "conformance", "compare"):
        if command not in p.stdout:
            raise Failure(f"rtexec --help does not list {command}")
        sub = env.run([command, "--help"], 0, stdout_has=[f"usage: rtexec {command}", "--help"])
        if sub.stderr:
            raise Failure(f"{command} --help wrote to stderr: {sub.stderr}")
    env.run(["build", "--help"], 0, stdout_has=["--onnx", "--out", "--fp16", "--min-batch", "--memory-budget"])
    env.run(["run", "--help"], 0, stdout_has=["--engine", "--input", "--output-dir", "--seed"])
    env.run(["bench", "--help"], 0, stdout_has=["--streams", "--iterations", "--warmup"])
    env.run(["inspect", "--help"], 0, stdout_has=["--capability", "--engine"])
    env.run(["conformance", "--help"], 0, stdout_has=["--filter", "--pass-list", "--write-pass-list", "--rtol"])


@case
def no_command(env):
    env.run([], 2, stderr_has=["usage: rtexec <command>"], one_error_line=False)


@case
def unknown_command(env):
    env.run(["frobnicate"], 2, stderr_has=["rtexec: error: unknown command 'frobnicate'"])


@case
def unknown_flag(env):
    env.run(["build", "--onnx", "m.onnx", "--out", "m.engine", "--turbo"], 2,
            stderr_has=["rtexec build: error: unknown flag '--turbo'"])
    env.run(["run", "--engine", "m.engine", "--bogus=1"], 2, stderr_has=["rtexec run: error: unknown flag '--bogus'"])
    env.run(["inspect", "stray"], 2, stderr_has=["rtexec inspect: error: unexpected argument 'stray'"])


@case
def missing_value(env):
    env.run(["build", "--onnx"], 2, stderr_has=["rtexec build: error: missing value for --onnx"])
    env.run(["build", "--onnx", "--out", "m.engine"], 2, stderr_has=["missing value for --onnx"])
    env.run(["build", "--out", "m.engine"], 2, stderr_has=["missing required flag --onnx"])
    env.run(["run"], 2, stderr_has=["rtexec run: error: missing required flag --engine"])
    env.run(["conformance"], 2, stderr_has=["missing required flag --dir"])
    env.run(["inspect"], 2, stderr_has=["give exactly one of --onnx FILE or --engine FILE"])
    env.run(["run", "--engine", "m.engine", "--input", "novalue"], 2, stderr_has=["--input: expected NAME=FILE"])


@case
def bad_numbers(env):
    env.run(["build", "--onnx", "m.onnx", "--out", "e", "--batch", "abc"], 2,
            stderr_has=["--batch: 'abc' is not an integer"])
    env.run(["build", "--onnx", "m.onnx", "--out", "e", "--batch", "0"], 2, stderr_has=["--batch: 0 is out of range"])
    env.run(["build", "--onnx", "m.onnx", "--out", "e", "--batch", "99999999999999999999"], 2,
            stderr_has=["--batch: '99999999999999999999' is out of range"])
    env.run(["build", "--onnx", "m.onnx", "--out", "e", "--memory-budget", "12parsecs"], 2,
            stderr_has=["--memory-budget: '12parsecs' has an unknown unit 'parsecs'"])
    env.run(["build", "--onnx", "m.onnx", "--out", "e", "--min-batch", "8", "--max-batch", "2"], 2,
            stderr_has=["min <= opt <= max"])
    env.run(["build", "--onnx", "m.onnx", "--out", "e", "--batch", "2", "--max-batch", "4"], 2,
            stderr_has=["--batch cannot be combined"])
    env.run(["build", "--onnx", "m.onnx", "--out", "e", "--backend", "tpu"], 2, stderr_has=["unknown backend 'tpu'"])
    env.run(["bench", "--engine", "m.engine", "--streams", "-3"], 2, stderr_has=["--streams: -3 is out of range"])
    env.run(["bench", "--engine", "m.engine", "--iterations", "1.5"], 2,
            stderr_has=["--iterations: '1.5' is not an integer"])
    env.run(["conformance", "--dir", ".", "--rtol", "x"], 2, stderr_has=["--rtol: 'x' is not a number"])
    env.run(["conformance", "--dir", ".", "--atol", "-1"], 2, stderr_has=["--atol: '-1' must be at least"])


# --- runtime failures (exit 1) ---------------------------------------------------------------------------

@case
def missing_files(env):
    missing = env.path("does_not_exist.onnx")
    env.run(["build", "--onnx", missing, "--out", env.path("m.engine")], 1,
            stderr_has=["rtexec build: error: not found", missing])
    env.run(["inspect", "--onnx", missing], 1, stderr_has=[missing])
    env.run(["run", "--engine", env.path("nope.engine")], 1, stderr_has=["nope.engine"])
    env.run(["bench", "--engine", env.path("nope.engine")], 1, stderr_has=["nope.engine"])
    env.run(["inspect", "--engine", env.path("nope.engine")], 1, stderr_has=["nope.engine"])
    env.run(["conformance", "--dir", env.path("no_dir")], 1, stderr_has=["no_dir"])
    env.run(["conformance", "--dir", env.work, "--pass-list", env.path("no_list.txt")], 1, stderr_has=["no_list.txt"])


@case
def truncated_onnx(env):
    need_onnx()
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.arange(1, 65, dtype=np.float32).reshape(8, 8), "w")
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"), helper.make_node("Relu", ["h"], ["y"], name="r")]
    full = save_model(env.path("full.onnx"), nodes, [x], [y], [w])
    data = open(full, "rb").read()
    cut = env.path("truncated.onnx")
    with open(cut, "wb") as f:
        f.write(data[: len(data) // 2])
    env.run(["build", "--onnx", cut, "--out", env.path("t.engine")], 1, stderr_has=["rtexec build: error:", cut])
    env.run(["inspect", "--onnx", cut], 1, stderr_has=["rtexec inspect: error:", cut])
    if os.path.exists(env.path("t.engine")):
        raise Failure("a failed build left an engine file behind")


@case
def unknown_op(env):
    need_onnx()
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])
    nodes = [helper.make_node("Relu", ["x"], ["h"], name="ok_relu"),
             helper.make_node("FrobnicateTensor", ["h"], ["y"], name="mystery_node")]
    model = save_model(env.path("unknown_op.onnx"), nodes, [x], [y])
    env.run(["inspect", "--onnx", model, "--capability"], 1,
            stdout_has=["node 'mystery_node' (FrobnicateTensor)", "1 unsupported"], one_error_line=False)
    env.run(["build", "--onnx", model, "--out", env.path("u.engine")], 1,
            stderr_has=["rtexec build: error:", "mystery_node", "FrobnicateTensor"])


@case
def corrupted_engine(env):
    need_onnx()
    engine = build_engine(env, relu_model(env))
    data = bytearray(open(engine, "rb").read())
    env.run(["inspect", "--engine", engine], 0, stdout_has=["backend: cpu", "relu0", "Relu", "x", "y",
                                                             "measured peak device memory: not measured (a cpu engine"])

    flipped = env.path("flipped.engine")
    data[len(data) // 2] ^= 0x40
    with open(flipped, "wb") as f:
        f.write(data)
    for command in ("run", "bench"):
        env.run([command, "--engine", flipped], 1, stderr_has=[f"rtexec {command}: error: invalid engine", flipped])
    env.run(["inspect", "--engine", flipped], 1, stderr_has=["invalid engine"])

    truncated = env.path("truncated.engine")
    with open(truncated, "wb") as f:
        f.write(bytes(data[: len(data) // 3]))
    env.run(["run", "--engine", truncated], 1, stderr_has=["invalid engine", truncated])

    not_engine = env.path("relu_as_engine.engine")
    shutil.copy(env.path("relu.onnx"), not_engine)
    env.run(["run", "--engine", not_engine], 1, stderr_has=["invalid engine"])


@case
def bad_npy_input(env):
    need_onnx()
    import numpy as np
    engine = build_engine(env, relu_model(env))
    good = env.path("x.npy")
    np.save(good, np.ones((2, 3), np.float32))
    fortran = env.path("fortran.npy")
    np.save(fortran, np.asfortranarray(np.ones((2, 3), np.float32)))
    env.run(["run", "--engine", engine, "--input", f"x={fortran}"], 1, stderr_has=["fortran_order", fortran])
    wrong_shape = env.path("wrong_shape.npy")
    np.save(wrong_shape, np.ones((3, 2), np.float32))
    env.run(["run", "--engine", engine, "--input", f"x={wrong_shape}"], 1, stderr_has=["shape [3,2]", "[2,3]"])
    wrong_type = env.path("wrong_type.npy")
    np.save(wrong_type, np.ones((2, 3), np.float64))
    env.run(["run", "--engine", engine, "--input", f"x={wrong_type}"], 1, stderr_has=["float64", "float32"])
    cut = env.path("cut.npy")
    with open(good, "rb") as f:
        data = f.read()
    with open(cut, "wb") as f:
        f.write(data[:-5])
    env.run(["run", "--engine", engine, "--input", f"x={cut}"], 1, stderr_has=["data size mismatch", cut])
    env.run(["run", "--engine", engine, "--input", f"nosuch={good}"], 2,
            stderr_has=["'nosuch' is not an input of the engine (inputs: x)"])


# --- what works ------------------------------------------------------------------------------------------

@case
def run_and_bench(env):
    need_onnx()
    import json
    import numpy as np
    engine = build_engine(env, relu_model(env))
    x = np.array([[-1.5, 2.0, -0.25], [3.0, -4.0, 0.5]], np.float32)
    np.save(env.path("x.npy"), x)
    out_dir = env.path("out")
    env.run(["run", "--engine", engine, "--input", f"x={env.path('x.npy')}", "--output-dir", out_dir], 0,
            stdout_has=["output 'y' float32 [2,3]", "max 3"])
    y = np.load(os.path.join(out_dir, "y.npy"))
    if y.dtype != np.float32 or not np.array_equal(y, np.maximum(x, 0)):
        raise Failure(f"run wrote {y!r}, expected {np.maximum(x, 0)!r}")

    # Random inputs are deterministic in the seed and non-zero.
    outs = []
    for seed, sub in ((7, "a"), (7, "b"), (8, "c")):
        env.run(["run", "--engine", engine, "--seed", str(seed), "--output-dir", env.path(sub)], 0)
        outs.append(np.load(env.path(os.path.join(sub, "y.npy"))))
    if not np.array_equal(outs[0], outs[1]) or np.array_equal(outs[0], outs[2]) or not outs[0].any():
        raise Failure(f"random inputs are not deterministic per seed: {outs}")

    p = env.run(["bench", "--engine", engine, "--streams", "2", "--iterations", "20", "--warmup", "2"], 0,
                stdout_has=["p99_ms", "items/s"])
    result = json.loads(p.stdout.strip().splitlines()[-1])
    for key in ("mean", "p50", "p90", "p99", "min", "max"):
        if not result["latency_ms"][key] >= 0:
            raise Failure(f"bad latency_ms.{key} in {result}")
    lat = result["latency_ms"]
    if not (lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"]):
        raise Failure(f"percentiles out of order: {lat}")
    # The model's static batch is dim 0 of x: 2 items per inference.
    if result["streams"] != 2 or result["iterations"] != 20 or result["batch"] != 2 or result["throughput_ips"] <= 0:
        raise Failure(f"bad bench JSON: {result}")
    if abs(result["items_per_s"] - 2 * result["throughput_ips"]) > 1e-3 * result["items_per_s"]:
        raise Failure(f"items_per_s is not batch * throughput_ips: {result}")
    # A CPU engine uses no device memory; the measured peak is reported for CUDA engines only.
    if result.get("peak_device_bytes") != 0 or "device memory:" in p.stdout:
        raise Failure(f"a CPU engine reports device memory: {result}")


def write_case(root, name, nodes, inputs, outputs, feeds, expected):
    """An ONNX backend test case folder: model.onnx + test_data_set_0/{input,output}_N.pb."""
    from onnx import numpy_helper
    folder = os.path.join(root, name)
    data = os.path.join(folder, "test_data_set_0")
    os.makedirs(data)
    save_model(os.path.join(folder, "model.onnx"), nodes, inputs, outputs)
    for kind, arrays, infos in (("input", feeds, inputs), ("output", expected, outputs)):
        for i, (array, info) in enumerate(zip(arrays, infos)):
            with open(os.path.join(data, f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(array, info.name).SerializeToString())


@case
def conformance_mini(env):
    need_onnx()
    import numpy as np
    from onnx import TensorProto, helper
    root = env.path("cases")
    x = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]], np.float32)
    vi = helper.make_tensor_value_info
    xi, yi = vi("x", TensorProto.FLOAT, [2, 3]), vi("y", TensorProto.FLOAT, [2, 3])
    write_case(root, "test_relu_good", [helper.make_node("Relu", ["x"], ["y"])], [xi], [yi], [x], [np.maximum(x, 0)])
    write_case(root, "test_relu_wrong", [helper.make_node("Relu", ["x"], ["y"])], [xi], [yi], [x],
               [np.maximum(x, 0) + np.float32(0.5)])
    write_case(root, "test_unknown_op", [helper.make_node("FrobnicateTensor", ["x"], ["y"], name="frob")], [xi], [yi],
               [x], [x])
    os.makedirs(os.path.join(root, "not_a_case"))

    pass_list = env.path("pass.txt")
    p = env.run(["conformance", "--dir", root, "--write-pass-list", pass_list], 1,
                stdout_has=["PASS test_relu_good", "FAIL test_relu_wrong: test_data_set_0: output 'y'",
                            "SKIP test_unknown_op:", "FrobnicateTensor"], one_error_line=False)
    lines = p.stdout.strip().splitlines()
    if lines[-1] != "1 passed, 1 failed, 1 skipped":
        raise Failure(f"bad summary line: {lines[-1]!r}")
    order = [line.split()[1].rstrip(":") for line in lines[:-1]]
    if order != ["test_relu_good", "test_relu_wrong", "test_unknown_op"]:
        raise Failure(f"cases not in sorted order: {order}")
    if open(pass_list).read() != "test_relu_good\n":
        raise Failure(f"bad pass list: {open(pass_list).read()!r}")

    # The pass list decides the exit code: listed cases pass -> 0 (the failing unlisted one does not matter).
    env.run(["conformance", "--dir", root, "--pass-list", pass_list], 0, one_error_line=False)
    env.run(["conformance", "--dir", root, "--filter", "good"], 0, stdout_has=["1 passed, 0 failed, 0 skipped"])
    env.run(["conformance", "--dir", root, "--isolate", "--timeout", "60"], 1,
            stdout_has=["PASS test_relu_good", "1 passed, 1 failed, 1 skipped"], one_error_line=False)
    # A tolerance wide enough makes the wrong case pass.
    env.run(["conformance", "--dir", root, "--filter", "relu", "--atol", "0.6"], 0,
            stdout_has=["2 passed, 0 failed, 0 skipped"])
    with open(pass_list, "a") as f:
        f.write("# comment\n\ntest_relu_wrong\ntest_gone\n")
    env.run(["conformance", "--dir", root, "--pass-list", pass_list], 1,
            stdout_has=["REGRESSION test_relu_wrong: in the pass list, now FAIL",
                        "REGRESSION test_gone: in the pass list, now not found"], one_error_line=False)


def add_data_set(root, name, index, feeds, expected):
    from onnx import numpy_helper
    data = os.path.join(root, name, f"test_data_set_{index}")
    os.makedirs(data)
    for kind, arrays in (("input", feeds), ("output", expected)):
        for i, array in enumerate(arrays):
            with open(os.path.join(data, f"{kind}_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(array, f"{kind}{i}").SerializeToString())


@case
def conformance_compare(env):
    """How outputs are compared: NaN, infinities, the rtol boundary, shape and dtype, later data sets."""
    need_onnx()
    import numpy as np
    from onnx import TensorProto, helper
    root = env.path("cases")
    xi = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    yi = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    relu = [helper.make_node("Relu", ["x"], ["y"])]
    f32 = lambda *v: np.array(v, np.float32)  # noqa: E731
    inf, nan = np.inf, np.nan
    cases = {
        "test_a_nan_matches_nan": ([f32(nan, -1, 2, inf)], [f32(nan, 0, 2, inf)], "PASS"),
        "test_b_nan_vs_number": ([f32(nan, -1, 2, 3)], [f32(0, 0, 2, 3)], "FAIL"),
        "test_c_inf_sign": ([f32(inf, -1, 2, 3)], [f32(-inf, 0, 2, 3)], "FAIL"),
        "test_d_within_rtol": ([f32(1000.9, -1, 2, 3)], [f32(1000, 0, 2, 3)], "PASS"),
        "test_e_beyond_rtol": ([f32(1001.5, -1, 2, 3)], [f32(1000, 0, 2, 3)], "FAIL"),
        "test_f_wrong_shape": ([f32(1, 2, 3, 4)], [f32(1, 2, 3, 4).reshape(2, 2)], "FAIL"),
        "test_g_wrong_dtype": ([f32(1, 2, 3, 4)], [np.array([1, 2, 3, 4], np.float64)], "FAIL"),
    }
    for name, (feeds, expected, _) in cases.items():
        write_case(root, name, relu, [xi], [yi], feeds, expected)
    add_data_set(root, "test_a_nan_matches_nan", 1, [f32(-5, 5, -5, 5)], [f32(0, 5, 0, 5)])
    add_data_set(root, "test_d_within_rtol", 1, [f32(-5, 5, -5, 5)], [f32(0, 5, 0, 6)])
    cases["test_d_within_rtol"] = (None, None, "FAIL")

    p = env.run(["conformance", "--dir", root], 1, one_error_line=False)
    lines = {line.split()[1].rstrip(":"): line for line in p.stdout.splitlines()[:-1]}
    for name, (_, _, want) in cases.items():
        if not lines.get(name, "").startswith(want):
            raise Failure(f"{name}: expected {want}, got {lines.get(name)!r}\n{p.stdout}")
    details = {
        "test_b_nan_vs_number": "worst at [0]: got nan, expected 0",
        "test_e_beyond_rtol": "1 of 4 values differ; worst at [0]: got 1001.5, expected 1000 (max abs error 1.5)",
        "test_f_wrong_shape": "shape [4], expected [2,2]",
        "test_g_wrong_dtype": "dtype float32, expected float64",
        "test_d_within_rtol": "test_data_set_1: output 'y': 1 of 4 values differ",
    }
    for name, text in details.items():
        if text not in lines[name]:
            raise Failure(f"{name}: {text!r} not in {lines[name]!r}")
    if p.stdout.splitlines()[-1] != "1 passed, 6 failed, 0 skipped":
        raise Failure(f"bad summary: {p.stdout.splitlines()[-1]!r}")


def relu_dynamic_model(env):
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])
    return save_model(env.path("dyn.onnx"), [helper.make_node("Relu", ["x"], ["y"], name="relu0")], [x], [y])


@case
def dynamic_batch(env):
    need_onnx()
    import json
    import numpy as np
    model = relu_dynamic_model(env)
    engine = env.path("dyn.engine")
    env.run(["build", "--onnx", model, "--out", engine, "--min-batch", "1", "--opt-batch", "2", "--max-batch", "4"], 0,
            stdout_has=["batch range: 1..4"])
    env.run(["inspect", "--engine", engine], 0, stdout_has=["batch range: 1..4", "x  float32 [?,3]"])
    x = np.arange(-4, 5, dtype=np.float32).reshape(3, 3)
    np.save(env.path("x.npy"), x)
    env.run(["run", "--engine", engine, "--input", f"x={env.path('x.npy')}", "--output-dir", env.path("o1")], 0,
            stdout_has=["batch 3", "output 'y' float32 [3,3]"])
    if not np.array_equal(np.load(env.path("o1/y.npy")), np.maximum(x, 0)):
        raise Failure("wrong output at batch 3")
    env.run(["run", "--engine", engine, "--batch", "4", "--output-dir", env.path("o2")], 0,
            stdout_has=["input  'x' float32 [4,3] random"])
    if np.load(env.path("o2/y.npy")).shape != (4, 3):
        raise Failure("--batch 4 did not give a [4,3] output")
    env.run(["run", "--engine", engine, "--batch", "9"], 1, stderr_has=["batch 9 is outside the engine's range [1, 4]"])
    env.run(["run", "--engine", engine, "--batch", "2", "--input", f"x={env.path('x.npy')}"], 1,
            stderr_has=["shape [3,3], the engine expects [2,3]"])
    p = env.run(["bench", "--engine", engine, "--batch", "4", "--iterations", "10", "--warmup", "1"], 0)
    result = json.loads(p.stdout.strip().splitlines()[-1])
    if result["batch"] != 4 or abs(result["items_per_s"] - 4 * result["throughput_ips"]) > 1e-3 * result["items_per_s"]:
        raise Failure(f"bad bench JSON at batch 4: {result}")
    # A fixed batch on a model whose batch is static must match it.
    static = relu_model(env)
    env.run(["build", "--onnx", static, "--out", env.path("s.engine"), "--batch", "2"], 0)
    env.run(["build", "--onnx", static, "--out", env.path("s3.engine"), "--batch", "3"], 1, stderr_has=["static batch"])


@case
def data_dependent_output(env):
    """NonZero's output shape is known only after the run: run reads it with output_data."""
    need_onnx()
    import numpy as np
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])
    y = helper.make_tensor_value_info("y", TensorProto.INT64, [2, None])
    model = save_model(env.path("nonzero.onnx"), [helper.make_node("NonZero", ["x"], ["y"], name="nz")], [x], [y])
    probe = subprocess.run([env.rtexec, "inspect", "--onnx", model, "--capability"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("SKIP: NonZero is not supported by this build")
        sys.exit(SKIP)
    engine = build_engine(env, model)
    xs = np.array([[0, 1.5, 0], [2, 0, -3]], np.float32)
    np.save(env.path("x.npy"), xs)
    env.run(["run", "--engine", engine, "--input", f"x={env.path('x.npy')}", "--output-dir", env.path("o")], 0,
            stdout_has=["output 'y' int64 [2,3]"])
    got = np.load(env.path("o/y.npy"))
    if got.dtype != np.int64 or not np.array_equal(got, np.array(np.nonzero(xs))):
        raise Failure(f"NonZero output {got!r}, expected {np.array(np.nonzero(xs))!r}")
    env.run(["bench", "--engine", engine, "--iterations", "5"], 0, stdout_has=["\"batch\":2"])


# --- CUDA builds (skip without a GPU) --------------------------------------------------------------------

def need_gpu():
    """Skips (saying why) when this machine has no NVIDIA GPU; otherwise a CUDA build must work."""
    if not os.path.exists("/dev/nvidiactl"):
        print("SKIP: no NVIDIA GPU on this machine (/dev/nvidiactl is absent)")
        sys.exit(SKIP)


def conv_model(env, name="conv.onnx"):
    """x [1,8,16,16] -> Conv 3x3 + Relu -> Conv 1x1 -> y, seeded float32 weights."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(3)
    w1 = numpy_helper.from_array(rng.uniform(-0.5, 0.5, (16, 8, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.uniform(-0.5, 0.5, (8, 16, 1, 1)).astype(np.float32), "w2")
    nodes = [helper.make_node("Conv", ["x", "w1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Conv", ["r1", "w2"], ["y"], name="conv2")]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 16, 16])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 16, 16])
    return save_model(env.path(name), nodes, [x], [y], [w1, w2])


@case
def memory_budget(env):
    """A build whose weights and activations exceed --memory-budget still builds and runs, with a warning that
    names both sizes; within the budget there is no warning."""
    need_onnx()
    model = conv_model(env)
    env.run(["build", "--onnx", model, "--out", env.path("tight.engine"), "--memory-budget", "1KiB"], 0,
            stderr_has=["weights and activations take", "of the 1 KiB memory budget", "over it"])
    env.run(["run", "--engine", env.path("tight.engine"), "--output-dir", env.path("tight.out")], 0)
    p = env.run(["build", "--onnx", model, "--out", env.path("roomy.engine"), "--memory-budget", "64MiB"], 0)
    if "memory budget" in p.stderr:
        raise Failure(f"a build within its memory budget warned:\n{p.stderr}")


@case
def timing_cache_cuda(env):
    """A rebuild with the timing cache measures nothing and gives the same engine bytes; a malformed cache or
    one from another GPU is rejected with a warning, the build goes on, and the file is left as it was."""
    need_onnx()
    need_gpu()
    model = conv_model(env)
    cache = env.path("timing.cache")
    base = ["build", "--onnx", model, "--backend", "cuda", "--fp16", "--verbose", "--timing-cache"]
    env.run(base + [cache, "--out", env.path("cold.engine")], 0)
    with open(cache) as f:
        text = f.read()
    if not text.startswith("rtinfer-timing-cache 1\ndevice cuda:") or text.count("\t") < 4:
        raise Failure(f"unexpected timing cache:\n{text}")
    engines = []
    for name in ("warm1.engine", "warm2.engine"):
        p = env.run(base + [cache, "--out", env.path(name)], 0)
        hits = re.search(r"\((\d+) from the timing cache of (\d+) entries\)", p.stdout + p.stderr)
        if not hits or int(hits.group(1)) == 0:
            raise Failure(f"the rebuild took nothing from the timing cache:\n{p.stdout}{p.stderr}")
        with open(env.path(name), "rb") as f:
            engines.append(f.read())
    with open(env.path("cold.engine"), "rb") as f:
        cold = f.read()
    if engines[0] != engines[1] or cold != engines[0]:
        raise Failure("builds with the same timing cache differ in their bytes")
    # inspect measures one inference's device memory: at least the weights and the planned activations.
    p = env.run(["inspect", "--engine", env.path("cold.engine")], 0)
    planned = sum(int(m) for m in re.findall(r"(?:weights|activations):\s+\S+ \S+ \((\d+) bytes\)", p.stdout))
    measured = re.search(r"measured peak device memory: \S+ \S+ \((\d+) bytes; one context", p.stdout)
    if not measured or planned == 0 or int(measured.group(1)) < planned:
        raise Failure(f"inspect's measured peak is missing or below the planned weights and activations:\n{p.stdout}")

    foreign = text.replace("device cuda:", "device cuda:other-", 1)
    for name, content, why in (("garbage.cache", "this is not a cache\n", "not an rtinfer timing cache"),
                               ("foreign.cache", foreign, "was made for 'cuda:other-")):
        path = env.path(name)
        with open(path, "w") as f:
            f.write(content)
        env.run(base + [path, "--out", env.path(name + ".engine")], 0, stderr_has=["timing cache rejected", why])
        with open(path) as f:
            if f.read() != content:
                raise Failure(f"the rejected cache {name} was changed")
        env.run(["run", "--engine", env.path(name + ".engine"), "--output-dir", env.path(name + ".out")], 0)


def main(cases=None, make_env=None, add_arguments=None):
    """The driver of a file of cases (this file's when None): --list, or one case run in a fresh --work folder.
    make_env(rtexec, work, args) makes the case's environment (default: Env); args.backend is --backend's, and
    add_arguments(parser) adds a driver's own options."""
    cases = CASES if cases is None else cases
    parser = argparse.ArgumentParser()
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--rtexec")
    parser.add_argument("--work")
    parser.add_argument("--backend", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("case", nargs="?")
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args()
    if args.list:
        print("\n".join(cases))
        return 0
    if args.case not in cases or not args.rtexec or not args.work:
        parser.error("need --rtexec, --work and one of: " + ", ".join(cases))
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(args.work)
    rtexec, work = os.path.abspath(args.rtexec), os.path.abspath(args.work)
    try:
        cases[args.case](make_env(rtexec, work, args) if make_env else Env(rtexec, work))
    except Failure as e:
        print(f"FAIL {args.case}: {e}")
        return 1
    print(f"PASS {args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
