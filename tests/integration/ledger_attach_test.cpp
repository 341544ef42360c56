// Ledger entries attached to images in the registry (operations/ledger_attach), against a real
// docker-registry (distribution 2.8: no referrers API, so the sha256-<hex> fallback tag), with skopeo as the
// judge; one test puts a RawServer in front that answers like a registry with the referrers API (OCI-Subject,
// /referrers/).

#include "support/process.hpp"
#include "support/raw_server.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"

#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/operations/ledger_attach.hpp"
#include "digestflow/referrers.hpp"
#include "digestflow/registry/client.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <mutex>

namespace digestflow::testsupport {
namespace {

using nlohmann::json;
using operations::attach_entry;
using operations::attached_entries;
using operations::AttachedEntry;
using operations::deployment_artifact_type;

constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";
constexpr const char* empty_digest =
    "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
constexpr const char* cosign_type = "application/vnd.dev.cosign.artifact.sig.v1+json";

registry::ClientOptions client_options() {
    registry::ClientOptions options;
    options.retry.max_attempts = 2;
    return options;
}

std::string deploy_line(const std::string& repository, const std::string& digest,
                        const std::string& environment, const std::string& at) {
    ledger::Entry entry;
    entry.prev = std::string(ledger::genesis_prev);
    entry.at = at;
    entry.environment = environment;
    entry.repository = repository;
    entry.digest = digest;
    entry.media_type = oci_manifest;
    entry.by = "ci";
    return ledger::serialize_line(entry);
}

// A referrer of another tool (a cosign-like signature) with `subject`, pushed by digest; returns its digest
// and the descriptor a fallback index lists it with.
std::pair<std::string, json> push_foreign_referrer(const std::string& host, const std::string& repo,
                                                   const std::string& subject, std::int64_t subject_size) {
    std::string layer = "signature bytes";
    json manifest{{"schemaVersion", 2},
                  {"mediaType", oci_manifest},
                  {"artifactType", cosign_type},
                  {"config",
                   {{"mediaType", "application/vnd.oci.empty.v1+json"},
                    {"digest", push_blob(host, repo, "{}")},
                    {"size", 2}}},
                  {"layers", json::array({{{"mediaType", "application/octet-stream"},
                                           {"digest", push_blob(host, repo, layer)},
                                           {"size", layer.size()}}})},
                  {"subject", {{"mediaType", oci_manifest}, {"digest", subject}, {"size", subject_size}}}};
    std::string bytes = manifest.dump();
    std::string digest = digest_of_raw(bytes);
    push_manifest(host, repo, digest, bytes, oci_manifest);
    json descriptor{{"mediaType", oci_manifest},
                    {"digest", digest},
                    {"size", bytes.size()},
                    {"artifactType", cosign_type},
                    {"annotations", {{"dev.sigstore.cosign/signature", "MEUCIQ..."}}}};
    return {digest, descriptor};
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class LedgerAttach : public ::testing::Test {
  protected:
    void SetUp() override {
        host = registry.host();
        repository = Reference::parse(host + "/team/app");
        image_digest = push_oci_image(host, "team/app", "1.0", {"layer one"});
        image_size =
            static_cast<std::int64_t>(raw_manifest(host + "/team/app@" + image_digest, plain).size());
        fallback_tag = referrers_fallback_tag(Digest::parse(image_digest));
    }

    // The image as the artifact describes it.
    Descriptor subject() const {
        return Descriptor{oci_manifest, Digest::parse(image_digest), image_size, std::nullopt, ""};
    }

    AttachedEntry attach(const std::string& environment, const std::string& at) {
        registry::RegistryClient client(client_options());
        return attach_entry(client, repository, subject(), environment,
                            deploy_line(repository.repository(), image_digest, environment, at));
    }
    std::vector<AttachedEntry> listed(const std::string& registry_host) {
        registry::RegistryClient client(client_options());
        return attached_entries(client, Reference::parse(registry_host + "/team/app@" + image_digest));
    }
    std::vector<AttachedEntry> listed() { return listed(host); }
    json fallback_index() { return json::parse(raw_manifest(host + "/team/app:" + fallback_tag, plain)); }

    Registry registry;
    RemoteOptions plain = registry.client_options();
    std::string host;
    Reference repository;
    std::string image_digest;
    std::int64_t image_size = 0;
    std::string fallback_tag;
};

TEST_F(LedgerAttach, TheEntryIsFoundThroughTheFallbackTagAndItsSubjectIsTheDigest) {
    const std::string line =
        deploy_line(repository.repository(), image_digest, "production", "2026-12-02T06:00:00Z");
    registry::RegistryClient client(client_options());
    AttachedEntry attached = attach_entry(client, repository, subject(), "production", line);
    EXPECT_EQ(attached.how, "fallback tag " + fallback_tag);
    EXPECT_EQ(attached.line, line);

    // skopeo, not our client, reads what the registry holds: the artifact by its digest...
    std::string raw = raw_manifest(host + "/team/app@" + attached.manifest.str(), plain);
    EXPECT_EQ(digest_of_raw(raw), attached.manifest.str());
    json artifact = json::parse(raw);
    EXPECT_EQ(artifact["mediaType"], oci_manifest);
    EXPECT_EQ(artifact["artifactType"], deployment_artifact_type);
    EXPECT_EQ(artifact["subject"],
              json({{"mediaType", oci_manifest}, {"digest", image_digest}, {"size", image_size}}));
    EXPECT_EQ(
        artifact["config"],
        json({{"mediaType", "application/vnd.oci.empty.v1+json"}, {"digest", empty_digest}, {"size", 2}}));
    ASSERT_EQ(artifact["layers"].size(), 1u);
    EXPECT_EQ(artifact["layers"][0]["mediaType"], deployment_artifact_type);
    EXPECT_EQ(artifact["layers"][0]["digest"], ledger::line_hash(line)); // the layer is the ledger entry
    EXPECT_EQ(artifact["layers"][0]["size"], line.size());
    EXPECT_EQ(artifact["annotations"]["org.opencontainers.image.created"], "2026-12-02T06:00:00Z");
    EXPECT_EQ(artifact["annotations"]["dev.digestflow.environment"], "production");
    EXPECT_TRUE(blob_exists(host, "team/app", ledger::line_hash(line)));

    // ...and the fallback tag, which lists it with its artifactType and annotations.
    json index = fallback_index();
    EXPECT_EQ(index["mediaType"], oci_index);
    ASSERT_EQ(index["manifests"].size(), 1u);
    EXPECT_EQ(index["manifests"][0], json({{"mediaType", oci_manifest},
                                           {"digest", attached.manifest.str()},
                                           {"size", raw.size()},
                                           {"artifactType", deployment_artifact_type},
                                           {"annotations", artifact["annotations"]}}));

    auto entries = listed();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].manifest, attached.manifest);
    EXPECT_EQ(entries[0].line, line);
    EXPECT_EQ(entries[0].how, "fallback tag " + fallback_tag);
}

TEST_F(LedgerAttach, TwoEnvironmentsMergeIntoOneIndexAndAreListedOldestFirst) {
    // The later deployment is attached first: the listing is ordered by the entries' time, not the index's.
    AttachedEntry production = attach("production", "2026-12-02T07:00:00Z");
    AttachedEntry staging = attach("staging", "2026-12-01T07:00:00Z");
    EXPECT_NE(production.manifest, staging.manifest);

    json index = fallback_index();
    ASSERT_EQ(index["manifests"].size(), 2u);
    EXPECT_EQ(index["manifests"][0]["digest"], production.manifest.str());
    EXPECT_EQ(index["manifests"][1]["digest"], staging.manifest.str());

    auto entries = listed();
    ASSERT_EQ(entries.size(), 2u);
    EXPECT_EQ(entries[0].manifest, staging.manifest);
    EXPECT_EQ(entries[1].manifest, production.manifest);
    EXPECT_TRUE(contains(entries[0].line, "\"environment\":\"staging\""));
}

TEST_F(LedgerAttach, AttachingTheSameEntryAgainListsItOnce) {
    AttachedEntry first = attach("production", "2026-12-02T07:00:00Z");
    AttachedEntry again = attach("production", "2026-12-02T07:00:00Z");
    EXPECT_EQ(first.manifest, again.manifest);
    EXPECT_EQ(fallback_index()["manifests"].size(), 1u);
    EXPECT_EQ(listed().size(), 1u);
}

TEST_F(LedgerAttach, AForeignReferrerInTheFallbackIndexIsKeptAndNotListed) {
    auto [foreign, descriptor] = push_foreign_referrer(host, "team/app", image_digest, image_size);
    json existing{{"schemaVersion", 2}, {"mediaType", oci_index}, {"manifests", json::array({descriptor})}};
    push_manifest(host, "team/app", fallback_tag, existing.dump(), oci_index);

    AttachedEntry ours = attach("production", "2026-12-02T07:00:00Z");

    json index = fallback_index();
    ASSERT_EQ(index["manifests"].size(), 2u);
    EXPECT_EQ(index["manifests"][0], descriptor); // whole, annotations included
    EXPECT_EQ(index["manifests"][1]["digest"], ours.manifest.str());

    auto entries = listed();
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].manifest, ours.manifest);
}

