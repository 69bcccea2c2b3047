// rtexec conformance: ONNX backend test cases (model.onnx + test_data_set_*/{input,output}_*.pb) built
// with the Builder, run, and compared with their reference outputs.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "core/onnx/importer.h"
#include "rtinfer/builder.h"
#include "rtinfer/engine.h"
#include "sdk/rtexec/args.h"
#include "sdk/rtexec/commands.h"
#include "sdk/rtexec/common.h"

namespace rtexec {

namespace fs = std::filesystem;
using rtinfer::DataType;
using rtinfer::Expected;
using rtinfer::Status;
using rtinfer::StatusCode;

namespace {

enum class Outcome : char { kPass = 'P', kFail = 'F', kSkip = 'S' };

struct CaseResult {
    Outcome outcome = Outcome::kFail;
    std::string reason;
};

struct Options {
    rtinfer::Backend backend = rtinfer::Backend::kCpu;
    double rtol = 1e-3;
    double atol = 1e-7;
};

CaseResult pass() {
    return {Outcome::kPass, ""};
}
CaseResult fail(const std::string& reason) {
    return {Outcome::kFail, reason};
}
CaseResult skip(const std::string& reason) {
    return {Outcome::kSkip, reason};
}

// Sub-entries of dir whose name starts with prefix, ordered by the number after it (input_2 before input_10).
std::vector<fs::path> numbered_entries(const fs::path& dir, const std::string& prefix, bool directories) {
    std::vector<std::pair<long, fs::path>> found;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        if (it->is_directory(ec) != directories) continue;
        found.emplace_back(std::strtol(name.c_str() + prefix.size(), nullptr, 10), it->path());
    }
    std::sort(found.begin(), found.end());
    std::vector<fs::path> paths;
    for (auto& f : found) paths.push_back(std::move(f.second));
    return paths;
}

std::string format_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.7g", v);
    return buf;
}

// Compares one output with its reference: same dtype and shape; floats within atol + rtol*|expected|
// (NaN matches NaN), everything else exactly. Returns "" when they match.
std::string compare_output(const std::string& name, DataType type, const std::vector<int64_t>& dims, const void* actual,
                           const rtinfer::ir::Tensor& expected, const Options& opt) {
    const std::string what = "output '" + name + "'";
    if (type != expected.dtype()) {
        return what + ": dtype " + rtinfer::data_type_name(type) + ", expected " +
               rtinfer::data_type_name(expected.dtype());
    }
    if (dims != expected.shape())
        return what + ": shape " + dims_str(dims) + ", expected " + dims_str(expected.shape());
    const size_t count = static_cast<size_t>(expected.numel());
    size_t bad = 0, worst = 0;
    double worst_excess = -1.0, max_abs = 0.0;
    for (size_t i = 0; i < count; ++i) {
        const double a = element_as_double(type, actual, i);
        const double b = element_as_double(type, expected.raw(), i);
        bool ok;
        double excess = 0.0;
        if (is_float_type(type)) {
            if (std::isnan(a) || std::isnan(b)) {
                ok = std::isnan(a) && std::isnan(b);
                excess = ok ? 0.0 : INFINITY;
            } else if (std::isinf(a) || std::isinf(b)) {
                ok = a == b;
                excess = ok ? 0.0 : INFINITY;
            } else {
                const double diff = std::fabs(a - b);
                max_abs = std::max(max_abs, diff);
                excess = diff - (opt.atol + opt.rtol * std::fabs(b));
                ok = excess <= 0.0;
            }
        } else {
            ok = a == b;
            excess = ok ? 0.0 : std::fabs(a - b);
            if (!ok) max_abs = std::max(max_abs, excess);
        }
        if (!ok) {
            ++bad;
            if (excess > worst_excess) {
                worst_excess = excess;
                worst = i;
            }
        }
    }
    if (bad == 0) return "";
    std::string where = "[";
    size_t rest = worst;
    std::vector<int64_t> index(dims.size());
    for (size_t d = dims.size(); d-- > 0;) {
        index[d] = static_cast<int64_t>(rest % static_cast<size_t>(dims[d]));
        rest /= static_cast<size_t>(dims[d]);
    }
    for (size_t d = 0; d < index.size(); ++d) where += (d ? "," : "") + std::to_string(index[d]);
    where += "]";
    std::string text = what + ": " + std::to_string(bad) + " of " + std::to_string(count) +
                       " values differ; worst at " + where + ": got " +
                       format_number(element_as_double(type, actual, worst)) + ", expected " +
                       format_number(element_as_double(type, expected.raw(), worst));
    if (max_abs > 0) text += " (max abs error " + format_number(max_abs) + ")";
    return text;
}

