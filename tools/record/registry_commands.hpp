// record --attach and record history --registry: the ledger entries kept beside the image in the registry
// (operations/ledger_attach), so "where did this digest run" can be answered from the registry alone.
#pragma once

#include "digestflow/artifact.hpp"
#include "digestflow/cli/run.hpp"
#include "digestflow/operations/ledger_attach.hpp"

#include <string>

namespace digestflow::record_tool {

inline const cli::FlagSpec attach_flag{
    "attach", "", "also push the entry to the registry as an artifact referring to the image (the referrers API, or the sha256-<hex> fallback tag)"};
inline const cli::FlagSpec registry_flag{
    "registry", "REPO@DIGEST", "list the deployment entries attached to this image in the registry (no --ledger)"};

// Pushes the appended `line` as an artifact whose subject is the artifact's image.
operations::AttachedEntry attach_line(const cli::ParsedArgs& args, const ImageInfo& image,
                                      const std::string& environment, const std::string& line);

// record history --registry REPO@DIGEST [--environment ENV]: the entries attached to the image, each checked.
cli::ToolResult registry_history(const cli::ParsedArgs& args);

}  // namespace digestflow::record_tool
