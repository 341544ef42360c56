#pragma once

#include "support/process.hpp"
#include "support/remote_options.hpp"
#include "support/temp_dir.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace digestflow::testsupport {

enum class ImageFormat { Oci, Docker };

// A FROM scratch image: files copied to / and nothing else. Built with --timestamp 0, so the same content
// always gives the same digests (in any Buildah instance); change salt to get a different image.
struct ScratchImage {
    std::map<std::string, std::string> files{
        {"hello.txt", "hello from digestflow\n"}}; // path in image -> content
    std::map<std::string, std::string> programs;   // path in image -> host file copied with its mode (e.g. /bin/busybox)
    std::string salt;                              // non-empty: adds /salt.txt with this content
    ImageFormat format = ImageFormat::Oci;         // manifest/config format of the local image (bud --format)
};

// buildah with its own vfs store (--root/--runroot in a temp dir) and chroot isolation: no daemon, no
// emulation, nothing shared with other instances. The destructor removes the store.
class Buildah {
  public:
    Buildah();
    Buildah(const Buildah&) = delete;
    Buildah& operator=(const Buildah&) = delete;

    // Builds NAME (e.g. "app" -> localhost/app:latest) and returns its image ID "sha256:<hex>". The image ID
    // is the CONFIG digest: never equal to the manifest digest that push() returns.
    std::string build_scratch_image(const std::string& name, const ScratchImage& image = {});

    // buildah push --digestfile: destination "HOST/REPO:TAG" ("docker://" optional). Returns the manifest
    // digest as written by buildah (checked non-empty). format: convert on push (default: as built).
    std::string push(const std::string& image, const std::string& destination, const RemoteOptions& remote,
                     std::optional<ImageFormat> format = std::nullopt);

    // bud --platform P1,P2 --manifest LIST: one image per platform in a (fresh) local manifest list.
    void build_index(const std::string& list, const ScratchImage& image = {},
                     const std::vector<std::string>& platforms = {"linux/amd64", "linux/arm64"});

    // buildah manifest push --all --format oci|v2s2 --digestfile: returns the index digest as pushed.
    // (Local list digests differ from pushed ones: layers get compressed on push. Trust this value.)
    std::string push_index(const std::string& list, const std::string& destination,
                           const RemoteOptions& remote, ImageFormat format = ImageFormat::Oci);

    // Escape hatch: buildah with this instance's store flags prepended to args.
    RunResult run(const std::vector<std::string>& args) const;
    RunResult run_checked_buildah(const std::vector<std::string>& args) const;

    const std::string& dir() const { return m_dir.path(); }

  private:
    std::string make_context(const ScratchImage& image) const;

    TempDir m_dir{"digestflow-buildah"};
    mutable int m_contexts = 0;
};

} // namespace digestflow::testsupport
