#include "digestflow/operations/verify_running.hpp"

#include "digestflow/error.hpp"
#include "digestflow/reference.hpp"

#include <algorithm>
#include <map>
#include <optional>

namespace digestflow::operations {

namespace {

std::string platform_name(const PlatformEntry& p) {
    return p.os + "/" + p.architecture + (p.variant.empty() ? "" : "/" + p.variant);
}

// The config digests of the artifact's image manifest, or of each index child, fetched by digest (the
// client hashes every byte against the digest it asked for).
class ConfigDigests {
public:
    ConfigDigests(registry::RegistryClient& client, const Artifact& artifact) : m_client(client), m_artifact(artifact) {}

    // config digest -> what it is the config of ("the image" or "the linux/arm64 child sha256:…")
    const std::map<std::string, std::string>& get() {
        if (m_loaded) return m_configs;
        m_loaded = true;
        const auto image = m_artifact.image();
        const Reference top = Reference::parse(image.repository).with_digest(image.digest);
        auto manifest = m_client.get_manifest(top);
        if (!manifest)
            throw Error(ErrorKind::Registry, "the registry has no manifest " + top.str() +
                                                 ": cannot read its config digest to compare with an image ID");
        if (manifest->parsed.config) m_configs[manifest->parsed.config->digest.str()] = "the image's config";
        for (const auto& child : manifest->parsed.manifests) {
            auto fetched = m_client.get_manifest(top.with_digest(child.digest));
            if (!fetched || !fetched->parsed.config) continue;
            std::string what = "the config of child " + child.digest.str();
            if (child.platform)
                what = "the config of the " + child.platform->os + "/" + child.platform->architecture +
                       (child.platform->variant.empty() ? "" : "/" + child.platform->variant) + " child " + child.digest.str();
            m_configs[fetched->parsed.config->digest.str()] = what;
        }
        for (const auto& child : manifest->parsed.manifests)
            m_children[child.digest.str()] = child.platform ? child.platform->os + "/" + child.platform->architecture +
                                                                   (child.platform->variant.empty() ? "" : "/" + child.platform->variant)
                                                             : "unnamed platform";
        return m_configs;
    }
    // The index children as the registry lists them: for an artifact captured --offline, whose platforms the
    // artifact does not know.
    const std::map<std::string, std::string>& children() {
        get();
        return m_children;
    }

private:
    registry::RegistryClient& m_client;
    const Artifact& m_artifact;
    bool m_loaded = false;
    std::map<std::string, std::string> m_configs;
    std::map<std::string, std::string> m_children;
};

}  // namespace

std::vector<RunningVerdict> verify_running(registry::RegistryClient& client, const Artifact& artifact,
                                           const RunningWorkloads& workloads, const std::vector<std::string>& containers) {
    const auto image = artifact.image();
    const std::string digest = image.digest.str();
    std::map<std::string, std::string> children;  // child digest -> platform
    for (const auto& p : image.platforms) children[p.digest] = platform_name(p);
    ConfigDigests configs(client, artifact);

    std::vector<RunningVerdict> verdicts;
    for (const auto& c : workloads.containers) {
        RunningVerdict verdict;
        verdict.image = c.image;
        verdict.check.target = c.name;
        const bool named = std::find(containers.begin(), containers.end(), c.container) != containers.end() && !c.container.empty();
        const bool ours = std::find(c.repositories.begin(), c.repositories.end(), image.repository) != c.repositories.end();
        verdict.judged = named || ours;
        if (!verdict.judged) {
            verdict.check.detail = c.name + " runs " + c.image + ": another repository, not judged";
            verdicts.push_back(std::move(verdict));
            continue;
        }
        std::optional<std::string> found;
        for (const auto& e : c.evidence) {
            if (e.kind != ImageEvidence::Kind::ManifestDigest) continue;
            if (e.digest == digest) {
                verdict.check.match = true;
                verdict.check.detail = c.name + " runs " + digest + " (" + e.field + ")";
            } else if (auto child = children.find(e.digest); child != children.end()) {
                verdict.check.match = true;
                verdict.check.detail = c.name + " runs the " + child->second + " child " + e.digest + " of " + digest +
                                       " (" + e.field + ")";
            }
            // An --offline artifact does not say whether it is an index: the registry does.
            if (!verdict.check.match && image.media_type.empty())
                if (auto child = configs.children().find(e.digest); child != configs.children().end()) {
                    verdict.check.match = true;
                    verdict.check.detail = c.name + " runs the " + child->second + " child " + e.digest + " of " + digest +
                                           " (" + e.field + "; the index read from the registry)";
                }
            if (verdict.check.match) {
                verdict.evidence_field = e.field;
                break;
            }
            found = found.value_or(e.digest);
        }
        if (!verdict.check.match) {
            for (const auto& e : c.evidence) {
                if (e.kind != ImageEvidence::Kind::ImageId) continue;
                // An image ID is a config digest (docker's classic store, podman, containerd's bare sha256:);
                // docker's containerd store uses the manifest digest instead, which is said as such.
                if (e.digest == digest || children.count(e.digest)) {
                    verdict.check.match = true;
                    verdict.check.detail = c.name + " runs " + digest + " (" + e.field +
                                           " is the manifest digest: docker's containerd image store)";
                } else if (auto config = configs.get().find(e.digest); config != configs.get().end()) {
                    verdict.check.match = true;
                    verdict.check.detail = c.name + " runs " + digest + ": its image ID " + e.digest + " (" + e.field +
                                           ") is " + config->second + ", read from the registry";
                }
                if (verdict.check.match) {
                    verdict.evidence_field = e.field;
                    break;
                }
                found = found.value_or(e.digest);
            }
        }
        if (!verdict.check.match) {
            if (found) {
                verdict.check.found = *found;
                verdict.check.detail = c.name + " runs " + c.image + " = " + *found + ", not " + digest;
            } else {
                verdict.check.detail = c.name + " reports no image digest (not started, or the runtime gave none)";
            }
        }
        verdicts.push_back(std::move(verdict));
    }
    return verdicts;
}

}  // namespace digestflow::operations