// Runs one data set of a case on a context; "" when every output matches.
Expected<std::string> run_data_set(const rtinfer::Engine& engine, rtinfer::ExecutionContext& ctx,
                                   const fs::path& data_dir, const Options& opt) {
    const auto input_files = numbered_entries(data_dir, "input_", false);
    const auto output_files = numbered_entries(data_dir, "output_", false);
    const std::string set_name = data_dir.filename().string();
    if (input_files.size() != engine.inputs().size()) {
        return set_name + ": " + std::to_string(input_files.size()) + " input files for " +
               std::to_string(engine.inputs().size()) + " engine inputs";
    }
    if (output_files.size() != engine.outputs().size()) {
        return set_name + ": " + std::to_string(output_files.size()) + " output files for " +
               std::to_string(engine.outputs().size()) + " engine outputs";
    }
    std::vector<rtinfer::ir::Tensor> inputs;
    for (const auto& file : input_files) {
        RT_ASSIGN_OR_RETURN(auto tensor, rtinfer::onnx::import_tensor_file(file.string()));
        inputs.push_back(std::move(tensor));
    }
    for (size_t i = 0; i < inputs.size(); ++i) {
        const auto& d = engine.inputs()[i];
        if (!d.dims.empty() && d.dims[0] < 0 && inputs[i].rank() > 0) {
            RT_RETURN_IF_ERROR(ctx.set_batch(static_cast<int>(inputs[i].dim(0))));
            break;
        }
    }

    std::vector<TensorBuffer> buffers;
    for (size_t i = 0; i < inputs.size(); ++i) {
        const std::string& name = engine.inputs()[i].name;
        RT_ASSIGN_OR_RETURN(auto desc, ctx.tensor_desc(name));
        if (desc.type != inputs[i].dtype() || desc.dims != inputs[i].shape()) {
            return set_name + ": input '" + name + "' is " + rtinfer::data_type_name(inputs[i].dtype()) + " " +
                   dims_str(inputs[i].shape()) + " in the data set but " + rtinfer::data_type_name(desc.type) + " " +
                   dims_str(desc.dims) + " in the engine";
        }
        RT_ASSIGN_OR_RETURN(auto buffer, TensorBuffer::allocate(engine.backend(), inputs[i].nbytes()));
        RT_RETURN_IF_ERROR(buffer.upload(inputs[i].raw()));
        RT_RETURN_IF_ERROR(ctx.set_tensor_address(name, buffer.data()));
        buffers.push_back(std::move(buffer));
    }
    std::vector<TensorBuffer> out_buffers(engine.outputs().size());
    std::vector<bool> bound(engine.outputs().size(), false);
    for (size_t i = 0; i < engine.outputs().size(); ++i) {
        const std::string& name = engine.outputs()[i].name;
        RT_ASSIGN_OR_RETURN(auto desc, ctx.tensor_desc(name));
        if (!dims_known(desc.dims)) continue;  // data-dependent: read with output_data after the run
        const size_t bytes = static_cast<size_t>(dims_numel(desc.dims)) * rtinfer::data_type_size(desc.type);
        RT_ASSIGN_OR_RETURN(out_buffers[i], TensorBuffer::allocate(engine.backend(), bytes));
        RT_RETURN_IF_ERROR(ctx.set_tensor_address(name, out_buffers[i].data()));
        bound[i] = true;
    }

    RT_ASSIGN_OR_RETURN(auto stream, Stream::create(engine.backend()));
    RT_RETURN_IF_ERROR(ctx.enqueue(stream.handle()));
    RT_RETURN_IF_ERROR(stream.synchronize());

    for (size_t i = 0; i < engine.outputs().size(); ++i) {
        const std::string& name = engine.outputs()[i].name;
        RT_ASSIGN_OR_RETURN(auto expected, rtinfer::onnx::import_tensor_file(output_files[i].string()));
        RT_ASSIGN_OR_RETURN(auto desc, ctx.tensor_desc(name));
        const size_t bytes = static_cast<size_t>(dims_numel(desc.dims)) * rtinfer::data_type_size(desc.type);
        std::vector<uint8_t> host(bytes);
        if (bound[i]) {
            RT_RETURN_IF_ERROR(out_buffers[i].download(host.data()));
        } else {
            RT_ASSIGN_OR_RETURN(const void* data, ctx.output_data(name));
            if (bytes > 0) std::memcpy(host.data(), data, bytes);
        }
        std::string diff = compare_output(name, desc.type, desc.dims, host.data(), expected, opt);
        if (!diff.empty()) return set_name + ": " + diff;
    }
    return std::string();
}

