// rtexec compare: an engine's outputs (and with --per-layer its intermediate tensors) against another engine or
// the CPU float32 reference of the ONNX model, on the samples of a folder of .npy files.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <map>
#include <set>

#include "core/ir/half.h"
#include "core/runtime/extra_outputs.h"
#include "rtinfer/builder.h"
#include "rtinfer/engine.h"
#include "sdk/rtexec/args.h"
#include "sdk/rtexec/commands.h"
#include "sdk/rtexec/common.h"
#include "sdk/rtexec/compare_data.h"
#include "sdk/rtexec/compare_stats.h"

namespace rtexec {

using rtinfer::DataType;
using rtinfer::Engine;
using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

constexpr const char* kSummary =
    "Runs the engine and a reference on the same samples and prints, per output, the max and mean absolute\n"
    "error, the relative L2 error ||a-b||/||b|| (b: the reference), the cosine similarity and, for 2-D [N, C]\n"
    "outputs or with --top1, the top-1 agreement. It reports and does not judge: exit 0 whatever the errors.\n"
    "\n"
    "The reference is another engine (--reference) or the ONNX model built for the CPU backend in float32\n"
    "(--onnx; with the engine's max batch when the engine's batch is dynamic).\n"
    "\n"
    "Data: dim 0 of every input is the batch. A model with one input reads DIR/*.npy (or DIR/<input>/*.npy);\n"
    "with several inputs, DIR holds one subfolder per input, named after it (characters other than\n"
    "[A-Za-z0-9._-] as '_'), with as many files each: the k-th files of all folders (in name order) belong\n"
    "together. A file holds one sample (the input's shape without dim 0) or a batch [N, ...] of any N. Samples\n"
    "run in batches of up to the engines' max batch; a static-batch engine gets a partial batch padded with\n"
    "copies of its last sample, and the padding is left out of every statistic.\n"
    "\n"
    "--per-layer also compares the intermediate tensors that both engines compute under the same name (fusion\n"
    "renames or removes some: only common names count; channels-last '<name>_nhwc' tensors are transposed to\n"
    "NCHW first), float tensors only, and lists their relative L2 errors in the engine's execution order. The\n"
    "first layer where the error jumps is the first tensor whose error exceeds both --jump-floor and\n"
    "--jump-factor times the largest error of the tensors listed before it.";

std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

std::string describe_engine(const Engine& engine) {
    const std::string batch = has_dynamic_batch(engine)
                                  ? std::to_string(engine.min_batch()) + ".." + std::to_string(engine.max_batch())
                                  : engine.inputs().empty() || engine.inputs()[0].dims.empty()
                                        ? std::string("none")
                                        : std::to_string(engine.inputs()[0].dims[0]);
    return std::string(rtinfer::backend_name(engine.backend())) + ", " + (engine.fp16() ? "float16" : "float32") +
           ", batch " + batch;
}

// A tensor fetched to the host as doubles; rows of padding already cut off.
struct HostTensor {
    DataType dtype = DataType::kUndefined;
    std::vector<int64_t> dims;
    std::vector<double> values;
};

// Runs one engine on batches of samples: binds buffers once per batch size, pads a static batch.
class Runner {
  public:
    static Expected<std::unique_ptr<Runner>> create(const Engine& engine, const std::vector<SampleInput>& data) {
        auto runner = std::unique_ptr<Runner>(new Runner(engine));
        runner->dynamic_ = has_dynamic_batch(engine);
        for (const auto& input : engine.inputs()) {
            size_t k = 0;
            while (k < data.size() && data[k].name != input.name) ++k;
            if (k == data.size() || input.dims.empty())
                return Status(StatusCode::kInvalidArgument, "no data for input '" + input.name + "'");
            if (data[k].dtype != input.type && !(is_float_type(data[k].dtype) && is_float_type(input.type))) {
                return Status(StatusCode::kInvalidArgument,
                              "input '" + input.name + "' is " + rtinfer::data_type_name(input.type) + " here and " +
                                  rtinfer::data_type_name(data[k].dtype) + " in the engine under test");
            }
            if (!runner->dynamic_) {
                if (runner->static_batch_ && runner->static_batch_ != input.dims[0]) {
                    return Status(StatusCode::kInvalidArgument,
                                  "the inputs disagree on dim 0, the batch (input '" + input.name + "' " +
                                      dims_str(input.dims) + ")");
                }
                runner->static_batch_ = static_cast<int>(input.dims[0]);
            }
            runner->data_index_.push_back(k);
            runner->data_type_.push_back(data[k].dtype);
        }
        auto ctx = engine.create_context();
        if (!ctx) return ctx.status();
        runner->ctx_ = std::move(*ctx);
        RT_ASSIGN_OR_RETURN(runner->stream_, Stream::create(engine.backend()));
        return runner;
    }