TEST_F(LedgerAttach, NothingAttachedListsNothing) {
    EXPECT_TRUE(listed().empty());
}

TEST_F(LedgerAttach, AFallbackTagThatIsNoIndexIsNotReplaced) {
    std::string other = push_oci_image(host, "team/app", fallback_tag, {"not an index"});
    try {
        attach("production", "2026-12-02T07:00:00Z");
        FAIL() << "attached over an image manifest";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::CheckFailed) << e.what();
        EXPECT_TRUE(contains(e.what(), fallback_tag)) << e.what();
    }
    EXPECT_EQ(served_digest(host + "/team/app:" + fallback_tag, plain), other);
}

TEST_F(LedgerAttach, AnImageNotInTheRepositoryIsRefused) {
    registry::RegistryClient client(client_options());
    Reference elsewhere = Reference::parse(host + "/team/other");
    try {
        attach_entry(client, elsewhere, subject(), "production",
                     deploy_line(elsewhere.repository(), image_digest, "production", "2026-12-02T07:00:00Z"));
        FAIL() << "attached to an image the repository does not hold";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::CheckFailed) << e.what();
        EXPECT_TRUE(contains(e.what(), "team/other@" + image_digest)) << e.what();
    }
}

TEST_F(LedgerAttach, AnEntryForAnotherDigestOrEnvironmentIsNotAttached) {
    registry::RegistryClient client(client_options());
    const std::string other = "sha256:" + std::string(64, 'a');
    EXPECT_THROW(
        attach_entry(client, repository, subject(), "production",
                     deploy_line(repository.repository(), other, "production", "2026-12-02T07:00:00Z")),
        Error);
    EXPECT_THROW(
        attach_entry(client, repository, subject(), "production",
                     deploy_line(repository.repository(), image_digest, "staging", "2026-12-02T07:00:00Z")),
        Error);
    EXPECT_FALSE(skopeo_inspect_raw(host + "/team/app:" + fallback_tag, plain).ok());
}

