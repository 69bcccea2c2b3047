#!/usr/bin/env python3
"""rtexec compare: an engine against the same model's CPU reference (no error, full top-1 agreement), against
a copy of the model with one layer's weights changed (the per-layer report names that layer as the first jump),
the data folder's layouts (batches split and padded, one subfolder per input) and its errors.

Usage: compare_cli_test.py --rtexec PATH --work DIR CASE   (--list prints the cases)
Exit 0 = pass, 1 = fail, 77 = skipped (the onnx/numpy packages are missing).
"""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cli_test import Failure, main, need_onnx, save_model  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def mlp_model(env, name, batch, perturb=False):
    """y = MatMul(Tanh(MatMul(Tanh(MatMul(x, w1)), w2)), w3): x [batch, 8] -> y [batch, 10]. Layers mm1, mm2, mm3
    (tensors h1, h2, y) and Tanh layers th1, th2 (tensors t1, t2). perturb: w2 gets a different random matrix."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    w1 = rng.uniform(-0.5, 0.5, (8, 16)).astype(np.float32)
    w2 = rng.uniform(-0.5, 0.5, (16, 16)).astype(np.float32)
    w3 = rng.uniform(-0.5, 0.5, (16, 10)).astype(np.float32)
    if perturb:
        w2 = np.random.default_rng(99).uniform(-0.5, 0.5, (16, 16)).astype(np.float32)
    inits = [numpy_helper.from_array(w, n) for w, n in ((w1, "w1"), (w2, "w2"), (w3, "w3"))]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [batch, 10])
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h1"], name="mm1"),
             helper.make_node("Tanh", ["h1"], ["t1"], name="th1"),
             helper.make_node("MatMul", ["t1", "w2"], ["h2"], name="mm2"),
             helper.make_node("Tanh", ["h2"], ["t2"], name="th2"),
             helper.make_node("MatMul", ["t2", "w3"], ["y"], name="mm3")]
    return save_model(env.path(name), nodes, [x], [y], inits)


def write_samples(folder, shapes, seed=1):
    """One .npy file per shape, random non-zero float32 values; returns the number of samples (dim 0 of each
    batch, 1 for a single sample of rank 1)."""
    import numpy as np
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(seed)
    count = 0
    for i, shape in enumerate(shapes):
        data = rng.uniform(0.1, 1.0, shape).astype(np.float32) * rng.choice([-1.0, 1.0], shape).astype(np.float32)
        np.save(os.path.join(folder, f"sample_{i:02d}.npy"), data)
        count += shape[0] if len(shape) == 2 else 1
    return count


def output_row(stdout, name):
    """The numbers of an output's row: max_abs, mean_abs, rel_l2, cosine, top1 (None when '-')."""
    for line in stdout.splitlines():
        fields = line.split()
        if len(fields) == 7 and fields[0] == name:
            top1 = None if fields[6] == "-" else float(fields[6].rstrip("%"))
            return [float(v) for v in fields[2:6]] + [top1]
    raise Failure(f"no row for output {name!r} in:\n{stdout}")


def layer_rows(stdout):
    """(tensor, layer, rel_l2 text) of the per-layer table's numbered rows."""
    rows, inside = [], False
    for line in stdout.splitlines():
        if line.startswith("per-layer:"):
            inside = True
            continue
        if inside and re.match(r"^\d+\s", line):
            fields = line.split()
            rows.append((fields[1], fields[2], fields[4]))
    return rows


