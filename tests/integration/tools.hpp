// Running the real tool binaries from integration tests (black box: exit code, stdout, stderr).
#pragma once

#include "support/process.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace digestflow::testsupport {

// DIGESTFLOW_TOOLS_DIR/<tool>/<tool> with args; env adds to the environment. HOME and DOCKER_CONFIG point at
// an empty folder unless env sets them, so the machine's own credentials never leak into a test.
RunResult run_tool(const std::string& tool, const std::vector<std::string>& args,
                   std::map<std::string, std::string> env = {});

// Standard base64 of `text` (docker config.json "auth" values), from Poco: independent of the code under test.
std::string base64_text(const std::string& text);

// Parses stdout of a --json run; fails the test (and returns null) when it is not JSON.
nlohmann::json json_output(const RunResult& result);

// Validates a JSON file against schema/image-digest.schema.json with python3-jsonschema (an independent
// validator). Returns "" when valid, else the validator's message.
std::string schema_problem(const std::string& artifact_path);

}  // namespace digestflow::testsupport
