// verify-digest --running against a real registry: kubectl pod JSON in each imageID form, docker inspect of a
// container (the image ID path: the config digest is read from the registry, never compared with the manifest
// digest), a multi-arch index child, and podman's own inspect output for a container really run (busybox sleep)
// from the image pulled by digest from the loopback registry.
#include "support/buildah.hpp"
#include "support/process.hpp"
#include "support/registry_process.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using namespace digestflow::testsupport;
using nlohmann::json;

namespace {

class RunningTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        registry = new Registry();
        buildah = new Buildah();
        plain = RemoteOptions{false};
        buildah->build_scratch_image("app");
        manifest_digest = buildah->push("app", registry->host() + "/team/app:1.0", plain);
        buildah->build_index("multi");
        index_digest = buildah->push_index("multi", registry->host() + "/team/multi:1.0", plain);
    }
    static void TearDownTestSuite() {
        delete buildah;
        delete registry;
    }

    std::string capture(const std::string& repo_tag, const std::string& digest) {
        const std::string path = work.file(std::to_string(++count) + ".json");
        const RunResult r = run_tool("capture-digest", {"--image", registry->host() + "/" + repo_tag, "--digest", digest, "--out", path});
        EXPECT_EQ(r.exit_code, 0) << r.describe();
        return path;
    }
    // The manifest's config digest and the index's children, asked with skopeo (the independent client).
    static json raw_manifest(const std::string& ref) {
        const RunResult r = run_checked({"skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref});
        return json::parse(r.stdout_text);
    }
    RunResult verify(const std::string& artifact, const std::string& report, std::vector<std::string> extra = {}) {
        const std::string path = work.file("report-" + std::to_string(++count) + ".json");
        write_text_file(path, report);
        std::vector<std::string> args{"--artifact", artifact, "--no-record", "--running", path, "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_tool("verify-digest", args);
    }
    static json pod(const std::string& image, const std::string& image_id) {
        return {{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", {{"name", "web-1"}, {"namespace", "shop"}}},
                {"status", {{"containerStatuses", json::array({{{"name", "web"}, {"image", image}, {"imageID", image_id}}})},
                            {"initContainerStatuses", json::array({{{"name", "istio-init"}, {"image", "docker.io/istio/proxyv2:1.20"},
                                                                    {"imageID", "docker.io/istio/proxyv2@sha256:" + std::string(64, '1')}}})}}}};
    }

    static Registry* registry;
    static Buildah* buildah;
    static RemoteOptions plain;
    static std::string manifest_digest, index_digest;
    TempDir work{"digestflow-running"};
    int count = 0;
};

Registry* RunningTest::registry = nullptr;
Buildah* RunningTest::buildah = nullptr;
RemoteOptions RunningTest::plain;
std::string RunningTest::manifest_digest, RunningTest::index_digest;

TEST_F(RunningTest, KubectlImageIdForms) {
    const std::string artifact = capture("team/app:1.0", manifest_digest);
    const std::string repo = registry->host() + "/team/app";
    const std::string config = raw_manifest(repo + "@" + manifest_digest)["config"]["digest"];
    ASSERT_NE(config, manifest_digest);
    for (const std::string& id : {"docker-pullable://" + repo + "@" + manifest_digest, repo + "@" + manifest_digest, config,
                                  "docker://" + config}) {
        const RunResult r = verify(artifact, pod(repo + ":1.0", id).dump());
        EXPECT_EQ(r.exit_code, 0) << id << "\n" << r.describe();
        const json out = json_output(r);
        ASSERT_EQ(out["containers"].size(), 2u);
        EXPECT_EQ(out["containers"][0]["result"], "not judged");  // the istio init container
        EXPECT_EQ(out["containers"][1]["result"], "match");
    }
    // Another digest: exit 1 naming the pod's container.
    const RunResult wrong = verify(artifact, pod(repo + ":1.0", repo + "@sha256:" + std::string(64, '2')).dump());
    EXPECT_EQ(wrong.exit_code, 1) << wrong.describe();
    EXPECT_NE(json_output(wrong)["containers"][1]["detail"].get<std::string>().find("pod shop/web-1 container web"), std::string::npos);
    // A bare sha256: that is not the config digest is a mismatch, even though it is "a digest".
    EXPECT_EQ(verify(artifact, pod(repo + ":1.0", "sha256:" + std::string(64, '3')).dump()).exit_code, 1);
    // A List with no container of the repository: exit 1, saying so.
    const json list{{"apiVersion", "v1"}, {"kind", "List"}, {"items", json::array({pod("nginx:1", "sha256:" + std::string(64, '4'))})}};
    const RunResult none = verify(artifact, list.dump());
    EXPECT_EQ(none.exit_code, 1) << none.describe();
}

TEST_F(RunningTest, DockerInspectImageIdIsComparedWithTheConfigDigest) {
    const std::string artifact = capture("team/app:1.0", manifest_digest);
    const std::string repo = registry->host() + "/team/app";
    const std::string config = raw_manifest(repo + "@" + manifest_digest)["config"]["digest"];
    const json container = json::array({{{"Id", std::string(64, 'c')}, {"Name", "/web"}, {"Image", config},
                                         {"Config", {{"Image", repo + ":1.0"}}}, {"State", {{"Running", true}}}}});
    const RunResult r = verify(artifact, container.dump());
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.stdout_text.find("config"), std::string::npos) << r.stdout_text;
    json other = container;
    other[0]["Image"] = "sha256:" + std::string(64, '5');
    const RunResult mismatch = verify(artifact, other.dump());
    EXPECT_EQ(mismatch.exit_code, 1) << mismatch.describe();
    EXPECT_NE(mismatch.stdout_text.find("container web"), std::string::npos);
}

TEST_F(RunningTest, IndexChildIsNamedByPlatform) {
    const std::string artifact = capture("team/multi:1.0", index_digest);
    const std::string repo = registry->host() + "/team/multi";
    const json index = raw_manifest(repo + "@" + index_digest);
    std::string arm64;
    for (const auto& child : index["manifests"])
        if (child["platform"]["architecture"] == "arm64") arm64 = child["digest"];
    ASSERT_FALSE(arm64.empty());
    const RunResult r = verify(artifact, pod(repo + ":1.0", repo + "@" + arm64).dump());
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_NE(r.stdout_text.find("linux/arm64"), std::string::npos) << r.stdout_text;
    // The arm64 child's config digest, as containerd reports an image without a repo digest.
    const std::string config = raw_manifest(repo + "@" + arm64)["config"]["digest"];
    const RunResult by_config = verify(artifact, pod(repo + ":1.0", config).dump());
    EXPECT_EQ(by_config.exit_code, 0) << by_config.describe();
    EXPECT_NE(by_config.stdout_text.find("linux/arm64"), std::string::npos) << by_config.stdout_text;
    // Captured --offline, the artifact does not know it is an index: the registry is asked before a child digest
    // is called a mismatch.
    const std::string offline = work.file("offline.json");
    ASSERT_EQ(run_tool("capture-digest", {"--image", repo + ":1.0", "--digest", index_digest, "--offline", "--out", offline}).exit_code, 0);
    const RunResult child = verify(offline, pod(repo + ":1.0", repo + "@" + arm64).dump());
    EXPECT_EQ(child.exit_code, 0) << child.describe();
    EXPECT_NE(child.stdout_text.find("the index read from the registry"), std::string::npos) << child.stdout_text;
}

// podman with its own store in the test's folder, runc and the low limits this machine needs (../shared/TESTING.md).
class Podman {
public:
    explicit Podman(const TempDir& work) : m_root(work.file("podman-root")), m_run(work.file("podman-run")) {
        const std::string conf = work.file("containers.conf");
        write_text_file(conf, "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=1024:1024\"]\n[engine]\nruntime = \"runc\"\n");
        m_options.env = {{"CONTAINERS_CONF", conf}};
        m_options.timeout_seconds = 120;
    }
    Podman(const Podman&) = delete;
    Podman& operator=(const Podman&) = delete;
    ~Podman() { run({"rm", "--all", "--force", "--time", "0"}); }  // no container outlives the test, pass or fail

    RunResult run(std::vector<std::string> args) const {
        const std::vector<std::string> podman{"podman", "--root", m_root, "--runroot", m_run, "--storage-driver", "vfs",
                                              "--cgroup-manager", "cgroupfs", "--events-backend", "none"};
        args.insert(args.begin(), podman.begin(), podman.end());
        return run_command(args, m_options);
    }

private:
    std::string m_root, m_run;
    RunOptions m_options;
};

TEST_F(RunningTest, PodmanInspectOfAContainerReallyRunFromTheImage) {
    // An image whose one program is busybox (static), so the container really runs: `sleep` until removed.
    ScratchImage image;
    image.programs = {{"busybox", "/bin/busybox"}};
    buildah->build_scratch_image("svc", image);
    const std::string digest = buildah->push("svc", registry->host() + "/team/svc:1.0", plain);
    const std::string artifact = capture("team/svc:1.0", digest);
    const std::string ref = registry->host() + "/team/svc@" + digest;
    const Podman podman(work);
    const RunResult pulled = podman.run({"pull", "--tls-verify=false", "-q", ref});
    ASSERT_EQ(pulled.exit_code, 0) << pulled.describe();
    const RunResult started = podman.run({"run", "--detach", "--name", "web", ref, "/busybox", "sleep", "600"});
    ASSERT_EQ(started.exit_code, 0) << started.describe();
    const RunResult inspected = podman.run({"container", "inspect", "web"});
    ASSERT_EQ(inspected.exit_code, 0) << inspected.describe();
    const json report = json::parse(inspected.stdout_text);
    ASSERT_TRUE(report.is_array());
    EXPECT_EQ(report[0]["State"]["Running"], true) << inspected.stdout_text;
    EXPECT_EQ(report[0]["ImageDigest"], digest);
    const RunResult r = verify(artifact, inspected.stdout_text);
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    EXPECT_EQ(json_output(r)["containers"][0]["result"], "match") << r.stdout_text;
    // Another artifact (team/app) is not what runs here: the container is of another repository, so nothing is judged.
    EXPECT_EQ(verify(capture("team/app:1.0", manifest_digest), inspected.stdout_text).exit_code, 1);
    // Without ImageDigest only podman's Image (the image ID, no sha256: prefix) remains: the config path.
    json id_only = report;
    id_only[0]["ImageDigest"] = "";
    const RunResult by_id = verify(artifact, id_only.dump());
    EXPECT_EQ(by_id.exit_code, 0) << by_id.describe();
    EXPECT_NE(by_id.stdout_text.find("config"), std::string::npos) << by_id.stdout_text;
    const RunResult images = podman.run({"image", "inspect", ref});
    ASSERT_EQ(images.exit_code, 0) << images.describe();
    EXPECT_EQ(verify(artifact, images.stdout_text).exit_code, 0);
}

TEST_F(RunningTest, BadReportsAreRefusedWithTheFileName) {
    const std::string artifact = capture("team/app:1.0", manifest_digest);
    const RunResult not_json = verify(artifact, "{not json");
    EXPECT_EQ(not_json.exit_code, 2) << not_json.describe();
    const RunResult shape = verify(artifact, "{\"kind\": \"Deployment\"}");
    EXPECT_EQ(shape.exit_code, 2) << shape.describe();
    EXPECT_NE(shape.stdout_text.find("kubectl get pods"), std::string::npos) << shape.describe();
}

// Without a registry: what the report itself decides.
TEST(RunningReport, EmptyListAndAnUnknownContainerName) {
    TempDir work("digestflow-running-report");
    const std::string artifact = work.file("a.json");
    ASSERT_EQ(run_tool("capture-digest", {"--image", "127.0.0.1:1/team/app:1", "--digest", "sha256:" + std::string(64, 'a'),
                                          "--offline", "--out", artifact}).exit_code, 0);
    const std::string empty = work.file("empty.json");
    write_text_file(empty, R"({"apiVersion":"v1","kind":"List","items":[],"metadata":{"resourceVersion":""}})");
    const RunResult none = run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--running", empty});
    EXPECT_EQ(none.exit_code, 1) << none.describe();  // a selector that matched nothing: a no, not bad input
    EXPECT_NE(none.stderr_text.find("did the selector match anything"), std::string::npos) << none.describe();
    const std::string pod = work.file("pod.json");
    write_text_file(pod, R"({"kind":"Pod","metadata":{"name":"p"},"status":{"containerStatuses":[{"name":"web",)"
                         R"("image":"127.0.0.1:1/team/app:1","imageID":"127.0.0.1:1/team/app@sha256:)" + std::string(64, 'a') + R"("}]}})");
    EXPECT_EQ(run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--running", pod}).exit_code, 0);
    const RunResult typo = run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--running", pod, "--container", "wbe"});
    EXPECT_EQ(typo.exit_code, 2) << typo.describe();
    EXPECT_NE(typo.stderr_text.find("no container of that name"), std::string::npos) << typo.describe();
}

}  // namespace
