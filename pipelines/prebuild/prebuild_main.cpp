// rtinfer-prebuild: builds (or finds current) the engine of every model config (*.yml, *.yaml) under a
// folder, in each model's engine_cache through the SDK's EngineCache, the way the rtinfer element would at
// its first start. Prints progress, writes a status file of key=value lines, and exits 1 if any model
// failed. --check builds nothing and exits 0 only when every engine is present and loads.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "pipelines/config/model_config.h"
#include "pipelines/runner/engine_cache.h"
#include "rtinfer/engine_cache.h"
#include "sdk/rtexec/args.h"

namespace {

namespace fs = std::filesystem;
using rtinfer::Status;
using rtinfer::StatusCode;

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr const char* kDefaultConfigDir = "/etc/rtinfer/models";

struct ModelResult {
    std::string config;
    std::string result;  // built, reused, waited, prebuilt, failed; --check: current, stale
    std::string engine;
    std::string detail;  // the error, the reason a build was needed, or why an entry was replaced
    double seconds = 0.0;
};

int error(std::string message, int code) {
    // The flag parser is rtexec's; its hints name rtexec's (empty) command.
    const std::string hint = "rtexec  --help";
    const size_t at = message.find(hint);
    if (at != std::string::npos) message.replace(at, hint.size(), "rtinfer-prebuild --help");
    std::fprintf(stderr, "rtinfer-prebuild: error: %s\n", message.c_str());
    return code;
}

rtinfer::Expected<std::vector<std::string>> find_configs(const std::string& dir) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return Status(StatusCode::kNotFound, "config folder '" + dir + "' does not exist");
    std::vector<std::string> configs;
    for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string ext = it->path().extension().string();
        if (it->is_regular_file(ec) && (ext == ".yml" || ext == ".yaml")) configs.push_back(it->path().string());
    }
    if (ec) return Status(StatusCode::kIoError, "config folder '" + dir + "': " + ec.message());
    std::sort(configs.begin(), configs.end());
    return configs;
}

ModelResult prebuild(const std::string& path, bool check_only, rtinfer::Logger* logger) {
    ModelResult r;
    r.config = path;
    const auto start = std::chrono::steady_clock::now();
    auto finish = [&](std::string result, std::string detail = "") {
        r.result = std::move(result);
        r.detail = std::move(detail);
        r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return r;
    };
    auto config = rtinfer::config::load_model_config(path);
    if (!config) return finish(check_only ? "stale" : "failed", config.status().message());
    const auto& model = config->model;
    if (!model.engine.empty()) {
        r.engine = model.engine;
        return finish("prebuilt");  // a prebuilt engine file: nothing to build
    }
    const auto backend = rtinfer::pipelines::choose_backend(model);
    const auto build_config = rtinfer::pipelines::model_builder_config(model, backend);
    rtinfer::EngineCache cache(model.engine_cache);
    if (check_only) {
        auto state = cache.check(model.onnx, build_config);
        if (!state) return finish("stale", state.status().message());
        r.engine = state->path;
        return state->current ? finish("current") : finish("stale", state->reason);
    }
    auto cached = cache.load_or_build(model.onnx, build_config, logger);
    if (!cached) return finish("failed", cached.status().with_context(path).message());
    r.engine = cached->path;
    return finish(rtinfer::cache_outcome_name(cached->outcome), cached->replaced);
}

