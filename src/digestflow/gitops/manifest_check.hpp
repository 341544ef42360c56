// verify-digest --manifest: is every image of the repository in these files pinned to the artifact's digest?
#pragma once

#include "digestflow/digest.hpp"
#include "digestflow/gitops/gitops_file.hpp"

#include <string>
#include <vector>

namespace digestflow::gitops {

struct PinCheck {
    std::string file;
    std::size_t line = 0;  // 0 for a file with no image of the repository
    std::string where;
    std::string rendered;  // the image as written / rendered; empty for an absent file
    bool pinned = false;   // pinned to the digest (or, for an absent file, absence allowed)
    std::string detail;    // one line: "FILE:LINE WHERE: …"
};

// One check per image site, and one for each file that names no image of the repository (a failure unless
// `allow_absent`). A tag-only reference is not pinned; a reference pinned to another digest names that digest.
std::vector<PinCheck> check_pins(const GitopsFile& file, const std::string& repository, const Digest& digest,
                                 bool allow_absent);

}  // namespace digestflow::gitops
