#!/usr/bin/env python3
"""The engine cache from the command line: `rtexec build --cache-dir` raced by two processes (one build, one
valid engine), the entry lock really waited for, `rtexec run/bench --onnx` through the cache, damaged and
foreign (other SDK version, other device) entries reported and rebuilt, an unwritable cache folder named;
and rtinfer-prebuild over a config folder of two models (built, then reused, its status file and --check).

Usage: cache_test.py --rtexec PATH [--prebuild PATH] --work DIR CASE   (--list prints the cases)
Exit 0 = pass, 1 = fail, 77 = skipped (the onnx/numpy packages are missing).
"""
import fcntl
import glob
import os
import shutil
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_test import Env, Failure, need_onnx, save_model  # noqa: E402
from cli_test import main as cli_main  # noqa: E402

CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def chain_model(env, name="chain.onnx", layers=48, width=64, seed=1):
    """x [4,width] through `layers` MatMul+Add+Relu blocks: enough nodes that a build takes a moment."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "x"
    for i in range(layers):
        w = (rng.standard_normal((width, width)) * 0.1).astype(np.float32)
        b = (rng.standard_normal(width) * 0.1 + 0.05).astype(np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        nodes += [helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"], name=f"mm{i}"),
                  helper.make_node("Add", [f"m{i}", f"b{i}"], [f"a{i}"], name=f"add{i}"),
                  helper.make_node("Relu", [f"a{i}"], [f"r{i}"], name=f"relu{i}")]
        prev = f"r{i}"
    nodes.append(helper.make_node("Identity", [prev], ["y"], name="out"))
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, width])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, width])
    return save_model(env.path(name), nodes, [x], [y], inits)


def entries(cache):
    return sorted(glob.glob(os.path.join(cache, "*.engine")))


def only_entry(cache):
    found = entries(cache)
    if len(found) != 1:
        raise Failure(f"expected one engine in {cache}, found {found}")
    leftovers = [f for f in os.listdir(cache) if ".tmp." in f]
    if leftovers:
        raise Failure(f"temporary files left in {cache}: {leftovers}")
    return found[0]


def check_runs(env, engine):
    env.run(["run", "--engine", engine, "--output-dir", env.path("outputs")], 0, stdout_has=["y"])


def cached_build(env, model, cache, *extra):
    return env.run(["build", "--onnx", model, "--cache-dir", cache] + list(extra), 0)


def refresh_crcs(data):
    """Recomputes the metadata and header CRC-32s of an engine file (core/serialize/engine_file.cpp)."""
    meta_off = int.from_bytes(data[24:32], "little")
    meta_size = int.from_bytes(data[32:40], "little")
    data[56:60] = zlib.crc32(bytes(data[meta_off:meta_off + meta_size])).to_bytes(4, "little")
    data[76:80] = zlib.crc32(bytes(data[:76])).to_bytes(4, "little")


def patch_string(data, old, new):
    """Replaces the first length-prefixed string `old` in the metadata by `new` (same length)."""
    assert len(old) == len(new)
    needle = len(old).to_bytes(4, "little") + old.encode()
    at = data.find(needle, 80)
    if at < 0:
        raise Failure(f"no string {old!r} in the engine's metadata")
    data[at + 4:at + 4 + len(new)] = new.encode()
    refresh_crcs(data)


@case
def concurrent_builds(env):
    """Two `rtexec build` processes started together on one model: one builds, the other reuses its engine."""
    need_onnx()
    model = chain_model(env)
    cache = env.path("cache")
    cmd = [env.rtexec, "build", "--onnx", model, "--cache-dir", cache]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=240) for p in procs]
    report = "\n".join(f"--- process {i}: exit {p.returncode}\n{o}{e}"
                       for i, (p, (o, e)) in enumerate(zip(procs, outs)))
    if any(p.returncode != 0 for p in procs):
        raise Failure("a build failed\n" + report)
    firsts = sorted(o.split(" ", 1)[0] for o, _ in outs)
    if firsts != ["built", "reused"]:
        raise Failure(f"expected one 'built' and one 'reused', got {firsts}\n" + report)
    engine = only_entry(cache)
    if not all(engine in o for o, _ in outs):
        raise Failure(f"both processes should name {engine}\n" + report)
    print(report)
    key = open(engine + ".key").read()
    for part in ("onnx=" + model, "sdk=", "backend=cpu", "device=cpu", "precision=fp32", "model="):
        if part not in key:
            raise Failure(f"the key file lacks {part!r}:\n{key}")
    check_runs(env, engine)
    # --out copies the cached engine; a third build reuses it.
    out = env.path("copy.engine")
    p = cached_build(env, model, cache, "--out", out)
    if not p.stdout.startswith("reused ") or open(out, "rb").read() != open(engine, "rb").read():
        raise Failure(f"--out should copy the reused entry:\n{p.stdout}")
    check_runs(env, out)


@case
def lock_is_waited_for(env):
    """While another process holds the entry's lock, rtexec waits, then loads what that process wrote."""
    need_onnx()
    model = chain_model(env, layers=4)
    first = env.path("first")
    cached_build(env, model, first)
    built = only_entry(first)
    cache = env.path("cache")
    os.makedirs(cache)
    entry = os.path.join(cache, os.path.basename(built))
    with open(entry + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        p = subprocess.Popen([env.rtexec, "build", "--onnx", model, "--cache-dir", cache],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)
        if p.poll() is not None:
            out, err = p.communicate()
            raise Failure(f"rtexec did not wait for the lock (exit {p.returncode}):\n{out}{err}")
        if os.path.exists(entry):
            raise Failure("rtexec built while the lock was held")
        shutil.copy(built, entry)  # what the lock holder would have built
    out, err = p.communicate(timeout=240)
    if p.returncode != 0 or "another process is building" not in err or \
            not out.startswith("reused ") or "waited for another process" not in out:
        raise Failure(f"expected a wait and then a reuse (exit {p.returncode}):\n{out}{err}")
    check_runs(env, entry)


@case
def damaged_entry(env):
    need_onnx()
    model = chain_model(env, layers=4)
    cache = env.path("cache")
    cached_build(env, model, cache)
    entry = only_entry(cache)
    data = bytearray(open(entry, "rb").read())
    data[len(data) // 2] ^= 0x40
    open(entry, "wb").write(data)
    p = cached_build(env, model, cache)
    if not p.stdout.startswith("built ") or "replaced:" not in p.stdout or "invalid engine" not in p.stdout:
        raise Failure(f"the damaged entry should be reported and rebuilt:\n{p.stdout}{p.stderr}")
    if "stale, foreign or damaged" not in p.stderr or entry not in p.stderr:
        raise Failure(f"the warning should name the entry:\n{p.stderr}")
    if only_entry(cache) != entry:
        raise Failure("the rebuilt engine should replace the entry")
    check_runs(env, entry)
    p = cached_build(env, model, cache)
    if not p.stdout.startswith("reused "):
        raise Failure(f"the rebuilt entry should be reused:\n{p.stdout}")


@case
def foreign_entry(env):
    """Entries from another SDK version and from another device are reported with the reason and rebuilt."""
    need_onnx()
    model = chain_model(env, layers=4)
    cache = env.path("cache")
    p = cached_build(env, model, cache)
    entry = only_entry(cache)
    version = open(entry + ".key").read().split("sdk=", 1)[1].split("\n", 1)[0]
    other = "9" * len(version)
    for old, new, reason in ((version, other, f"engine built by rtinfer {other}, this is rtinfer {version}"),
                             ("cpu", "cpX", "engine built for device 'cpX', this device is 'cpu'")):
        data = bytearray(open(entry, "rb").read())
        patch_string(data, old, new)
        open(entry, "wb").write(data)
        env.run(["run", "--engine", entry], 1, stderr_has=[reason])  # the patched file is well-formed but foreign
        p = cached_build(env, model, cache)
        if not p.stdout.startswith("built ") or reason not in p.stdout or reason not in p.stderr:
            raise Failure(f"expected a rebuild saying {reason!r}:\n{p.stdout}{p.stderr}")
        check_runs(env, entry)


@case
def unwritable_cache(env):
    need_onnx()
    model = chain_model(env, layers=2)
    blocker = env.path("not_a_folder")
    open(blocker, "w").write("a file where the cache folder's parent should be")
    cache = os.path.join(blocker, "cache")
    env.run(["build", "--onnx", model, "--cache-dir", cache], 1,
            stderr_has=[f"engine cache folder '{cache}' is not writable"])
    # The default folder comes from RTINFER_CACHE_DIR.
    os.environ["RTINFER_CACHE_DIR"] = env.path("from_env")
    try:
        p = env.run(["build", "--onnx", model, "--cache"], 0)
    finally:
        del os.environ["RTINFER_CACHE_DIR"]
    if env.path("from_env") not in p.stdout:
        raise Failure(f"--cache should use $RTINFER_CACHE_DIR:\n{p.stdout}")
    only_entry(env.path("from_env"))


@case
def run_and_bench_through_cache(env):
    """`rtexec run/bench --onnx` build the engine into the cache once, then reuse it."""
    need_onnx()
    model = chain_model(env, layers=4)
    cache = env.path("cache")
    out = ["--output-dir", env.path("outputs")]
    env.run(["run", "--onnx", model, "--cache-dir", cache] + out, 0, stderr_has=["built " + cache],
            stdout_has=["output 'y'"])
    entry = only_entry(cache)
    env.run(["run", "--onnx", model, "--cache-dir", cache] + out, 0, stderr_has=["reused " + entry])
    env.run(["bench", "--onnx", model, "--cache-dir", cache, "--iterations", "3"], 0,
            stderr_has=["reused " + entry], stdout_has=["latency_ms"])
    if only_entry(cache) != entry:
        raise Failure("run and bench should share one cache entry")
    env.run(["run", "--onnx", model, "--engine", entry], 2, stderr_has=["give --engine or --onnx, not both"])
    env.run(["bench", "--engine", entry, "--cache-dir", cache], 2,
            stderr_has=["--cache-dir applies only with --onnx"])


def model_yml(path, onnx, cache):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(f"model:\n  onnx: {onnx}\n  precision: fp32\n  batch: 1\n  backend: cpu\n  engine_cache: {cache}\n"
                "input:\n  tensor: x\n  color: GRAY\n  width: 1\n  height: 1\n  layout: NHWC\n"
                "output:\n  raw:\n    tensors: [y]\n")


def read_status(path):
    return dict(line.split("=", 1) for line in open(path).read().splitlines())


@case
def prebuild_two_models(env):
    need_onnx()
    if not env.prebuild:
        print("SKIP: rtinfer-prebuild is not built (it needs yaml-cpp)")
        sys.exit(77)
    from onnx import TensorProto, helper
    configs, cache, status = env.path("models"), env.path("cache"), env.path("state/prebuild.status")
    for name, op in (("a", "Relu"), ("b", "Sigmoid")):
        x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 1, 1])
        y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 1, 1])
        onnx_path = save_model(env.path(f"{name}.onnx"), [helper.make_node(op, ["x"], ["y"], name=op)], [x], [y])
        model_yml(os.path.join(configs, name, "model.yml"), onnx_path, cache)

    def prebuild(args, code):
        p = subprocess.run([env.prebuild, "--config-dir", configs] + args, capture_output=True, text=True,
                           timeout=240)
        if p.returncode != code:
            raise Failure(f"rtinfer-prebuild {args}: exit {p.returncode}, expected {code}\n{p.stdout}{p.stderr}")
        return p

    p = prebuild(["--check"], 1)
    if p.stdout.count(": stale") != 2 or "missing" not in p.stdout:
        raise Failure(f"--check should find both engines missing:\n{p.stdout}")
    p = prebuild(["--status", status], 0)
    for text in ("[1/2] ", "[2/2] ", "a/model.yml: built", "b/model.yml: built", "2 model(s)"):
        if text not in p.stdout:
            raise Failure(f"progress lacks {text!r}:\n{p.stdout}")
    s = read_status(status)
    expected = {"models": "2", "built": "2", "reused": "0", "failed": "0", "model.1.result": "built",
                "model.2.result": "built", "config_dir": configs}
    if any(s.get(k) != v for k, v in expected.items()):
        raise Failure(f"status file: expected {expected}, got {s}")
    if len(entries(cache)) != 2 or sorted([s["model.1.engine"], s["model.2.engine"]]) != entries(cache):
        raise Failure(f"the status file should name the two engines of {cache}: {s}")
    for engine in entries(cache):
        check_runs(env, engine)
    prebuild(["--check", "--quiet"], 0)
    p = prebuild(["--status", status], 0)
    s = read_status(status)
    if (s["built"], s["reused"], s["model.1.result"], s["model.2.result"]) != ("0", "2", "reused", "reused"):
        raise Failure(f"the second run should reuse both: {s}\n{p.stdout}")
    # A broken model: the others still build, the run fails, the status file says which.
    model_yml(os.path.join(configs, "c", "model.yml"), env.path("missing.onnx"), cache)
    p = prebuild(["--status", status], 1)
    s = read_status(status)
    if (s["models"], s["failed"], s["model.3.result"]) != ("3", "1", "failed") or "missing.onnx" not in s.get(
            "model.3.detail", ""):
        raise Failure(f"the broken model should be reported as failed: {s}\n{p.stdout}")
    # The default status file is <cache>/prebuild.status with <cache> from RTINFER_CACHE_DIR.
    shutil.rmtree(os.path.join(configs, "c"))
    os.environ["RTINFER_CACHE_DIR"] = env.path("default_cache")
    try:
        prebuild([], 0)
    finally:
        del os.environ["RTINFER_CACHE_DIR"]
    if read_status(env.path("default_cache/prebuild.status"))["reused"] != "2":
        raise Failure("the default status file is missing or wrong")