CaseResult run_case(const fs::path& dir, const Options& opt) {
    const std::string model = (dir / "model.onnx").string();
    rtinfer::Builder builder;
    auto report = builder.check_capability(model, opt.backend);
    if (!report) {
        if (report.status().code() == StatusCode::kUnsupported) return skip(report.status().message());
        return fail("import: " + report.status().to_string());
    }
    if (!report->supported()) {
        const auto& u = report->unsupported.front();
        std::string reason = "node '" + u.node_name + "' (" + u.op_type + "): " + u.reason;
        if (report->unsupported.size() > 1) reason += " (+" + std::to_string(report->unsupported.size() - 1) + " more)";
        return skip(reason);
    }
    rtinfer::BuilderConfig config;
    config.backend = opt.backend;
    auto engine = builder.build_from_file(model, config);
    if (!engine) {
        // kUnsupported is the SDK saying "valid, but not something rtinfer runs" (an attribute, a dtype).
        if (engine.status().code() == StatusCode::kUnsupported) return skip(engine.status().message());
        return fail("build: " + engine.status().to_string());
    }
    auto ctx = (*engine)->create_context();
    if (!ctx) return fail("context: " + ctx.status().to_string());

    const auto data_sets = numbered_entries(dir, "test_data_set_", true);
    if (data_sets.empty()) return fail("no test_data_set_* folder");
    for (const auto& data_dir : data_sets) {
        auto diff = run_data_set(**engine, **ctx, data_dir, opt);
        // Some limits only show at run time, e.g. an attribute-like input such as Dropout's training_mode.
        if (!diff && diff.status().code() == StatusCode::kUnsupported) {
            return skip(data_dir.filename().string() + ": " + diff.status().message());
        }
        if (!diff) return fail(data_dir.filename().string() + ": " + diff.status().to_string());
        if (!diff->empty()) return fail(*diff);
    }
    return pass();
}

// Runs a case in a child process so that a crash or a hang in one kernel fails that case, not the run.
CaseResult run_case_isolated(const fs::path& dir, const Options& opt, int timeout_s) {
    int fds[2];
    if (pipe(fds) != 0) return fail(std::string("pipe: ") + std::strerror(errno));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return fail(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        if (timeout_s > 0) alarm(static_cast<unsigned>(timeout_s));
        const CaseResult r = run_case(dir, opt);
        const std::string msg = std::string(1, static_cast<char>(r.outcome)) + r.reason;
        size_t done = 0;
        while (done < msg.size()) {
            const ssize_t n = write(fds[1], msg.data() + done, msg.size() - done);
            if (n <= 0) break;
            done += static_cast<size_t>(n);
        }
        _exit(0);
    }
    close(fds[1]);
    std::string msg;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
        if (n > 0) msg.append(buf, static_cast<size_t>(n));
    }
    close(fds[0]);
    int wstatus = 0;
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(wstatus)) {
        const int sig = WTERMSIG(wstatus);
        if (sig == SIGALRM) return fail("timed out after " + std::to_string(timeout_s) + " s");
        return fail("crashed with signal " + std::to_string(sig) + " (" + strsignal(sig) + ")");
    }
    if (msg.empty()) return fail("the case process exited without a result");
    return {static_cast<Outcome>(msg[0]), msg.substr(1)};
}

Expected<std::vector<std::string>> read_pass_list(const std::string& path) {
    std::ifstream in(path);
    if (!in) return Status(StatusCode::kNotFound, "pass list '" + path + "' cannot be opened");
    std::vector<std::string> names;
    std::string line;
    while (std::getline(in, line)) {
        const size_t b = line.find_first_not_of(" \t\r");
        if (b == std::string::npos || line[b] == '#') continue;
        const size_t e = line.find_last_not_of(" \t\r");
        names.push_back(line.substr(b, e - b + 1));
    }
    return names;
}

}  // namespace

