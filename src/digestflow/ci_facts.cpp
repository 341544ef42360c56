#include "digestflow/ci_facts.hpp"

#include "digestflow/json_input.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace digestflow {
namespace {

std::string env(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// GitHub puts the event's JSON in a file: a push names its head commit's author.
std::string github_commit_author() {
    const std::string path = env("GITHUB_EVENT_PATH");
    if (path.empty()) return "";
    std::ifstream in(path, std::ios::binary);
    std::string text;
    char buffer[65536];
    while (in && text.size() < (8u << 20)) {
        in.read(buffer, sizeof buffer);
        text.append(buffer, static_cast<std::size_t>(in.gcount()));
    }
    const auto event = try_parse_json(text);
    if (!event || !event->is_object()) return "";
    const auto commit = event->find("head_commit");
    if (commit == event->end() || !commit->is_object()) return "";
    const auto author = commit->find("author");
    if (author == commit->end() || !author->is_object()) return "";
    const std::string name = author->value("name", ""), email = author->value("email", "");
    if (email.empty()) return name;
    return name.empty() ? "<" + email + ">" : name + " <" + email + ">";
}

}  // namespace

std::string commit_author_from_environment() {
    if (!env("CI_COMMIT_AUTHOR").empty()) return env("CI_COMMIT_AUTHOR");  // GitLab: "Name <email>"
    return github_commit_author();
}

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
