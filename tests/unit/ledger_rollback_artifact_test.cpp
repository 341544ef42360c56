// record rollback-target's output: an image-digest.json rebuilt from the target's ledger entry that loads and
// validates like a captured one, carries the target digest and platforms, and when recorded back into the
// same environment marks the deployment as a rollback from what ran before.
#include "digestflow/ledger/rollback_artifact.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/ledger_file.hpp"
#include "digestflow/ledger/queries.hpp"
#include "digestflow/ledger/recording.hpp"

#include "labelled_cases.hpp"
#include "ledger_test_support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

namespace digestflow::ledger {
namespace {

DIGESTFLOW_LABELLED_CASES()

using namespace testing_support;
using Json = nlohmann::ordered_json;

const std::string A = digest_named("A");
const std::string B = digest_named("B");
const std::string C = digest_named("C");
const std::string B_amd64 = digest_named("B linux/amd64");
const std::string B_arm64 = digest_named("B linux/arm64/v8");

Entry rich_deploy(const std::string& environment, const std::string& digest, const std::string& at) {
    Entry entry = deploy(environment, digest, at);
    entry.media_type = "application/vnd.oci.image.index.v1+json";
    entry.size = 1609;
    entry.tag = "build-" + digest.substr(7, 6);
    entry.pipeline = "https://ci.example/p/" + digest.substr(7, 4);
    entry.commit = digest.substr(7, 40);
    entry.captured_at = "2026-12-01T09:00:00Z";
    if (digest == B)
        entry.platforms = {
            PlatformEntry{"linux", "amd64", "", B_amd64, "application/vnd.oci.image.manifest.v1+json", 700},
            PlatformEntry{"linux", "arm64", "v8", B_arm64, "application/vnd.oci.image.manifest.v1+json", 710},
        };
    return entry;
}

class LedgerRollbackArtifact : public ::testing::Test {
protected:
    void SetUp() override {
        for (const char* name : {"GITHUB_SHA", "CI_COMMIT_SHA", "GITHUB_RUN_ID", "CI_PIPELINE_URL"}) ::unsetenv(name);
        m_lines = chain_lines({rich_deploy("production", A, "2026-12-02T10:00:00Z"),
                               rich_deploy("production", B, "2026-12-02T10:01:00Z"),
                               rich_deploy("staging", C, "2026-12-02T10:01:30Z"),
                               rich_deploy("production", C, "2026-12-02T10:02:00Z")});
        write_bytes(m_path, joined(m_lines));
    }
    RollbackTarget target(int steps) {
        LedgerView view(m_path);
        return rollback_target(view, "production", steps);
    }

