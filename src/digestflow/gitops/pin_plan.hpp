// The edits that pin image sites to a digest, as byte splices into the original text (nothing else moves).
#pragma once

#include "digestflow/digest.hpp"
#include "digestflow/gitops/image_sites.hpp"

#include <optional>
#include <string>
#include <vector>

namespace digestflow::gitops {

struct PinOptions {
    Digest digest;
    bool keep_tag = false;  // repository:tag@digest instead of repository@digest (Helm: tag becomes TAG@digest)
};

struct Splice {
    std::size_t begin = 0;
    std::size_t end = 0;
    std::string bytes;
};

enum class PinOutcome { Pinned, Moved, AlreadyPinned, Refused };

struct SitePin {
    ImageSite site;
    PinOutcome outcome = PinOutcome::Pinned;
    std::optional<Digest> previous;  // Moved: the digest it was pinned to before
    std::string before;              // the rendered image before and after
    std::string after;
    std::string reason;              // Refused: why, one line, naming the fix
    std::vector<Splice> splices;
};

struct FilePin {
    std::string path;
    FileKind kind = FileKind::HelmValues;
    std::vector<SitePin> sites;  // empty: the file names no image of the repository
    std::string new_text;        // the original text with every splice applied
    bool changed() const;
    bool refused() const;        // some site could not be pinned: the file must not be written
};

FilePin plan_pins(const YamlFile& file, FileKind kind, const std::string& repository, const PinOptions& options);

// Applies non-overlapping splices (any order) to text. Throws std::logic_error on overlap.
std::string apply_splices(const std::string& text, std::vector<Splice> splices);

}  // namespace digestflow::gitops
