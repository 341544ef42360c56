#include "digestflow/gitops/unified_diff.hpp"

namespace digestflow::gitops {

// Placeholder until the diff lands (branch diff).
std::string unified_diff(const std::string& old_text, const std::string& new_text, const std::string& old_label,
                         const std::string& new_label) {
    if (old_text == new_text) return "";
    return "--- " + old_label + "\n+++ " + new_label + "\n";
}

}  // namespace digestflow::gitops