@case
def same_model_matches_reference(env):
    """A static-batch engine (batch 2) against its own ONNX model on the CPU: 5 samples in runs of 2, the last
    one padded; every error 0, top-1 agreement 100%, no jump."""
    need_onnx()
    model = mlp_model(env, "mlp.onnx", 2)
    engine = env.path("mlp.engine")
    env.run(["build", "--onnx", model, "--out", engine], 0)
    data = env.path("data")
    samples = write_samples(data, [(2, 8), (8,), (2, 8)])
    if samples != 5:
        raise Failure(f"the test wrote {samples} samples, meant 5")
    p = env.run(["compare", "--engine", engine, "--onnx", model, "--data", data, "--per-layer"], 0,
                stdout_has=["samples:   5 ", "runs of up to 2", "first jump: none"])
    max_abs, mean_abs, rel, cosine, top1 = output_row(p.stdout, "y")
    if max_abs > 1e-6 or mean_abs > 1e-6 or rel > 1e-6 or abs(cosine - 1.0) > 1e-6 or top1 != 100.0:
        raise Failure(f"expected no error and 100% top-1, got {output_row(p.stdout, 'y')}\n{p.stdout}")
    rows = layer_rows(p.stdout)
    tensors = [r[0] for r in rows]
    if tensors != ["h1", "t1", "h2", "t2", "y"]:
        raise Failure(f"per-layer tensors {tensors}, expected h1 t1 h2 t2 y in execution order\n{p.stdout}")
    if any(float(r[2]) > 1e-6 for r in rows):
        raise Failure(f"per-layer errors should be ~0:\n{p.stdout}")

    # The same against another engine of the model, and --max-samples.
    other = env.path("other.engine")
    env.run(["build", "--onnx", model, "--out", other], 0)
    p = env.run(["compare", "--engine", engine, "--reference", other, "--data", data, "--max-samples", "3"], 0,
                stdout_has=["samples:   3 "])
    if output_row(p.stdout, "y")[2] > 1e-6:
        raise Failure(f"engine against engine of the same model differs:\n{p.stdout}")


@case
def perturbed_layer_is_the_first_jump(env):
    """An engine of the model whose mm2 weights were changed, against the original model: h1 and t1 agree, the
    per-layer report names mm2's tensor h2 as the first jump, and the output error is large. Dynamic batch (max 4):
    a batch of 5 is split into 4 + 1."""
    need_onnx()
    original = mlp_model(env, "mlp.onnx", "N")
    perturbed = mlp_model(env, "mlp_perturbed.onnx", "N", perturb=True)
    engine = env.path("perturbed.engine")
    env.run(["build", "--onnx", perturbed, "--out", engine, "--max-batch", "4"], 0)
    data = env.path("data")
    write_samples(data, [(5, 8), (8,), (2, 8)], seed=3)
    p = env.run(["compare", "--engine", engine, "--onnx", original, "--data", data, "--per-layer"], 0,
                stdout_has=["samples:   8 ", "runs of up to 4",
                            "first jump: tensor 'h2' of layer mm2 (MatMul)"])
    max_abs, _, rel, cosine, top1 = output_row(p.stdout, "y")
    if rel < 0.2 or max_abs < 0.05 or cosine > 0.99:
        raise Failure(f"the output error of a changed layer should be large, got {output_row(p.stdout, 'y')}\n"
                      f"{p.stdout}")
    if top1 is None:
        raise Failure(f"a 2-D output should get a top-1 agreement\n{p.stdout}")
    rows = {r[0]: r for r in layer_rows(p.stdout)}
    for name in ("h1", "t1"):
        if name not in rows or float(rows[name][2]) > 1e-6:
            raise Failure(f"{name} comes before the changed layer and should agree:\n{p.stdout}")
    jumps = [line for line in p.stdout.splitlines() if line.endswith("<- first jump")]
    if len(jumps) != 1 or jumps[0].split()[1] != "h2":
        raise Failure(f"exactly h2 should be marked as the first jump:\n{p.stdout}")

    # A floor above every error: no jump.
    env.run(["compare", "--engine", engine, "--onnx", original, "--data", data, "--per-layer", "--jump-floor",
             "1000"], 0, stdout_has=["first jump: none"])