// A forged history: a manifest listed in the fallback index as one of ours that is not what it claims.
struct Forgery {
    const char* name;
    const char* reason; // what the refusal says is wrong
    // Changes the artifact manifest (an honest one to start with) and returns the layer bytes to push.
    std::function<std::string(json& manifest, const std::string& honest_line,
                              const std::string& other_digest)>
        forge;
};

void PrintTo(const Forgery& forgery, std::ostream* out) {
    *out << forgery.name;
}

class ForgedHistory : public LedgerAttach, public ::testing::WithParamInterface<Forgery> {};

TEST_P(ForgedHistory, IsRefusedNamingTheManifest) {
    // A real attachment first: the forged one must not hide behind it, nor it be dropped for it.
    attach("staging", "2026-12-01T07:00:00Z");
    const std::string other_digest = push_oci_image(host, "team/app", "2.0", {"layer two"});
    const std::string honest =
        deploy_line(repository.repository(), image_digest, "production", "2026-12-02T07:00:00Z");
    json annotations{{"org.opencontainers.image.created", "2026-12-02T07:00:00Z"},
                     {"dev.digestflow.environment", "production"}};
    json manifest{
        {"schemaVersion", 2},
        {"mediaType", oci_manifest},
        {"artifactType", deployment_artifact_type},
        {"config",
         {{"mediaType", "application/vnd.oci.empty.v1+json"}, {"digest", empty_digest}, {"size", 2}}},
        {"layers", json::array()},
        {"subject", {{"mediaType", oci_manifest}, {"digest", image_digest}, {"size", image_size}}},
        {"annotations", annotations}};
    std::string layer = GetParam().forge(manifest, honest, other_digest);
    json layer_descriptor{{"mediaType", deployment_artifact_type},
                          {"digest", push_blob(host, "team/app", layer)},
                          {"size", layer.size()}};
    if (manifest["layers"].empty())
        manifest["layers"].push_back(layer_descriptor);
    std::string bytes = manifest.dump();
    std::string forged = push_manifest(host, "team/app", digest_of_raw(bytes), bytes, oci_manifest);

    json index = fallback_index();
    index["manifests"].push_back({{"mediaType", oci_manifest},
                                  {"digest", forged},
                                  {"size", bytes.size()},
                                  {"artifactType", deployment_artifact_type},
                                  {"annotations", annotations}});
    push_manifest(host, "team/app", fallback_tag, index.dump(), oci_index);

    try {
        auto entries = listed();
        FAIL() << "listed " << entries.size() << " entries with the forgery " << forged;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::CheckFailed) << e.what();
        EXPECT_TRUE(contains(e.what(), forged)) << e.what();
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
        EXPECT_TRUE(contains(e.what(), GetParam().reason)) << e.what();
    }
}