int cmd_conformance(const std::vector<std::string>& args) {
    const std::string cmd = "conformance";
    std::string dir, backend_text = "cpu", filter, pass_list, write_pass_list;
    Options opt;
    bool isolate = false;
    int64_t timeout_s = 0;

    ArgParser parser(cmd, "--dir DIR [options]",
                     "Builds and runs every ONNX backend test case under DIR (each a folder with model.onnx and\n"
                     "test_data_set_*/input_*.pb, output_*.pb) and compares the outputs: floats within\n"
                     "atol + rtol*|expected|, integers and bools exactly. Prints PASS/FAIL/SKIP per case and\n"
                     "\"N passed, N failed, N skipped\". Exit code 1 if a case fails, or with --pass-list, if a\n"
                     "listed case does not pass.");
    parser.add_string("dir", &dir, "DIR",
                      "folder of test cases (required), e.g. /usr/share/libonnx-testdata/data/node");
    parser.add_string("backend", &backend_text, "cpu|cuda", "backend to build for (default cpu)");
    parser.add_string("filter", &filter, "SUBSTR", "only cases whose name contains SUBSTR");
    parser.add_string("pass-list", &pass_list, "FILE", "fail (exit 1) if a case listed in FILE does not pass now");
    parser.add_string("write-pass-list", &write_pass_list, "FILE", "write the sorted names of passing cases to FILE");
    parser.add_real("rtol", &opt.rtol, "R", "relative tolerance for floats (default 1e-3)", 0.0);
    parser.add_real("atol", &opt.atol, "A", "absolute tolerance for floats (default 1e-7)", 0.0);
    parser.add_flag("isolate", &isolate, "run each case in a child process, so a crash fails only that case");
    parser.add_int("timeout", &timeout_s, "S", "with --isolate, fail a case that runs longer than S seconds", 0, 86400);

    Status s = parser.parse(args);
    if (!s) return usage_error(cmd, s);
    if (parser.help_requested()) {
        std::fputs(parser.help_text().c_str(), stdout);
        return kExitOk;
    }
    s = parser.require("dir");
    if (!s) return usage_error(cmd, s);
    auto backend = parse_backend(backend_text);
    if (!backend) return usage_error(cmd, backend.status());
    opt.backend = *backend;
    if (parser.given("timeout") && !isolate)
        return usage_error(cmd, Status(StatusCode::kInvalidArgument, "--timeout needs --isolate"));

    std::vector<std::string> expected_passing;
    if (parser.given("pass-list")) {
        auto names = read_pass_list(pass_list);
        if (!names) return runtime_error(cmd, names.status());
        expected_passing = std::move(*names);
    }

    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return runtime_error(cmd, Status(StatusCode::kNotFound, "test case folder '" + dir + "' does not exist"));
    }
    std::vector<std::string> cases;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.find(filter) == std::string::npos) continue;
        std::error_code file_ec;
        if (fs::is_regular_file(it->path() / "model.onnx", file_ec)) cases.push_back(name);
    }
    if (ec) return runtime_error(cmd, Status(StatusCode::kIoError, "cannot list '" + dir + "': " + ec.message()));
    std::sort(cases.begin(), cases.end());

    std::map<std::string, CaseResult> results;
    int passed = 0, failed = 0, skipped = 0;
    for (const auto& name : cases) {
        const fs::path case_dir = fs::path(dir) / name;
        CaseResult r =
            isolate ? run_case_isolated(case_dir, opt, static_cast<int>(timeout_s)) : run_case(case_dir, opt);
        switch (r.outcome) {
            case Outcome::kPass:
                ++passed;
                std::printf("PASS %s\n", name.c_str());
                break;
            case Outcome::kFail:
                ++failed;
                std::printf("FAIL %s: %s\n", name.c_str(), r.reason.c_str());
                break;
            case Outcome::kSkip:
                ++skipped;
                std::printf("SKIP %s: %s\n", name.c_str(), r.reason.c_str());
                break;
        }
        std::fflush(stdout);
        results.emplace(name, std::move(r));
    }

    if (parser.given("write-pass-list")) {
        std::ofstream out(write_pass_list, std::ios::trunc);
        for (const auto& [name, r] : results) {
            if (r.outcome == Outcome::kPass) out << name << "\n";
        }
        out.close();
        if (!out) {
            return runtime_error(cmd, Status(StatusCode::kIoError, "cannot write pass list '" + write_pass_list + "'"));
        }
    }

    int regressions = 0;
    for (const auto& name : expected_passing) {
        if (name.find(filter) == std::string::npos) continue;
        auto it = results.find(name);
        if (it != results.end() && it->second.outcome == Outcome::kPass) continue;
        ++regressions;
        const std::string now = it == results.end()                    ? "not found in " + dir
                                : it->second.outcome == Outcome::kFail ? "FAIL: " + it->second.reason
                                                                       : "SKIP: " + it->second.reason;
        std::printf("REGRESSION %s: in the pass list, now %s\n", name.c_str(), now.c_str());
    }
    std::printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (parser.given("pass-list")) return regressions > 0 ? kExitFailure : kExitOk;
    return failed > 0 ? kExitFailure : kExitOk;
}

}  // namespace rtexec
