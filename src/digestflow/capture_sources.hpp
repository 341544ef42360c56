// Reading the digest a build tool reported, from the files each tool writes (DESIGN.md §3, PROTOCOLS.md §6).
// Pure parsing: no registry access. Each function throws Error(Usage) naming the file and the fix.
#pragma once

#include "digestflow/digest.hpp"
#include "digestflow/reference.hpp"

#include <optional>
#include <vector>
#include <string>

namespace digestflow {

struct CapturedDigest {
    Digest digest;
    std::string source;                        // "digest", "buildx-metadata", "digest-file", "push-output",
                                               // "kaniko-image-refs", "jib", "ko-refs", "resolve"
    std::optional<std::string> media_type;     // when the tool reported it (buildx descriptor)
    std::optional<std::int64_t> size;          // when the tool reported it (buildx, docker push)
    std::optional<Digest> config_digest;       // the image ID, when the tool reported it (buildx, jib):
                                               // used to refuse an image ID passed as a manifest digest
    std::vector<Digest> platform_digests;      // ko multi-platform refs: the lines after the index, which the
                                               // registry's index must list as its children
};

// Each takes the file's text (so tests need no files) plus the image the user named; where a file lists
// several images, the entry matching `image` (repository, and tag when given) is chosen, and a file that
// mentions none of them, or several different digests for it, is an error.
CapturedDigest digest_from_flag(const std::string& text);
CapturedDigest digest_from_buildx_metadata(const std::string& text, const Reference& image);
CapturedDigest digest_from_digest_file(const std::string& text);
CapturedDigest digest_from_push_output(const std::string& text, const Reference& image);
CapturedDigest digest_from_kaniko_image_refs(const std::string& text, const Reference& image);
CapturedDigest digest_from_jib(const std::string& text, const Reference& image);
CapturedDigest digest_from_ko_refs(const std::string& text, const Reference& image);

}  // namespace digestflow
