// rtexec: build, run, benchmark, inspect, conformance-test and compare rtinfer engines from the command line.
#include <cstdio>
#include <string>
#include <vector>

#include "sdk/rtexec/commands.h"
#include "sdk/rtexec/common.h"

namespace {

struct Command {
    const char* name;
    int (*run)(const std::vector<std::string>&);
    const char* summary;
};

constexpr Command kCommands[] = {
    {"build", rtexec::cmd_build, "build an engine from an ONNX model and save it"},
    {"run", rtexec::cmd_run, "run an engine once on .npy or random inputs and save the outputs"},
    {"bench", rtexec::cmd_bench, "measure latency and throughput with one or more streams"},
    {"inspect", rtexec::cmd_inspect, "describe an ONNX model (and what rtinfer supports of it) or an engine"},
    {"conformance", rtexec::cmd_conformance, "run ONNX backend test cases and compare with their outputs"},
    {"compare", rtexec::cmd_compare, "compare an engine's outputs and layers with another engine or the CPU reference"},
};

void print_help(std::FILE* out) {
    std::fprintf(out, "usage: rtexec <command> [options]\n\ncommands:\n");
    for (const auto& command : kCommands) std::fprintf(out, "  %-13s %s\n", command.name, command.summary);
    std::fprintf(out, "\n'rtexec <command> --help' describes a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        print_help(stderr);
        return rtexec::kExitUsage;
    }
    const std::string name = argv[1];
    if (name == "--help" || name == "-h" || name == "help") {
        print_help(stdout);
        return rtexec::kExitOk;
    }
    const std::vector<std::string> args(argv + 2, argv + argc);
    for (const auto& command : kCommands) {
        if (name == command.name) return command.run(args);
    }
    std::fprintf(stderr,
                 "rtexec: error: unknown command '%s' (commands: build, run, bench, inspect, conformance, compare)\n",
                 name.c_str());
    return rtexec::kExitUsage;
}