INSTANTIATE_TEST_SUITE_P(
    Forgeries, ForgedHistory,
    ::testing::Values(
        Forgery{"LayerNamesAnotherDigest", "holds an entry for",
                [](json&, const std::string& honest, const std::string& other) {
                    std::string line = honest;
                    line.replace(line.find("sha256:", line.find("\"digest\"")), other.size(), other);
                    return line;
                }},
        Forgery{"SubjectIsAnotherDigest", "as its subject",
                [](json& manifest, const std::string& honest, const std::string& other) {
                    manifest["subject"]["digest"] = other;
                    return honest;
                }},
        Forgery{"LayerIsNoLedgerLine", "is not a ledger entry",
                [](json&, const std::string&, const std::string&) { return std::string("hello\n"); }},
        Forgery{"EnvironmentAnnotationDisagrees", "says environment",
                [](json& manifest, const std::string& honest, const std::string&) {
                    manifest["annotations"]["dev.digestflow.environment"] = "staging";
                    return honest;
                }},
        Forgery{"AnotherArtifactType", "does not have artifactType",
                [](json& manifest, const std::string& honest, const std::string&) {
                    manifest["artifactType"] = cosign_type;
                    return honest;
                }},
        Forgery{"TwoLayers", "exactly one layer",
                [](json& manifest, const std::string& honest, const std::string&) {
                    manifest["layers"].push_back(
                        {{"mediaType", deployment_artifact_type}, {"digest", empty_digest}, {"size", 2}});
                    manifest["layers"].push_back(
                        {{"mediaType", deployment_artifact_type}, {"digest", empty_digest}, {"size", 2}});
                    return honest;
                }}),
    [](const ::testing::TestParamInfo<Forgery>& forgery) { return std::string(forgery.param.name); });

// A deleted attachment is a deleted line of history: said, not skipped. (The registry refuses an index whose
// children are missing, so the artifact is deleted after it was listed.)
TEST_F(LedgerAttach, AListedArtifactMissingFromTheRegistryIsRefused) {
    attach("staging", "2026-12-01T07:00:00Z");
    const std::string deleted = attach("production", "2026-12-02T07:00:00Z").manifest.str();
    RunResult removed =
        run_command({"skopeo", "delete", "--tls-verify=false", "docker://" + host + "/team/app@" + deleted});
    ASSERT_TRUE(removed.ok()) << removed.describe();
    try {
        listed();
        FAIL() << "a history with an entry missing was listed";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::CheckFailed) << e.what();
        EXPECT_TRUE(contains(e.what(), deleted + " listed as a deployment entry")) << e.what();
        EXPECT_TRUE(contains(e.what(), "is not in the registry")) << e.what();
    }
}

// Another writer replaces the fallback tag between our write and our read-back (with an index lacking our
// descriptor): we merge again into what it wrote, keeping its descriptors. Played by a RawServer that writes
// the other index straight to the registry after forwarding our first `races` writes of the tag.
struct Racer {
    int races = 0;
    std::mutex mutex;
    int tag_writes = 0;
    std::unique_ptr<RawServer> server; // last: stopped before the members its handler uses go
};

void race(Racer& racer, const std::string& upstream, const std::string& tag, const std::string& other_index) {
    racer.server = std::make_unique<RawServer>(
        [&racer, upstream, tag, other_index](const RawRequest& request, RawConnection& connection) {
            std::string answer = connection.fetch_upstream(request, upstream);
            if (request.method == "PUT" && contains(request.target, "/manifests/" + tag)) {
                std::lock_guard lock(racer.mutex);
                if (++racer.tag_writes <= racer.races)
                    push_manifest(upstream, "team/app", tag, other_index, oci_index);
            }
            connection.send(answer);
            return false;
        });
}

