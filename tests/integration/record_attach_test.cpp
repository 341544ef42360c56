// record --attach and record history --registry as black boxes against a real docker-registry (no referrers
// API: the sha256-<hex> fallback tag), with skopeo and sha256sum as the judges of what was pushed.
#include "support/process.hpp"
#include "support/registry_api.hpp"
#include "support/registry_process.hpp"
#include "support/skopeo.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

namespace digestflow::testsupport {
namespace {

using nlohmann::json;

constexpr const char* deployment_type = "application/vnd.digestflow.deployment.v1+json";
constexpr const char* oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* oci_index = "application/vnd.oci.image.index.v1+json";

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::string last_line(const std::string& path) {
    std::ifstream in(path);
    std::string line, last;
    while (std::getline(in, line)) last = line;
    return last + "\n";
}

std::string sha256sum(const std::string& text) {
    auto run = run_checked({"sha256sum"}, RunOptions{.env = {}, .stdin_text = text});
    return "sha256:" + run.stdout_text.substr(0, 64);
}

class RecordAttach : public ::testing::Test {
protected:
    void SetUp() override {
        push_oci_image(registry.host(), "team/web", "1.0", {"web one"});
        auto run = run_tool("capture-digest", {"--image", registry.host() + "/team/web:1.0", "--resolve", "--out",
                                               artifact, "--quiet"});
        ASSERT_EQ(run.exit_code, 0) << run.describe();
        digest = json::parse(read_text_file(artifact))["image"]["digest"];
        image = registry.host() + "/team/web@" + digest;
        fallback = registry.host() + "/team/web:sha256-" + digest.substr(7);
    }
    RunResult record(std::vector<std::string> args) {
        args.insert(args.end(), {"--ledger", ledger});
        return run_tool("record", args);
    }