    size_t capacity() const { return static_cast<size_t>(dynamic_ ? engine_.max_batch() : static_batch_); }

    // rows[k]: `count` samples of data input k, back to back. Every output of the engine lands in `out`.
    Status run(const std::vector<std::vector<uint8_t>>& rows, size_t count, std::map<std::string, HostTensor>& out) {
        const int batch = dynamic_ ? std::max(static_cast<int>(count), engine_.min_batch()) : static_batch_;
        if (batch != bound_batch_) RT_RETURN_IF_ERROR(bind(batch));
        for (size_t i = 0; i < engine_.inputs().size(); ++i) {
            RT_RETURN_IF_ERROR(upload_input(i, rows[data_index_[i]], count, static_cast<size_t>(batch)));
        }
        RT_RETURN_IF_ERROR(ctx_->enqueue(stream_.handle()));
        RT_RETURN_IF_ERROR(stream_.synchronize());
        out.clear();
        std::vector<uint8_t> host;
        for (size_t i = 0; i < engine_.outputs().size(); ++i) {
            const std::string& name = engine_.outputs()[i].name;
            RT_ASSIGN_OR_RETURN(rtinfer::TensorDesc desc, ctx_->tensor_desc(name));
            const size_t n = static_cast<size_t>(dims_numel(desc.dims));
            host.resize(n * rtinfer::data_type_size(desc.type));
            if (bound_[i]) {
                RT_RETURN_IF_ERROR(outputs_[i].download(host.data()));
            } else {
                RT_ASSIGN_OR_RETURN(const void* data, ctx_->output_data(name));
                if (!host.empty()) std::memcpy(host.data(), data, host.size());
            }
            HostTensor t{desc.type, desc.dims, {}};
            size_t keep = n;
            if (!t.dims.empty() && t.dims[0] == batch && static_cast<size_t>(batch) > count) {
                keep = n / static_cast<size_t>(batch) * count;
                t.dims[0] = static_cast<int64_t>(count);
            }
            t.values.resize(keep);
            for (size_t e = 0; e < keep; ++e) t.values[e] = element_as_double(desc.type, host.data(), e);
            out[name] = std::move(t);
        }
        return Status::ok();
    }

  private:
    explicit Runner(const Engine& engine) : engine_(engine) {}

    Status bind(int batch) {
        if (dynamic_) RT_RETURN_IF_ERROR(ctx_->set_batch(batch));
        inputs_.clear();
        outputs_.clear();
        bound_.clear();
        for (const auto& input : engine_.inputs()) {
            RT_ASSIGN_OR_RETURN(rtinfer::TensorDesc desc, ctx_->tensor_desc(input.name));
            const size_t bytes = static_cast<size_t>(dims_numel(desc.dims)) * rtinfer::data_type_size(desc.type);
            RT_ASSIGN_OR_RETURN(TensorBuffer buffer, TensorBuffer::allocate(engine_.backend(), bytes));
            RT_RETURN_IF_ERROR(ctx_->set_tensor_address(input.name, buffer.data()));
            inputs_.push_back(std::move(buffer));
        }
        // Outputs whose shape only a run knows stay in the context's memory and are read with output_data.
        for (const auto& output : engine_.outputs()) {
            RT_ASSIGN_OR_RETURN(rtinfer::TensorDesc desc, ctx_->tensor_desc(output.name));
            TensorBuffer buffer;
            bound_.push_back(dims_known(desc.dims));
            if (bound_.back()) {
                const size_t bytes = static_cast<size_t>(dims_numel(desc.dims)) * rtinfer::data_type_size(desc.type);
                RT_ASSIGN_OR_RETURN(buffer, TensorBuffer::allocate(engine_.backend(), bytes));
                RT_RETURN_IF_ERROR(ctx_->set_tensor_address(output.name, buffer.data()));
            }
            outputs_.push_back(std::move(buffer));
        }
        bound_batch_ = batch;
        return Status::ok();
    }