    TempDir m_dir;
    std::string m_path = m_dir.file("ledger.jsonl");
    std::vector<std::string> m_lines;
};

TEST_F(LedgerRollbackArtifact, LoadsBackAndValidatesLikeACapturedArtifact) {
    Artifact artifact = rollback_artifact(target(1), m_path, "production", 1);
    EXPECT_EQ(Artifact::validate(artifact.json()), std::vector<std::string>{});
    Artifact loaded = Artifact::from_json(artifact.json(), "rollback.json");
    const std::string saved = m_dir.file("image-digest.json");
    artifact.save(saved);
    EXPECT_EQ(Artifact::load(saved).json(), artifact.json());
    EXPECT_EQ(loaded.json(), artifact.json());
}

TEST_F(LedgerRollbackArtifact, CarriesTheTargetImageAndItsPlatforms) {
    const Entry entry = parse_line(m_lines[1], "line 2");
    ImageInfo image = rollback_artifact(target(1), m_path, "production", 1).image();
    EXPECT_EQ(image.repository, "registry.example/app");
    EXPECT_EQ(image.digest.str(), B);
    EXPECT_EQ(image.media_type, entry.media_type);
    EXPECT_EQ(image.size, 1609);
    EXPECT_EQ(image.tag, entry.tag);
    EXPECT_TRUE(image.verified);
    ASSERT_EQ(image.platforms.size(), 2u);
    EXPECT_EQ(image.platforms[0].digest, B_amd64);
    EXPECT_EQ(image.platforms[0].size, 700);
    EXPECT_EQ(image.platforms[1].architecture, "arm64");
    EXPECT_EQ(image.platforms[1].variant, "v8");
    EXPECT_EQ(image.platforms[1].digest, B_arm64);
}

TEST_F(LedgerRollbackArtifact, ItsHistoryStartsWithTheRollbackTargetStep) {
    RollbackTarget found = target(2);
    const Artifact artifact = rollback_artifact(found, m_path, "production", 2);
    const Json& doc = artifact.json();
    ASSERT_TRUE(doc["history"].is_array());
    ASSERT_EQ(doc["history"].size(), 1u);
    const Json& step = doc["history"][0];
    EXPECT_EQ(step.value("step", ""), "rollback-target");
    EXPECT_EQ(step.value("environment", ""), "production");
    EXPECT_EQ(step.value("from", ""), C) << "what ran before the rollback";
    EXPECT_EQ(step.value("entry", ""), line_hash(m_lines[0]));
    EXPECT_EQ(step.value("steps", 0), 2);
    EXPECT_EQ(step.value("ledger", ""), m_path);
    EXPECT_EQ(doc["image"].value("digest", ""), A);
    const Json& build = doc["build"];
    EXPECT_EQ(build.value("source", ""), "ledger");
    EXPECT_EQ(build.value("entry", ""), line_hash(m_lines[0]));
    EXPECT_EQ(build.value("line", 0), 1);
    EXPECT_EQ(build.value("commit", ""), A.substr(7, 40));
    EXPECT_EQ(build.value("pipeline", ""), "https://ci.example/p/" + A.substr(7, 4));
    EXPECT_EQ(build.value("at", ""), "2026-12-01T09:00:00Z") << "the original capture time";
}

TEST_F(LedgerRollbackArtifact, RecordedIntoTheSameEnvironmentItIsARollback) {
    Artifact artifact = rollback_artifact(target(1), m_path, "production", 1);
    RecordContext context{"tester", "", "", ""};
    Entry production = deployment_entry(artifact, "production", context);
    EXPECT_EQ(production.digest, B);
    EXPECT_EQ(production.rollback_of, C);
    EXPECT_EQ(production.platforms.size(), 2u);
    EXPECT_EQ(deployment_entry(artifact, "staging", context).rollback_of, "") << "a promotion elsewhere is forward";

    // Recorded, the rollback does not count as a step: rolling back again still targets B, then A.
    append_line(m_path, [&](const Tip& tip) { return next_line(tip, production, nullptr, m_path); });
    RollbackTarget again = target(1);
    EXPECT_EQ(again.current.entry.digest, B);
    EXPECT_EQ(again.current.entry.rollback_of, C);
    EXPECT_EQ(again.last_forward.entry.digest, C);
    EXPECT_EQ(again.target.entry.digest, B);
    EXPECT_EQ(target(2).target.entry.digest, A);
}

TEST_F(LedgerRollbackArtifact, AnEntryWithoutOptionalFieldsStillMakesAValidArtifact) {
    std::vector<std::string> lines = chain_lines(
        {deploy("production", A, "2026-12-02T10:00:00Z"), deploy("production", B, "2026-12-02T10:01:00Z")});
    write_bytes(m_path, joined(lines));
    Artifact artifact = rollback_artifact(target(1), m_path, "production", 1);
    EXPECT_EQ(Artifact::validate(artifact.json()), std::vector<std::string>{});
    ImageInfo image = artifact.image();
    EXPECT_EQ(image.digest.str(), A);
    EXPECT_EQ(image.media_type, "");
    EXPECT_EQ(image.size, -1);
    EXPECT_TRUE(image.platforms.empty());
}

struct KubectlCase {
    std::string label;
    std::string workload;
    std::string container;
    std::string line;
};

class LedgerRollbackArtifactKubectl : public ::testing::TestWithParam<KubectlCase> {};

TEST_P(LedgerRollbackArtifactKubectl, NamesTheImageByDigest) {
    Entry entry = deploy("production", B, "2026-12-02T10:00:00Z");
    EXPECT_EQ(kubectl_set_image_line(entry, GetParam().workload, GetParam().container), GetParam().line);
}

INSTANTIATE_TEST_SUITE_P(
    Table, LedgerRollbackArtifactKubectl,
    ::testing::Values(KubectlCase{"placeholders", "", "", "kubectl set image deployment/NAME CONTAINER=registry.example/app@" + B},
                      KubectlCase{"given", "deployment/web", "app",
                                  "kubectl set image deployment/web app=registry.example/app@" + B},
                      KubectlCase{"container_only", "", "app", "kubectl set image deployment/NAME app=registry.example/app@" + B}),
    label_of<KubectlCase>);

// A target line whose image fields make no valid artifact (a hand-written ledger, here a tag with a newline)
// used to be refused as "image-digest.json: ... (check --image and the captured digest)": neither the file
// nor the advice of rollback-target. The message names the ledger line instead.
TEST_F(LedgerRollbackArtifact, ATargetLineThatMakesNoValidArtifactNamesTheLedgerLine) {
    Entry bad = rich_deploy("production", A, "2026-12-02T10:00:00Z");
    bad.tag = "x\ny";
    write_bytes(m_path, joined(chain_lines({bad, rich_deploy("production", B, "2026-12-02T10:01:00Z")})));
    std::string message = error_of(ErrorKind::Usage, [&] { rollback_artifact(target(1), m_path, "production", 1); });
    EXPECT_TRUE(contains(message, m_path)) << message;
    EXPECT_TRUE(contains(message, "line 1")) << message;
    EXPECT_FALSE(contains(message, "--image")) << message;
    EXPECT_FALSE(contains(message, "image-digest.json")) << message;
}

}  // namespace
}  // namespace digestflow::ledger
