// What the CI platform says about the run: the source commit and the pipeline URL, from GitHub Actions or
// GitLab CI variables. Recorded by capture-digest in the artifact's build block and by record in each entry.
#pragma once

#include <nlohmann/json.hpp>

namespace digestflow {

// {"commit": …, "pipeline": …}, each member only when the platform sets it.
nlohmann::ordered_json build_facts_from_environment();

}  // namespace digestflow