TEST_F(LedgerAttach, AWriterThatRacedUsIsMergedWithNotOverwritten) {
    auto [foreign, descriptor] = push_foreign_referrer(host, "team/app", image_digest, image_size);
    json other{{"schemaVersion", 2}, {"mediaType", oci_index}, {"manifests", json::array({descriptor})}};
    Racer racer;
    racer.races = 1;
    race(racer, host, fallback_tag, other.dump());

    const std::string line =
        deploy_line(repository.repository(), image_digest, "production", "2026-12-02T07:00:00Z");
    registry::RegistryClient client(client_options());
    AttachedEntry ours = attach_entry(client, Reference::parse(racer.server->host() + "/team/app"), subject(),
                                      "production", line);
    EXPECT_EQ(racer.tag_writes, 2);
    json index = fallback_index();
    ASSERT_EQ(index["manifests"].size(), 2u) << index.dump();
    EXPECT_EQ(index["manifests"][0], descriptor);
    EXPECT_EQ(index["manifests"][1]["digest"], ours.manifest.str());
    EXPECT_EQ(listed().size(), 1u);
}

TEST_F(LedgerAttach, AWriterThatKeepsRacingUsEndsTheAttachAfterFiveWrites) {
    auto [foreign, descriptor] = push_foreign_referrer(host, "team/app", image_digest, image_size);
    json other{{"schemaVersion", 2}, {"mediaType", oci_index}, {"manifests", json::array({descriptor})}};
    Racer racer;
    racer.races = 1000;
    race(racer, host, fallback_tag, other.dump());
    try {
        registry::RegistryClient client(client_options());
        attach_entry(
            client, Reference::parse(racer.server->host() + "/team/app"), subject(), "production",
            deploy_line(repository.repository(), image_digest, "production", "2026-12-02T07:00:00Z"));
        FAIL() << "attached although the descriptor never stayed";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Registry) << e.what();
        EXPECT_TRUE(contains(e.what(), fallback_tag)) << e.what();
    }
    EXPECT_EQ(racer.tag_writes, 5);
    EXPECT_EQ(fallback_index(), other); // the other writer's index, untouched by our last attempt
}

// A registry with the referrers API, played by a RawServer in front of the real one: it answers manifest PUTs
// by digest with OCI-Subject (as such a registry does for a manifest with a subject) and serves
// /v2/team/app/referrers/<digest> from `referrers`. Nothing may then go to the fallback tag.
TEST_F(LedgerAttach, WhereTheRegistryIndexesReferrersNoFallbackTagIsWritten) {
    std::mutex mutex;
    std::string referrers; // the listing the "registry" serves
    RawServer indexing([&](const RawRequest& request, RawConnection& connection) {
        const std::string listing = "/v2/team/app/referrers/" + image_digest;
        if (request.method == "GET" && request.target.rfind(listing, 0) == 0) {
            std::lock_guard lock(mutex);
            connection.send(
                "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Type: " + std::string(oci_index) +
                "\r\nContent-Length: " + std::to_string(referrers.size()) + "\r\n\r\n" + referrers);
            return false;
        }
        std::string answer = connection.fetch_upstream(request, host);
        if (request.method == "PUT" && contains(request.target, "/manifests/sha256:") &&
            answer.rfind("HTTP/1.1 201", 0) == 0)
            answer.insert(answer.find("\r\n") + 2, "OCI-Subject: " + image_digest + "\r\n");
        connection.send(answer);
        return false;
    });

    const std::string line =
        deploy_line(repository.repository(), image_digest, "production", "2026-12-02T07:00:00Z");
    registry::RegistryClient client(client_options());
    AttachedEntry ours =
        attach_entry(client, Reference::parse(indexing.host() + "/team/app"), subject(), "production", line);
    EXPECT_EQ(ours.how, "referrers API");
    EXPECT_FALSE(skopeo_inspect_raw(host + "/team/app:" + fallback_tag, plain).ok());
    EXPECT_EQ(registry.count_requests("PUT", "/v2/team/app/manifests/" + fallback_tag), 0u);

    auto [foreign, descriptor] = push_foreign_referrer(host, "team/app", image_digest, image_size);
    {
        std::string raw = raw_manifest(host + "/team/app@" + ours.manifest.str(), plain);
        json listing{{"schemaVersion", 2},
                     {"mediaType", oci_index},
                     {"manifests", json::array({descriptor,
                                                {{"mediaType", oci_manifest},
                                                 {"digest", ours.manifest.str()},
                                                 {"size", raw.size()},
                                                 {"artifactType", deployment_artifact_type}}})}};
        std::lock_guard lock(mutex);
        referrers = listing.dump();
    }
    auto entries = listed(indexing.host());
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].manifest, ours.manifest);
    EXPECT_EQ(entries[0].line, line);
    EXPECT_EQ(entries[0].how, "referrers API");
}

} // namespace
} // namespace digestflow::testsupport
