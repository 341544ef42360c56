#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/referrers.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <string>
#include <string_view>
#include <vector>

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

// ---- refers_to ----

const std::string subject_hex(64, 'c');
const Digest subject = Digest::parse("sha256:" + subject_hex);

// A signature manifest whose subject part is `subject_json` (a whole `"subject": ...` member, or "").
std::string referrer_with(const std::string& subject_json) {
    return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
           R"("config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:)" +
           std::string(64, 'd') + R"(","size":2},"layers":[])" + (subject_json.empty() ? "" : "," + subject_json) +
           "}";
}

std::string subject_member(const std::string& digest) {
    return R"("subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + digest +
           R"(","size":7})";
}

struct RefersCase {
    std::string label;
    std::string bytes;
    bool refers;
};

DIGESTFLOW_LABELLED_CASES()

class RefersTo : public testing::TestWithParam<RefersCase> {};

TEST_P(RefersTo, ReadsTheSubjectDigestOfTheBytes) {
    EXPECT_EQ(refers_to(std::string_view(GetParam().bytes), subject), GetParam().refers);
}

TEST_P(RefersTo, TheParsedManifestAgreesWhereItParses) {
    Manifest parsed;
    try {
        parsed = parse_manifest(GetParam().bytes, "", "referrer");
    } catch (const Error&) {
        return;  // parse_manifest refuses it: there is no Manifest to ask
    }
    EXPECT_EQ(refers_to(parsed, subject), GetParam().refers);
}

const std::vector<RefersCase> refers_cases = {
    {"same_digest", referrer_with(subject_member("sha256:" + subject_hex)), true},
    {"other_digest", referrer_with(subject_member("sha256:" + std::string(64, 'e'))), false},
    {"no_subject", referrer_with(""), false},
    {"subject_null", referrer_with(R"("subject":null)"), false},
    {"subject_string", referrer_with(R"("subject":"sha256:)" + subject_hex + R"(")"), false},
    {"subject_without_digest", referrer_with(R"("subject":{"size":7})"), false},
    {"subject_digest_number", referrer_with(R"("subject":{"digest":7,"size":7})"), false},
    {"subject_digest_uppercase", referrer_with(subject_member("sha256:" + std::string(64, 'C'))), false},
    {"subject_digest_other_algorithm", referrer_with(subject_member("sha512:" + std::string(128, 'c'))), false},
    {"subject_digest_with_space", referrer_with(subject_member(" sha256:" + subject_hex)), false},
    {"not_json", "not a manifest", false},
    {"json_array", "[" + referrer_with(subject_member("sha256:" + subject_hex)) + "]", false},
    {"empty", "", false},
    // The bytes form does not care about the manifest type: an old artifact manifest names its subject too.
    {"artifact_manifest", R"({"mediaType":"application/vnd.oci.artifact.manifest.v1+json",)" +
                              subject_member("sha256:" + subject_hex) + "}",
     true},
};

INSTANTIATE_TEST_SUITE_P(Cases, RefersTo, testing::ValuesIn(refers_cases), label_of<RefersCase>);

}  // namespace
}  // namespace digestflow

namespace digestflow {
namespace {

TEST(ReferrersIndexWithout, DropsOnlyTheNamedDescriptors) {
    const std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
    const std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)"
                              R"({"mediaType":"m","digest":")" + a + R"(","size":1,"annotations":{"k":"v"}},)"
                              R"({"mediaType":"m","digest":")" + b + R"(","size":2}]})";
    EXPECT_EQ(referrers_index_without(index, {}), index) << "nothing dropped: the bytes are kept";
    auto kept = nlohmann::json::parse(referrers_index_without(index, {Digest::parse(b)}));
    ASSERT_EQ(kept["manifests"].size(), 1u);
    EXPECT_EQ(kept["manifests"][0]["digest"], a);
    EXPECT_EQ(kept["manifests"][0]["annotations"]["k"], "v") << "kept descriptors stay whole";
    EXPECT_THROW(referrers_index_without("[]", {Digest::parse(a)}), Error);
}

}  // namespace
}  // namespace digestflow
