// What a tool hands to the next CI step: named values, one list for both platforms. GitHub gets them in
// $GITHUB_OUTPUT under `name` (kebab-case); GitLab in a dotenv report under `dotenv_name` (UPPER_SNAKE).
#pragma once

#include <string>
#include <vector>

namespace digestflow::ci {

struct Output {
    std::string name;         // "digest", "reference", "decision"
    std::string dotenv_name;  // "IMAGE_DIGEST", "IMAGE_REFERENCE", "GATE_DECISION"; empty: GitHub only
    std::string value;
};
using Outputs = std::vector<Output>;

// The outputs every tool that reads an artifact gives: digest, repository and reference (repository@digest).
Outputs image_outputs(const std::string& repository, const std::string& digest);

}  // namespace digestflow::ci
