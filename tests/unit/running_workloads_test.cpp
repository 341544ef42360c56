// Reading what runs: each report shape, and what each digest in it is (a manifest digest or an image ID).
#include "digestflow/error.hpp"
#include "digestflow/running_workloads.hpp"

#include <gtest/gtest.h>

using namespace digestflow;
using Kind = ImageEvidence::Kind;

namespace {

const std::string m = "sha256:" + std::string(64, 'a');
const std::string c = "sha256:" + std::string(64, 'c');

std::string pod_with(const std::string& list, const std::string& image_id) {
    return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"ns"},"status":{")" + list +
           R"(":[{"name":"app","image":"localhost:5000/app:1","imageID":")" + image_id + R"("}]}})";
}

TEST(RunningWorkloads, KubectlImageIdForms) {
    struct Case { std::string id; Kind kind; std::string digest; };
    for (const auto& [id, kind, digest] : std::vector<Case>{{"docker-pullable://localhost:5000/app@" + m, Kind::ManifestDigest, m},
                                                            {"localhost:5000/app@" + m, Kind::ManifestDigest, m},
                                                            {"docker://" + c, Kind::ImageId, c},
                                                            {c, Kind::ImageId, c}}) {
        for (const char* list : {"containerStatuses", "initContainerStatuses", "ephemeralContainerStatuses"}) {
            const auto report = parse_running_workloads(pod_with(list, id), "pods.json");
            ASSERT_EQ(report.containers.size(), 1u) << id;
            const auto& container = report.containers[0];
            EXPECT_EQ(container.name, "pod ns/p container app");
            ASSERT_EQ(container.evidence.size(), 1u) << id;
            EXPECT_EQ(container.evidence[0].kind, kind) << id;
            EXPECT_EQ(container.evidence[0].digest, digest) << id;
            EXPECT_EQ(container.evidence[0].field, std::string("status.") + list + "[0].imageID");
            ASSERT_FALSE(container.repositories.empty());
            EXPECT_EQ(container.repositories[0], "localhost:5000/app");
        }
    }
}

TEST(RunningWorkloads, ListOfPodsAndAPendingPod) {
    const std::string list = R"({"apiVersion":"v1","kind":"List","items":[)" + pod_with("containerStatuses", c) +
                             R"(,{"kind":"Pod","metadata":{"name":"q"},"spec":{"containers":[{"name":"w","image":"nginx"}]}}]})";
    const auto report = parse_running_workloads(list, "pods.json");
    ASSERT_EQ(report.containers.size(), 2u);
    EXPECT_TRUE(report.containers[1].evidence.empty());
    EXPECT_EQ(report.containers[1].repositories[0], "docker.io/library/nginx");
}

TEST(RunningWorkloads, DockerAndPodmanShapes) {
    const auto docker = parse_running_workloads(
        R"([{"Id":"x","Name":"/web","Image":")" + c + R"(","Config":{"Image":"localhost:5000/app:1"},"State":{},"ImageManifestDescriptor":{"digest":")" + m + R"("}}])",
        "inspect.json");
    EXPECT_EQ(docker.format, "docker-container");
    EXPECT_EQ(docker.containers[0].container, "web");
    ASSERT_EQ(docker.containers[0].evidence.size(), 2u);
    EXPECT_EQ(docker.containers[0].evidence[0].kind, Kind::ManifestDigest);
    EXPECT_EQ(docker.containers[0].evidence[1].kind, Kind::ImageId);

    const auto podman = parse_running_workloads(
        R"([{"Name":"web","Image":")" + std::string(64, 'c') + R"(","ImageDigest":")" + m + R"(","ImageName":"localhost:5000/app:1"}])",
        "inspect.json");
    EXPECT_EQ(podman.format, "podman-container");
    ASSERT_EQ(podman.containers[0].evidence.size(), 2u);
    EXPECT_EQ(podman.containers[0].evidence[1].digest, c);  // the bare 64 hex is read as sha256:

    const auto image = parse_running_workloads(
        R"([{"Id":")" + c + R"(","RepoTags":["localhost:5000/app:1"],"RepoDigests":["localhost:5000/app@)" + m + R"("]}])",
        "image.json");
    EXPECT_EQ(image.format, "docker-image");
    ASSERT_EQ(image.containers[0].evidence.size(), 2u);
    EXPECT_EQ(image.containers[0].evidence[0].kind, Kind::ManifestDigest);
    EXPECT_EQ(image.containers[0].evidence[1].kind, Kind::ImageId);
}

TEST(RunningWorkloads, BadReportsAreRefusedNamingTheFile) {
    for (const std::string& text : {std::string("{"), std::string("{\"kind\":\"Deployment\"}"), std::string("[1]"),
                                    std::string("[{\"Foo\":1}]"), std::string("[]"), std::string("\"x\"")}) {
        try {
            parse_running_workloads(text, "r.json");
            ADD_FAILURE() << text;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            EXPECT_EQ(std::string(e.what()).rfind("r.json: ", 0), 0u) << e.what();
        }
    }
    EXPECT_THROW(parse_running_workloads(std::string(max_workloads_bytes + 1, ' '), "big.json"), Error);
}

TEST(RunningWorkloads, DamagedFieldsAreBadInputNotAbsent) {
    const std::string head = R"({"kind":"Pod","metadata":{"name":"p"},"status":{"containerStatuses":[)";
    const std::vector<std::pair<std::string, std::string>> cases{
        {head + R"({"name":"a","imageID":"r@)" + m + R"(","imageID":"r@)" + c + R"("}]}})", "duplicate key"},
        {head + R"({"name":5,"imageID":"r@)" + m + R"("}]}})", "\"name\" is number"},
        {head + R"({"name":"a","imageID":5}]}})", "\"imageID\" is number"},
        {head + R"({"name":"a","imageID":"r@)" + m + "@" + m + R"("}]}})", "is not a digest"},
        {head + R"({"name":"a","imageID":"r@)" + m + R"(x"}]}})", "is not a digest"},
        {std::string(70, '[') + std::string(70, ']'), "nested deeper"},
    };
    for (const auto& [text, expected] : cases) {
        try {
            parse_running_workloads(text, "r.json");
            ADD_FAILURE() << text;
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).rfind("r.json: ", 0), 0u) << e.what();
            EXPECT_NE(std::string(e.what()).find(expected), std::string::npos) << e.what();
        }
    }
}

TEST(RunningWorkloads, SpecContainerWithoutAStatusIsListed) {
    const auto report = parse_running_workloads(
        R"({"kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"web","image":"r:1"},{"name":"web2","image":"r:1"}]},)"
        R"("status":{"containerStatuses":[{"name":"web","image":"r:1","imageID":"r@)" + m + R"("}]}})",
        "pod.json");
    ASSERT_EQ(report.containers.size(), 2u);
    EXPECT_EQ(report.containers[1].container, "web2");
    EXPECT_TRUE(report.containers[1].evidence.empty());
    EXPECT_NE(report.containers[1].name.find("no status yet"), std::string::npos);
}

}  // namespace
