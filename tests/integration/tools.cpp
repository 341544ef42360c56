#include "tools.hpp"

#include "support/temp_dir.hpp"

#include <Poco/Base64Encoder.h>

#include <gtest/gtest.h>

#include <sstream>

namespace digestflow::testsupport {

RunResult run_tool(const std::string& tool, const std::vector<std::string>& args,
                   std::map<std::string, std::string> env) {
    static TempDir empty_home("digestflow-empty-home");
    env.try_emplace("HOME", empty_home.path());
    env.try_emplace("DOCKER_CONFIG", empty_home.path());
    env.try_emplace("XDG_RUNTIME_DIR", empty_home.path());
    env.try_emplace("GITHUB_ACTIONS", "");  // a test run inside GitHub Actions must not write its step outputs
    std::vector<std::string> argv{std::string(DIGESTFLOW_TOOLS_DIR) + "/" + tool + "/" + tool};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.env = env;
    options.timeout_seconds = 120;
    return run_command(argv, options);
}

std::string base64_text(const std::string& text) {
    std::ostringstream out;
    Poco::Base64Encoder encoder(out);
    encoder.rdbuf()->setLineLength(0);
    encoder << text;
    encoder.close();
    return out.str();
}

nlohmann::json json_output(const RunResult& result) {
    auto doc = nlohmann::json::parse(result.stdout_text, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << "stdout is not JSON: " << result.describe();
    return doc.is_discarded() ? nlohmann::json() : doc;
}

std::string schema_problem(const std::string& artifact_path) {
    const std::string script =
        "import json, sys, jsonschema\n"
        "schema = json.load(open(sys.argv[1]))\n"
        "jsonschema.validators.validator_for(schema)(schema).validate(json.load(open(sys.argv[2])))\n";
    auto result = run_command({"/usr/bin/python3", "-c", script, std::string(DIGESTFLOW_SCHEMA_DIR) +
                               "/image-digest.schema.json", artifact_path});
    return result.ok() ? "" : result.describe();
}

}  // namespace digestflow::testsupport
