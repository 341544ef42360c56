#include "digestflow/ci_facts.hpp"

#include <cstdlib>
#include <string>

namespace digestflow {
namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

}  // namespace

nlohmann::ordered_json build_facts_from_environment() {
    nlohmann::ordered_json facts = nlohmann::ordered_json::object();
    std::string commit = !env("GITHUB_SHA").empty() ? env("GITHUB_SHA") : env("CI_COMMIT_SHA");
    if (!commit.empty()) facts["commit"] = commit;
    if (!env("GITHUB_RUN_ID").empty())
        facts["pipeline"] = env("GITHUB_SERVER_URL") + "/" + env("GITHUB_REPOSITORY") + "/actions/runs/" +
                            env("GITHUB_RUN_ID");
    else if (!env("CI_PIPELINE_URL").empty())
        facts["pipeline"] = env("CI_PIPELINE_URL");
    return facts;
}

}  // namespace digestflow