@case
def prebuild_int8_from_a_calibration_cache(env):
    """precision: int8 in model.yml builds an INT8 engine with the ranges of calibration_cache (made by rtexec)."""
    need_onnx()
    if not env.prebuild:
        print("SKIP: rtinfer-prebuild is not built (it needs yaml-cpp)")
        sys.exit(77)
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 1, 1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 1, 1, 1])
    w = numpy_helper.from_array(np.array([[[[0.75]]]], np.float32), "w")
    onnx_path = save_model(env.path("conv.onnx"), [helper.make_node("Conv", ["x", "w"], ["y"], name="conv")], [x],
                           [y], [w])
    calib = env.path("calib")
    os.makedirs(calib)
    rng = np.random.default_rng(0)
    for i in range(8):
        np.save(os.path.join(calib, f"s{i}.npy"), rng.random((1, 1, 1, 1), dtype=np.float32))
    ranges = env.path("conv.calib")
    env.run(["build", "--onnx", onnx_path, "--out", env.path("direct.engine"), "--int8", "--calib", calib,
             "--calib-cache", ranges], 0)
    configs, cache = env.path("models"), env.path("cache")
    model_yml(os.path.join(configs, "int8", "model.yml"), onnx_path, cache)
    yml = os.path.join(configs, "int8", "model.yml")
    text = open(yml).read().replace("  precision: fp32\n", "  precision: int8\n  calibration_cache: %s\n" % ranges)
    with open(yml, "w") as f:
        f.write(text)
    p = subprocess.run([env.prebuild, "--config-dir", configs, "--status", env.path("status")], capture_output=True,
                       text=True, timeout=240)
    if p.returncode != 0 or "int8/model.yml: built" not in p.stdout:
        raise Failure(f"rtinfer-prebuild: exit {p.returncode}\n{p.stdout}{p.stderr}")
    engine = only_entry(cache)
    p = env.run(["inspect", "--engine", engine], 0)
    if "QuantizeLinear" not in p.stdout:
        raise Failure(f"the engine built from precision int8 has no int8 layers:\n{p.stdout}")


def make_env(rtexec, work, args):
    env = Env(rtexec, work)
    env.prebuild = os.path.abspath(args.prebuild) if args.prebuild else ""
    return env


if __name__ == "__main__":
    sys.exit(cli_main(CASES, make_env, lambda parser: parser.add_argument("--prebuild", default="")))
