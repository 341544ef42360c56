// What runs, as container runtimes and Kubernetes report it: `kubectl get pods -o json` (a Pod or a List),
// `docker inspect` of containers or images, `podman inspect` of containers or images. Each container comes
// with the digests the report gives and what each one is: a manifest (or index) digest, or an image ID, which
// is a config digest (docker's classic store, podman, containerd's bare sha256:) and never a manifest digest.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow {

inline constexpr std::size_t max_workloads_bytes = 64 * 1024 * 1024;

struct ImageEvidence {
    enum class Kind { ManifestDigest, ImageId };
    Kind kind = Kind::ManifestDigest;
    std::string digest;  // "sha256:…"
    std::string field;   // where it came from: "status.containerStatuses[0].imageID", "Image", "RepoDigests[1]"
};

struct RunningContainer {
    std::string name;   // "pod shop/web-7d9 container web", "container web-1", "image localhost:5000/app:1"
    std::string container;  // the bare container name (for --container); empty for an image
    std::string image;  // the reference as the report gives it (may be a tag, may be rewritten by the runtime)
    std::vector<std::string> repositories;  // from `image` and from repo@digest evidence, normalised
    std::vector<ImageEvidence> evidence;
};

struct RunningWorkloads {
    std::string format;  // "kubectl", "docker-container", "docker-image", "podman-container", "podman-image"
    std::vector<RunningContainer> containers;
};

// Detects the format from the content. Throws Error(Usage) naming `origin` for text that is not JSON, and for
// JSON of another shape (saying which formats are read).
RunningWorkloads parse_running_workloads(std::string_view text, const std::string& origin);

}  // namespace digestflow