    // The samples of input i padded to the batch with copies of the last one, in the engine's float type.
    Status upload_input(size_t i, const std::vector<uint8_t>& rows, size_t count, size_t batch) {
        const DataType from = data_type_[i], to = engine_.inputs()[i].type;
        const size_t row_bytes = rows.size() / count;
        std::vector<uint8_t> padded(rows);
        for (size_t r = count; r < batch; ++r)
            padded.insert(padded.end(), rows.end() - static_cast<std::ptrdiff_t>(row_bytes), rows.end());
        if (from == to) return inputs_[i].upload(padded.data());
        const size_t n = padded.size() / rtinfer::data_type_size(from);
        std::vector<uint8_t> converted(n * rtinfer::data_type_size(to));
        for (size_t e = 0; e < n; ++e) {
            const double v = element_as_double(from, padded.data(), e);
            if (to == DataType::kFloat16) {
                reinterpret_cast<uint16_t*>(converted.data())[e] = rtinfer::ir::float_to_half(static_cast<float>(v));
            } else if (to == DataType::kFloat32) {
                reinterpret_cast<float*>(converted.data())[e] = static_cast<float>(v);
            } else {
                reinterpret_cast<double*>(converted.data())[e] = v;
            }
        }
        return inputs_[i].upload(converted.data());
    }