Status write_status(const std::string& path, const std::string& config_dir, const std::vector<ModelResult>& results,
                    double seconds) {
    auto count = [&](std::initializer_list<const char*> names) {
        return std::count_if(results.begin(), results.end(), [&](const ModelResult& r) {
            return std::find(names.begin(), names.end(), r.result) != names.end();
        });
    };
    char when[32];
    const std::time_t now = std::time(nullptr);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
    std::string text = "time=" + std::string(when) + "\nconfig_dir=" + config_dir +
                       "\nmodels=" + std::to_string(results.size()) +
                       "\nbuilt=" + std::to_string(count({"built"})) +
                       "\nreused=" + std::to_string(count({"reused", "waited", "prebuilt"})) +
                       "\nfailed=" + std::to_string(count({"failed"}));
    char secs[32];
    std::snprintf(secs, sizeof secs, "%.3f", seconds);
    text += "\nseconds=" + std::string(secs) + "\n";
    for (size_t i = 0; i < results.size(); ++i) {
        const auto& r = results[i];
        const std::string prefix = "model." + std::to_string(i + 1) + ".";
        std::snprintf(secs, sizeof secs, "%.3f", r.seconds);
        text += prefix + "config=" + r.config + "\n" + prefix + "result=" + r.result + "\n" + prefix +
                "engine=" + r.engine + "\n" + prefix + "seconds=" + secs + "\n";
        std::string detail = r.detail;
        std::replace(detail.begin(), detail.end(), '\n', ' ');
        if (!detail.empty()) text += prefix + "detail=" + detail + "\n";
    }
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    const std::string tmp = path + ".tmp." + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
        out.flush();
        if (!out) return Status(StatusCode::kIoError, "status file '" + path + "' cannot be written");
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return Status(StatusCode::kIoError, "status file '" + path + "' cannot be written");
    }
    return Status::ok();
}

int run(const std::vector<std::string>& args) {
    std::string config_dir = kDefaultConfigDir, status_path;
    bool check_only = false, quiet = false;
    rtexec::ArgParser parser("", "[--config-dir DIR] [--status FILE] [--check]",
                             "Builds the engine of every model config (*.yml) under a folder into its engine_cache.");
    parser.add_string("config-dir", &config_dir, "DIR",
                      std::string("the model configs (default ") + kDefaultConfigDir + ")");
    parser.add_string("status", &status_path, "FILE",
                      "the status file (default <cache>/prebuild.status, <cache> = $RTINFER_CACHE_DIR, "
                      "$XDG_CACHE_HOME/rtinfer or ~/.cache/rtinfer)");
    parser.add_flag("check", &check_only, "build nothing; exit 0 only when every engine is present and loads");
    parser.add_flag("quiet", &quiet, "print errors only");
    Status s = parser.parse(args);
    if (!s) return error(s.message(), kExitUsage);
    if (parser.help_requested()) {
        std::string help = parser.help_text();
        const std::string wrong = "rtexec  ";
        if (help.find(wrong) != std::string::npos) help.replace(help.find(wrong), wrong.size(), "rtinfer-prebuild ");
        std::fputs(help.c_str(), stdout);
        return kExitOk;
    }
    if (status_path.empty() && !check_only) {
        auto dir = rtinfer::EngineCache::default_directory();
        if (!dir) return error(dir.status().message() + " (or give --status FILE)", kExitUsage);
        status_path = (fs::path(*dir) / "prebuild.status").string();
    }
    auto configs = find_configs(config_dir);
    if (!configs) return error(configs.status().message(), kExitFailure);

    rtinfer::StderrLogger logger(rtinfer::Severity::kWarning);
    std::vector<ModelResult> results;
    const auto start = std::chrono::steady_clock::now();
    bool all_ok = true;
    for (size_t i = 0; i < configs->size(); ++i) {
        ModelResult r = prebuild((*configs)[i], check_only, &logger);
        const bool ok = r.result != "failed" && r.result != "stale";
        all_ok = all_ok && ok;
        if (!quiet || !ok) {
            std::printf("[%zu/%zu] %s: %s%s%s (%.2f s)%s%s\n", i + 1, configs->size(), r.config.c_str(),
                        r.result.c_str(), r.engine.empty() ? "" : " ", r.engine.c_str(), r.seconds,
                        r.detail.empty() ? "" : ": ", r.detail.c_str());
            std::fflush(stdout);
        }
        results.push_back(std::move(r));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!quiet) std::printf("%zu model(s) in %.2f s%s\n", results.size(), seconds, all_ok ? "" : ": some failed");
    if (!check_only) {
        s = write_status(status_path, config_dir, results, seconds);
        if (!s) return error(s.message(), kExitFailure);
        if (!quiet) std::printf("status: %s\n", status_path.c_str());
    }
    return all_ok ? kExitOk : kExitFailure;
}

}  // namespace

int main(int argc, char** argv) { return run(std::vector<std::string>(argv + 1, argv + argc)); }