    Registry registry;
    RemoteOptions plain = registry.client_options();
    TempDir work{"digestflow-record-attach"};
    std::string ledger = work.file("deployments.jsonl");
    std::string artifact = work.file("image-digest.json");
    std::string digest, image, fallback;
};

TEST_F(RecordAttach, TheAppendedLineIsAttachedAndHistoryRegistryListsIt) {
    auto run = record({"--artifact", artifact, "--environment", "production", "--attach", "--json"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    const std::string line = last_line(ledger);
    const std::string hash = sha256sum(line);
    json out = json_output(run);
    const std::string attached = out["attached"]["artifact"];
    EXPECT_EQ(out["attached"]["through"], "fallback tag sha256-" + digest.substr(7));
    EXPECT_EQ(out["entry"], hash);

    // The artifact's history names the attachment beside the ledger entry.
    json step = json::parse(read_text_file(artifact))["history"].back();
    EXPECT_EQ(step["step"], "record");
    EXPECT_EQ(step["entry"], hash);
    EXPECT_EQ(step["attached"], attached);
    EXPECT_EQ(schema_problem(artifact), "");

    // skopeo's view: the fallback tag lists it; it refers to the digest; its one layer is the ledger line.
    json index = json::parse(raw_manifest(fallback, plain));
    ASSERT_EQ(index["manifests"].size(), 1u);
    EXPECT_EQ(index["manifests"][0]["digest"], attached);
    EXPECT_EQ(index["manifests"][0]["artifactType"], deployment_type);
    json pushed = json::parse(raw_manifest(registry.host() + "/team/web@" + attached, plain));
    EXPECT_EQ(pushed["subject"]["digest"], digest);
    EXPECT_EQ(pushed["layers"][0]["digest"], hash);
    EXPECT_EQ(pushed["layers"][0]["size"], line.size());

    // Read back from the registry alone: no ledger file is named.
    auto history = run_tool("record", {"history", "--registry", image, "--json"});
    ASSERT_EQ(history.exit_code, 0) << history.describe();
    json listed = json_output(history);
    ASSERT_EQ(listed["entries"].size(), 1u);
    EXPECT_EQ(listed["entries"][0]["artifact"], attached);
    EXPECT_EQ(listed["entries"][0]["hash"], hash);
    EXPECT_EQ(listed["entries"][0]["environment"], "production");
    EXPECT_EQ(listed["entries"][0]["digest"], digest);
    EXPECT_EQ(listed["entries"][0]["prev"], json::parse(line)["prev"]);
    auto text = run_tool("record", {"history", "--registry", image});
    ASSERT_EQ(text.exit_code, 0) << text.describe();
    EXPECT_TRUE(contains(text.stdout_text, "production <- " + registry.host() + "/team/web@" + digest))
        << text.stdout_text;
    EXPECT_TRUE(contains(text.stdout_text, attached)) << text.stdout_text;
}

TEST_F(RecordAttach, TwoEnvironmentsAreBothListedAndFilteredByEnvironment) {
    for (const char* environment : {"staging", "production"}) {
        auto run = record({"--artifact", artifact, "--environment", environment, "--attach"});
        ASSERT_EQ(run.exit_code, 0) << run.describe();
        EXPECT_TRUE(contains(run.stdout_text, "attached to the image as sha256:")) << run.stdout_text;
    }
    EXPECT_EQ(json::parse(raw_manifest(fallback, plain))["manifests"].size(), 2u);
    json all = json_output(run_tool("record", {"history", "--registry", image, "--json"}));
    ASSERT_EQ(all["entries"].size(), 2u);
    // Both were recorded within a second or so: their order (time, then artifact digest) is not asserted here.
    std::set<std::string> environments{all["entries"][0]["environment"], all["entries"][1]["environment"]};
    EXPECT_EQ(environments, (std::set<std::string>{"staging", "production"}));
    json production =
        json_output(run_tool("record", {"history", "--registry", image, "--environment", "production", "--json"}));
    ASSERT_EQ(production["entries"].size(), 1u);
    EXPECT_EQ(production["entries"][0]["environment"], "production");
}

TEST_F(RecordAttach, WithoutAttachNothingGoesToTheRegistry) {
    auto run = record({"--artifact", artifact, "--environment", "production"});
    ASSERT_EQ(run.exit_code, 0) << run.describe();
    EXPECT_FALSE(json::parse(read_text_file(artifact))["history"].back().contains("attached"));
    EXPECT_FALSE(skopeo_inspect_raw(fallback, plain).ok());
    auto history = run_tool("record", {"history", "--registry", image});
    EXPECT_EQ(history.exit_code, 0) << history.describe();
    EXPECT_TRUE(contains(history.stdout_text, "no deployment entries are attached to")) << history.stdout_text;
}

// The ledger line is the record: an attach that fails afterwards leaves it, says so, and exits as the failure.
TEST_F(RecordAttach, AFailedAttachKeepsTheLedgerLineAndSaysItIsNotAttached) {
    const std::string missing = work.file("missing.json");
    auto capture = run_tool("capture-digest", {"--image", registry.host() + "/team/web:gone", "--digest",
                                               "sha256:" + std::string(64, 'c'), "--offline", "--out", missing,
                                               "--quiet"});
    ASSERT_EQ(capture.exit_code, 0) << capture.describe();
    auto run = record({"--artifact", missing, "--environment", "production", "--attach"});
    EXPECT_EQ(run.exit_code, 1) << run.describe();
    const std::string hash = sha256sum(last_line(ledger));
    EXPECT_TRUE(contains(run.stderr_text, "is not in the registry")) << run.stderr_text;
    EXPECT_TRUE(contains(run.stderr_text, "recorded as " + hash)) << run.stderr_text;
    EXPECT_TRUE(contains(run.stderr_text, "not attached")) << run.stderr_text;
    json step = json::parse(read_text_file(missing))["history"].back();
    EXPECT_EQ(step["entry"], hash);
    EXPECT_FALSE(step.contains("attached"));
}

// A forged attachment (its subject another image) listed in the fallback tag as ours: refused, by its digest.
TEST_F(RecordAttach, HistoryRegistryRefusesAForgedEntryNamingIt) {
    ASSERT_EQ(record({"--artifact", artifact, "--environment", "staging", "--attach"}).exit_code, 0);
    const std::string other = push_oci_image(registry.host(), "team/web", "2.0", {"web two"});
    const std::string line = last_line(ledger);
    json forged_manifest{
        {"schemaVersion", 2},
        {"mediaType", oci_manifest},
        {"artifactType", deployment_type},
        {"config", {{"mediaType", "application/vnd.oci.empty.v1+json"},
                    {"digest", push_blob(registry.host(), "team/web", "{}")},
                    {"size", 2}}},
        {"layers", json::array({{{"mediaType", deployment_type},
                                 {"digest", push_blob(registry.host(), "team/web", line)},
                                 {"size", line.size()}}})},
        {"subject", {{"mediaType", oci_manifest}, {"digest", other}, {"size", 100}}},
        {"annotations", {{"dev.digestflow.environment", "staging"}}}};
    const std::string bytes = forged_manifest.dump();
    const std::string forged = push_manifest(registry.host(), "team/web", digest_of_raw(bytes), bytes, oci_manifest);
    json index = json::parse(raw_manifest(fallback, plain));
    index["manifests"].push_back(
        {{"mediaType", oci_manifest}, {"digest", forged}, {"size", bytes.size()}, {"artifactType", deployment_type}});
    push_manifest(registry.host(), "team/web", "sha256-" + digest.substr(7), index.dump(), oci_index);

    auto history = run_tool("record", {"history", "--registry", image});
    EXPECT_EQ(history.exit_code, 1) << history.describe();
    EXPECT_TRUE(contains(history.stderr_text, forged)) << history.stderr_text;
    EXPECT_TRUE(contains(history.stderr_text, "as its subject")) << history.stderr_text;
}

TEST_F(RecordAttach, HistoryRegistryNeedsADigestAndNoLedger) {
    auto tag = run_tool("record", {"history", "--registry", registry.host() + "/team/web:1.0"});
    EXPECT_EQ(tag.exit_code, 2) << tag.describe();
    EXPECT_TRUE(contains(tag.stderr_text, "REPOSITORY@DIGEST")) << tag.stderr_text;
    auto both = run_tool("record", {"history", "--registry", image, "--ledger", ledger});
    EXPECT_EQ(both.exit_code, 2) << both.describe();
    EXPECT_TRUE(contains(both.stderr_text, "drop --ledger")) << both.stderr_text;
}

}  // namespace
}  // namespace digestflow::testsupport
