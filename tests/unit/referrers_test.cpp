#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/referrers.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

namespace digestflow {
namespace {

// Every case of the shared vectors whose digest our Digest type accepts (sha256, sha512).
TEST(ReferrersFallbackTag, MatchesTheSpecVectors) {
    std::ifstream in(std::string(DIGESTFLOW_VECTORS_DIR) + "/referrers-tag-cases.json");
    auto doc = nlohmann::json::parse(in);
    int checked = 0;
    for (const auto& c : doc["cases"]) {
        std::string digest = c["digest"];
        if (!Digest::is_valid(digest)) continue;
        EXPECT_EQ(referrers_fallback_tag(Digest::parse(digest)), c["tag"].get<std::string>()) << digest;
        ++checked;
    }
    EXPECT_GE(checked, 2);
}

const std::string sig = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                        std::string(64, 'a') + R"(","size":10,"artifactType":"application/x-sig","annotations":{"k":"v"}})";
const std::string sbom = R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                         std::string(64, 'b') + R"(","size":20,"artifactType":"application/x-sbom"})";

std::string index_of(const std::string& descriptors) {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" + descriptors + "]}";
}

TEST(MergeReferrersIndex, EmptyDestinationTakesTheIncomingBytesUnchanged) {
    std::string incoming = index_of(sig);
    EXPECT_EQ(merge_referrers_index("", incoming), incoming);
}

TEST(MergeReferrersIndex, AddsOnlyMissingDescriptorsAndKeepsAnnotations) {
    auto merged = nlohmann::json::parse(merge_referrers_index(index_of(sbom), index_of(sig + "," + sbom)));
    ASSERT_EQ(merged["manifests"].size(), 2u);
    EXPECT_EQ(merged["manifests"][0]["artifactType"], "application/x-sbom");
    EXPECT_EQ(merged["manifests"][1]["annotations"]["k"], "v");
}

TEST(MergeReferrersIndex, NothingNewKeepsTheExistingBytes) {
    std::string existing = index_of(sig + "," + sbom);
    EXPECT_EQ(merge_referrers_index(existing, index_of(sbom)), existing);
}

TEST(MergeReferrersIndex, RefusesSomethingThatIsNotAnIndex) {
    EXPECT_THROW(merge_referrers_index("", "{}"), Error);
    EXPECT_THROW(merge_referrers_index("[]", index_of(sig)), Error);
}

}  // namespace
}  // namespace digestflow
