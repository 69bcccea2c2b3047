// The rtexec commands. Each takes the arguments after its name and returns the process exit code.
#pragma once

#include <string>
#include <vector>

namespace rtexec {

int cmd_build(const std::vector<std::string>& args);
int cmd_run(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_inspect(const std::vector<std::string>& args);
int cmd_conformance(const std::vector<std::string>& args);
int cmd_compare(const std::vector<std::string>& args);

}  // namespace rtexec