    const Engine& engine_;
    std::unique_ptr<rtinfer::ExecutionContext> ctx_;
    Stream stream_;
    bool dynamic_ = false;
    int static_batch_ = 0;
    int bound_batch_ = 0;
    std::vector<size_t> data_index_;    // per engine input: its index in the data
    std::vector<DataType> data_type_;   // per engine input: the data's type
    std::vector<TensorBuffer> inputs_;  // per engine input
    std::vector<TensorBuffer> outputs_;  // per engine output
    std::vector<bool> bound_;            // per engine output: false where the shape depends on the data
};

// One tensor of the engine under test and its counterpart in the reference.
struct Pair {
    std::string test_name;
    std::string ref_name;
    std::string layer;  // producing layer in the engine under test, "name (op)"
    Layout layout = Layout::kSame;
    bool top1 = false;
    bool float_only = false;  // per-layer tensors: others are left out silently
    bool hidden = false;      // not a float tensor
    std::string note;         // why it was not compared
    ErrorStats stats;
};

void compare_pair(Pair& pair, const HostTensor& test, const HostTensor& ref, size_t count) {
    if (!pair.note.empty() || pair.hidden) return;
    if (pair.float_only && !(is_float_type(test.dtype) && is_float_type(ref.dtype))) {
        pair.hidden = true;
        return;
    }
    HostTensor transposed;
    if (pair.layout != Layout::kSame) {
        transposed = pair.layout == Layout::kTestNhwc ? test : ref;
        if (transposed.dims.size() != 4) {
            pair.note = "skipped: channels-last tensor of rank " + std::to_string(transposed.dims.size());
            return;
        }
        nhwc_to_nchw(transposed.dims, transposed.values);
    }
    const HostTensor& a = pair.layout == Layout::kTestNhwc ? transposed : test;
    const HostTensor& b = pair.layout == Layout::kRefNhwc ? transposed : ref;
    if (a.values.size() != b.values.size() || (pair.layout != Layout::kSame && a.dims != b.dims)) {
        pair.note = "skipped: shape " + dims_str(a.dims) + " vs " + dims_str(b.dims) + " in the reference";
        return;
    }
    pair.stats.add(a.values.data(), b.values.data(), a.values.size());
    if (pair.top1 && !a.dims.empty() && !a.values.empty()) {
        const size_t rows = static_cast<size_t>(a.dims[0]) == count ? count : 1;
        pair.stats.add_top1(a.values.data(), b.values.data(), rows, a.values.size() / rows);
    }
}

std::string pad(const std::string& s, size_t width) {
    return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

void print_outputs(const std::vector<Pair>& outputs, const Engine& engine) {
    size_t width = 8;
    for (const auto& p : outputs) width = std::max(width, p.test_name.size() + 2);
    std::printf("%s%-16s%-12s%-12s%-12s%-12s%s\n", pad("output", width).c_str(), "shape", "max_abs", "mean_abs",
                "rel_l2", "cosine", "top1");
    for (const auto& p : outputs) {
        std::string shape;
        for (const auto& d : engine.outputs()) {
            if (d.name == p.test_name) shape = dims_str(d.dims);
        }
        if (!p.note.empty()) {
            std::printf("%s%-16s%s\n", pad(p.test_name, width).c_str(), shape.c_str(), p.note.c_str());
            continue;
        }
        char cosine[32], top1[32] = "-";
        std::snprintf(cosine, sizeof cosine, "%.6f", p.stats.cosine());
        if (p.stats.has_top1()) std::snprintf(top1, sizeof top1, "%.2f%%", p.stats.top1_percent());
        std::printf("%s%-16s%-12s%-12s%-12s%-12s%s\n", pad(p.test_name, width).c_str(), shape.c_str(),
                    format_error(p.stats.max_abs()).c_str(), format_error(p.stats.mean_abs()).c_str(),
                    format_error(p.stats.rel_l2()).c_str(), cosine, top1);
        if (p.stats.nan_mismatches()) {
            std::printf("  %s: %" PRIu64 " elements NaN in one engine only (left out)\n", p.test_name.c_str(),
                        p.stats.nan_mismatches());
        }
    }
}

void print_layers(const std::vector<Pair>& layers, double floor, double factor) {
    std::vector<const Pair*> shown;
    std::vector<double> errors;
    size_t name_width = 8, layer_width = 12;
    for (const auto& p : layers) {
        if (p.hidden) continue;
        shown.push_back(&p);
        if (p.note.empty()) errors.push_back(p.stats.rel_l2());
        name_width = std::max(name_width, p.test_name.size() + 2);
        layer_width = std::max(layer_width, p.layer.size() + 2);
    }
    std::printf("\nper-layer: %zu tensors in both engines, in the engine's execution order\n", errors.size());
    std::printf("%-5s%s%s%s\n", "#", pad("tensor", name_width).c_str(), pad("layer", layer_width).c_str(), "rel_l2");
    const int jump = first_error_jump(errors, floor, factor);
    int index = 0;
    const Pair* jumped = nullptr;
    double before = 0.0;
    for (const Pair* p : shown) {
        std::string error = p->note;
        if (p->note.empty()) {
            error = format_error(p->stats.rel_l2());
            if (p->layout == Layout::kTestNhwc) error += "  (channels-last here, transposed)";
            if (p->layout == Layout::kRefNhwc) error += "  (channels-last in the reference, transposed)";
            if (index == jump) {
                error += "  <- first jump";
                jumped = p;
            } else if (index < jump || jump < 0) {
                before = std::max(before, p->stats.rel_l2());
            }
            ++index;
        }
        std::printf("%-5s%s%s%s\n", p->note.empty() ? std::to_string(index).c_str() : "-",
                    pad(p->test_name, name_width).c_str(), pad(p->layer, layer_width).c_str(), error.c_str());
    }
    if (jumped) {
        std::printf("first jump: tensor '%s' of layer %s: relative L2 error %s > %s and > %gx %s (the largest "
                    "before it)\n",
                    jumped->test_name.c_str(), jumped->layer.c_str(), format_error(jumped->stats.rel_l2()).c_str(),
                    format_error(floor).c_str(), factor, format_error(before).c_str());
    } else {
        std::printf("first jump: none (no relative L2 error exceeds both %s and %gx the largest before it)\n",
                    format_error(floor).c_str(), factor);
    }
}

// The tensors of `test` to compare with `ref` (in test's execution order) and the names each engine must output.
std::vector<Pair> layer_pairs(const Engine& test, const Engine& ref) {
    std::set<std::string> ref_names;
    for (const auto& layer : ref.layers()) ref_names.insert(layer.outputs.begin(), layer.outputs.end());
    std::vector<Pair> pairs;
    for (const auto& layer : test.layers()) {
        for (const auto& name : layer.outputs) {
            Pair p;
            if (name.empty() || !match_tensor(name, ref_names, &p.ref_name, &p.layout)) continue;
            p.test_name = name;
            p.layer = layer.name + " (" + layer.op_type + ")";
            p.float_only = true;
            pairs.push_back(std::move(p));
        }
    }
    return pairs;
}

}  // namespace

int cmd_compare(const std::vector<std::string>& args) {
    const std::string cmd = "compare";
    std::string engine_path, reference_path, onnx_path, data_dir;
    std::vector<std::string> plugins;
    bool per_layer = false, top1 = false;
    int64_t max_samples = 0;
    double jump_floor = 1e-2, jump_factor = 10.0;

    ArgParser parser(cmd, "--engine a.engine (--reference b.engine | --onnx m.onnx) --data DIR [options]", kSummary);
    parser.add_string("engine", &engine_path, "FILE", "the engine under test (required)");
    parser.add_string("reference", &reference_path, "FILE", "the reference engine");
    parser.add_string("onnx", &onnx_path, "FILE", "or the ONNX model, built here for the CPU backend in float32");
    parser.add_string("data", &data_dir, "DIR", "the folder of .npy samples (required; see above)");
    parser.add_flag("per-layer", &per_layer, "compare the intermediate tensors too and name the first jump");
    parser.add_int("max-samples", &max_samples, "N", "compare at most N samples (default: all)", 1, INT64_MAX);
    parser.add_flag("top1", &top1, "top-1 agreement for every output (default: 2-D outputs only)");
    parser.add_real("jump-floor", &jump_floor, "E", "--per-layer: a jump's error exceeds E (default 1e-2)", 0.0);
    parser.add_real("jump-factor", &jump_factor, "F",
                    "--per-layer: and F times the largest error before it (default 10)", 1.0);
    parser.add_strings("plugins", &plugins, "LIB", kPluginsHelp);

    Status s = parser.parse(args);
    if (!s) return usage_error(cmd, s);
    if (parser.help_requested()) {
        std::fputs(parser.help_text().c_str(), stdout);
        return kExitOk;
    }
    for (const char* flag : {"engine", "data"}) {
        s = parser.require(flag);
        if (!s) return usage_error(cmd, s);
    }
    if (parser.given("reference") == parser.given("onnx")) {
        return usage_error(cmd, Status(StatusCode::kInvalidArgument,
                                       parser.given("onnx") ? "give --reference or --onnx, not both"
                                                            : "missing required flag --reference (or --onnx)"));
    }

    s = load_plugins(plugins);
    if (!s) return runtime_error(cmd, s);
    rtinfer::StderrLogger logger;
    s = check_readable(engine_path, "engine");
    if (!s) return runtime_error(cmd, s);
    auto loaded = Engine::load_file(engine_path, &logger);
    if (!loaded) return runtime_error(cmd, loaded.status());
    std::unique_ptr<Engine> test = std::move(*loaded);

    std::vector<SampleInput> inputs;
    for (const auto& d : test->inputs()) inputs.push_back({d.name, d.type, d.dims});
    auto reader = SampleReader::open(data_dir, inputs);
    if (!reader) return runtime_error(cmd, reader.status());

    std::unique_ptr<Engine> ref;
    std::string ref_label;
    if (!reference_path.empty()) {
        s = check_readable(reference_path, "engine");
        if (!s) return runtime_error(cmd, s);
        auto r = Engine::load_file(reference_path, &logger);
        if (!r) return runtime_error(cmd, r.status());
        ref = std::move(*r);
        ref_label = reference_path;
    } else {
        s = check_readable(onnx_path, "ONNX model");
        if (!s) return runtime_error(cmd, s);
        rtinfer::BuilderConfig config;
        if (has_dynamic_batch(*test)) config.max_batch = test->max_batch();
        auto r = rtinfer::Builder(&logger).build_from_file(onnx_path, config);
        if (!r) return runtime_error(cmd, r.status());
        ref = std::move(*r);
        ref_label = onnx_path;
    }
    {
        std::vector<std::string> a, b;
        for (const auto& d : test->inputs()) a.push_back(d.name);
        for (const auto& d : ref->inputs()) b.push_back(d.name);
        std::sort(a.begin(), a.end());
        std::sort(b.begin(), b.end());
        if (a != b) {
            return runtime_error(cmd, Status(StatusCode::kInvalidArgument, "the reference's inputs (" + join(b) +
                                                                               ") differ from the engine's (" +
                                                                               join(a) + ")"));
        }
    }

    std::vector<Pair> outputs;
    for (const auto& d : test->outputs()) {
        Pair p;
        p.test_name = p.ref_name = d.name;
        p.top1 = top1 || d.dims.size() == 2;
        bool found = false;
        for (const auto& r : ref->outputs()) found = found || r.name == d.name;
        if (!found) p.note = "skipped: the reference has no output of this name";
        outputs.push_back(std::move(p));
    }
    std::vector<Pair> layers;
    std::unique_ptr<Engine> test_run, ref_run;
    if (per_layer) {
        layers = layer_pairs(*test, *ref);
        std::vector<std::string> test_names, ref_names;
        for (const auto& p : layers) {
            test_names.push_back(p.test_name);
            ref_names.push_back(p.ref_name);
        }
        auto t = rtinfer::runtime::with_extra_outputs(*test, test_names);
        if (!t) return runtime_error(cmd, t.status());
        auto r = rtinfer::runtime::with_extra_outputs(*ref, ref_names);
        if (!r) return runtime_error(cmd, r.status());
        test_run = std::move(*t);
        ref_run = std::move(*r);
    }
    const Engine& a = test_run ? *test_run : *test;
    const Engine& b = ref_run ? *ref_run : *ref;

    auto runner_a = Runner::create(a, inputs);
    if (!runner_a) return runtime_error(cmd, runner_a.status().with_context(engine_path));
    auto runner_b = Runner::create(b, inputs);
    if (!runner_b) return runtime_error(cmd, runner_b.status().with_context(ref_label));
    const size_t chunk = std::min((*runner_a)->capacity(), (*runner_b)->capacity());

    size_t samples = 0;
    std::vector<std::vector<uint8_t>> rows;
    std::map<std::string, HostTensor> out_a, out_b;
    while (max_samples == 0 || samples < static_cast<size_t>(max_samples)) {
        const size_t want = max_samples ? std::min(chunk, static_cast<size_t>(max_samples) - samples) : chunk;
        auto got = reader->next(want, rows);
        if (!got) return runtime_error(cmd, got.status());
        if (*got == 0) break;
        s = (*runner_a)->run(rows, *got, out_a);
        if (!s) return runtime_error(cmd, s.with_context(engine_path));
        s = (*runner_b)->run(rows, *got, out_b);
        if (!s) return runtime_error(cmd, s.with_context(ref_label));
        for (auto* list : {&outputs, &layers}) {
            for (Pair& p : *list) {
                auto ia = out_a.find(p.test_name);
                auto ib = out_b.find(p.ref_name);
                if (ia != out_a.end() && ib != out_b.end()) compare_pair(p, ia->second, ib->second, *got);
            }
        }
        samples += *got;
    }
    if (samples == 0) return runtime_error(cmd, Status(StatusCode::kInvalidArgument, "the .npy files hold no samples"));

    std::printf("engine:    %s (%s)\n", engine_path.c_str(), describe_engine(*test).c_str());
    std::printf("reference: %s (%s%s)\n", ref_label.c_str(), onnx_path.empty() ? "" : "ONNX model built here: ",
                describe_engine(*ref).c_str());
    std::printf("samples:   %zu from %s (runs of up to %zu)\n\n", samples, join(reader->folders()).c_str(), chunk);
    print_outputs(outputs, *test);
    if (per_layer) print_layers(layers, jump_floor, jump_factor);
    return kExitOk;
}

}  // namespace rtexec