@case
def inputs_in_subfolders(env):
    """A model with two inputs reads one subfolder per input; the k-th files of both belong together."""
    need_onnx()
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.random.default_rng(5).uniform(-1, 1, (4, 3)).astype(np.float32), "w")
    vi = helper.make_tensor_value_info
    nodes = [helper.make_node("Mul", ["a", "b"], ["ab"], name="mul"),
             helper.make_node("MatMul", ["ab", "w"], ["y"], name="mm")]
    model = save_model(env.path("two.onnx"), nodes, [vi("a", TensorProto.FLOAT, [1, 4]),
                                                     vi("b", TensorProto.FLOAT, [1, 4])],
                       [vi("y", TensorProto.FLOAT, [1, 3])], [w])
    engine = env.path("two.engine")
    env.run(["build", "--onnx", model, "--out", engine], 0)
    data = env.path("data")
    write_samples(os.path.join(data, "a"), [(3, 4), (4,)], seed=1)
    write_samples(os.path.join(data, "b"), [(3, 4), (4,)], seed=2)
    p = env.run(["compare", "--engine", engine, "--onnx", model, "--data", data, "--top1"], 0,
                stdout_has=["samples:   4 "])
    if output_row(p.stdout, "y")[2] > 1e-6 or output_row(p.stdout, "y")[4] != 100.0:
        raise Failure(f"expected no error:\n{p.stdout}")
    # Files that belong together must hold as many samples.
    write_samples(os.path.join(data, "b"), [(2, 4), (4,)], seed=2)
    env.run(["compare", "--engine", engine, "--onnx", model, "--data", data], 1,
            stderr_has=["sample_00.npy: 2 samples", "has 3"])
    shutil.rmtree(os.path.join(data, "b"))
    env.run(["compare", "--engine", engine, "--onnx", model, "--data", data], 1,
            stderr_has=["has no subfolder 'b' for input 'b'"])


@case
def compare_errors(env):
    """Missing, empty and ill-fitting data; usage errors."""
    need_onnx()
    import numpy as np
    model = mlp_model(env, "mlp.onnx", 1)
    engine = env.path("mlp.engine")
    env.run(["build", "--onnx", model, "--out", engine], 0)
    missing = env.path("no_such_dir")
    env.run(["compare", "--engine", engine, "--onnx", model, "--data", missing], 1,
            stderr_has=["rtexec compare: error:", f"data folder '{missing}' does not exist"])
    empty = env.path("empty")
    os.makedirs(empty)
    with open(os.path.join(empty, "notes.txt"), "w") as f:
        f.write("not a sample\n")
    env.run(["compare", "--engine", engine, "--onnx", model, "--data", empty], 1,
            stderr_has=[f"no .npy files in '{empty}'"])
    bad = env.path("bad")
    write_samples(bad, [(8,)])
    wrong = os.path.join(bad, "sample_01.npy")
    np.save(wrong, np.ones((2, 7), np.float32))
    env.run(["compare", "--engine", engine, "--onnx", model, "--data", bad], 1,
            stderr_has=[wrong, "shape [2,7]", "input 'x' [1,8]", "[8]", "[?,8]"])
    np.save(wrong, np.ones((8,), np.float64))
    env.run(["compare", "--engine", engine, "--onnx", model, "--data", bad], 1,
            stderr_has=[wrong, "dtype float64", "input 'x'", "float32"])
    env.run(["compare", "--engine", env.path("nope.engine"), "--onnx", model, "--data", bad], 1,
            stderr_has=["nope.engine"])
    env.run(["compare", "--engine", engine, "--onnx", model], 2, stderr_has=["missing required flag --data"])
    env.run(["compare", "--engine", engine, "--data", bad], 2, stderr_has=["missing required flag --reference"])
    env.run(["compare", "--engine", engine, "--onnx", model, "--reference", engine, "--data", bad], 2,
            stderr_has=["give --reference or --onnx, not both"])
    env.run(["compare", "--help"], 0, stdout_has=["usage: rtexec compare", "--per-layer", "--jump-floor",
                                                  "--jump-factor", "--max-samples", "--top1", "subfolder"])


if __name__ == "__main__":
    sys.exit(main(CASES))
