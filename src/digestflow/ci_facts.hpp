// What the CI platform says about the run: the source commit and the pipeline URL, from GitHub Actions or
// GitLab CI variables. Recorded by capture-digest in the artifact's build block and by record in each entry.
#pragma once

#include <nlohmann/json.hpp>

namespace digestflow {

// {"commit": …, "pipeline": …}, each member only when the platform sets it.
nlohmann::ordered_json build_facts_from_environment();

// The source commit's author as "Name <email>": GitLab's CI_COMMIT_AUTHOR, or the head commit of GitHub's push
// event ($GITHUB_EVENT_PATH); "" when the platform does not say. capture-digest records it as build.commitAuthor
// (gate-check's distinctFrom: commitAuthor).
std::string commit_author_from_environment();

}  // namespace digestflow
