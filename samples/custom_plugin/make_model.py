#!/usr/bin/env python3
"""Writes scaled_clamp.onnx: y = Relu(ScaledClamp(x; scale=2, min=-1, max=1.5)), x float32 [N, 8].

Usage: make_model.py OUT.onnx   (needs the onnx Python package)
"""
import sys

from onnx import TensorProto, helper

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 8])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 8])
nodes = [
    helper.make_node("ScaledClamp", ["x"], ["clamped"], name="clamp0", domain="com.example", scale=2.0, min=-1.0,
                     max=1.5),
    helper.make_node("Relu", ["clamped"], ["y"], name="relu0"),
]
graph = helper.make_graph(nodes, "scaled_clamp", [x], [y])
model = helper.make_model(graph, producer_name="rtinfer-sample",
                          opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 1)])
model.ir_version = 7
with open(sys.argv[1], "wb") as f:
    f.write(model.SerializeToString())
