// ONNX -> graph IR. The one import boundary for untrusted model files: everything is validated here,
// and every error names the file and the ONNX node (or initializer / value) at fault.
#pragma once

#include <cstddef>
#include <string>

#include "core/ir/graph.h"

namespace rtinfer::onnx {

// Reads a .onnx file. External data files are resolved relative to the model's folder. Accepts IR version 3+
// and ai.onnx opsets 7 to 21; a model importing an older ai.onnx opset is accepted (and recorded as opset 7)
// only when none of its ops changed between that opset and 7. The graph comes back topologically sorted.
Expected<ir::Graph> import_model_file(const std::string& path);
// Reads a model from memory; base_dir resolves external data ("" = none allowed); name is used in errors.
Expected<ir::Graph> import_model_bytes(const void* data, size_t size, const std::string& name,
                                       const std::string& base_dir);
// Reads one serialized TensorProto (the input_N.pb / output_N.pb files of ONNX backend test cases).
Expected<ir::Tensor> import_tensor_file(const std::string& path);

}  // namespace rtinfer::onnx
