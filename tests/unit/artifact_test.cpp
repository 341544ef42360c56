// image-digest.json: layout, validation messages, the JSON Schema (judged by Python's jsonschema), atomic
// save.
#include "digestflow/artifact.hpp"

#include "digestflow/error.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include <pwd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using digestflow::Artifact;
using digestflow::Digest;
using digestflow::Error;
using digestflow::ErrorKind;
using digestflow::ImageInfo;
using digestflow::PlatformEntry;
using Json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

const std::string k_index = "sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6";
const std::string k_amd64 = "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51";
const std::string k_arm64 = "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265";
const std::string k_oci_index = "application/vnd.oci.image.index.v1+json";
const std::string k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";

class TempDir {
  public:
    TempDir() {
        std::string pattern = (fs::temp_directory_path() / "artifact-test-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr)
            throw std::runtime_error("mkdtemp failed");
        m_path = pattern;
    }
    ~TempDir() {
        std::error_code ec;
        fs::permissions(m_path, fs::perms::owner_all, fs::perm_options::add, ec);
        fs::remove_all(m_path, ec);
    }
    const fs::path& path() const { return m_path; }
    std::string file(const std::string& name) const { return (m_path / name).string(); }

  private:
    fs::path m_path;
};

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

void write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
}

std::vector<std::string> entries(const fs::path& dir) {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

ImageInfo index_image() {
    ImageInfo info{.repository = "registry.example.com/team/myapp", .digest = Digest::parse(k_index)};
    info.media_type = k_oci_index;
    info.size = 1609;
    info.tag = "build-456";
    info.platforms = {
        PlatformEntry{"linux", "amd64", "", k_amd64, k_oci_manifest, 1051},
        PlatformEntry{"linux", "arm64", "v8", k_arm64, k_oci_manifest, -1},
    };
    return info;
}

Json minimal_doc() {
    return Json::parse(R"({"schemaVersion": 1,
        "image": {"repository": "docker.io/library/ubuntu", "digest": ")" +
                       k_index + R"("},
        "history": [{"step": "capture", "at": "2026-01-02T03:04:05Z", "by": "ci"}]})");
}

// Runs Python's jsonschema (the Debian package, hence /usr/bin/python3) over each document and returns
// true for the ones the schema accepts. Each document goes in its own file; one interpreter for all.
std::vector<bool> schema_accepts(const std::vector<Json>& documents) {
    TempDir dir;
    std::string list_path = dir.file("list.txt");
    std::ofstream list(list_path);
    for (std::size_t i = 0; i < documents.size(); ++i) {
        std::string path = dir.file("doc" + std::to_string(i) + ".json");
        write_text(path, documents[i].dump(2));
        list << path << "\n";
    }
    list.close();
    const std::string script =
        "import json, sys, jsonschema\n"
        "schema = json.load(open(sys.argv[1]))\n"
        "jsonschema.Draft202012Validator.check_schema(schema)\n"
        "validator = jsonschema.Draft202012Validator(schema)\n"
        "for path in open(sys.argv[2]).read().split():\n"
        "    errors = list(validator.iter_errors(json.load(open(path))))\n"
        "    print('accept' if not errors else 'reject ' + errors[0].message.replace(chr(10), ' ')[:200])\n";
    write_text(dir.file("judge.py"), script);
    const std::string command = "/usr/bin/python3 " + dir.file("judge.py") +
                                " '" DIGESTFLOW_SCHEMA_DIR "/image-digest.schema.json' " + list_path +
                                " 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr)
        throw std::runtime_error("popen failed");
    std::string output;
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, pipe) != nullptr)
        output += buffer;
    int status = ::pclose(pipe);
    if (status != 0)
        throw std::runtime_error("the schema judge failed: " + output);
    std::vector<bool> verdicts;
    std::istringstream lines(output);
    for (std::string line; std::getline(lines, line);)
        verdicts.push_back(line == "accept");
    if (verdicts.size() != documents.size())
        throw std::runtime_error("unexpected judge output: " + output);
    return verdicts;
}

std::string error_message(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        return e.what();
    }
    ADD_FAILURE() << "no Error thrown";
    return "";
}

// Runs `body` in a forked child (to drop privileges or set resource limits without touching this process)
// and returns its exit code; 77 means the child could not set up the condition and the test is skipped.
int run_in_child(const std::function<int()>& body) {
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        int code = 3;
        try {
            code = body();
        } catch (...) {
            code = 4;
        }
        ::_exit(code);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 100 + WTERMSIG(status);
}

} // namespace

TEST(ArtifactCreate, WritesTheDocumentedLayoutInOrder) {
    Json build = {
        {"source", "buildx-metadata"}, {"commit", "4f2a9c1"}, {"pipeline", "https://ci.example/p/1"}};
    Artifact a = Artifact::create(index_image(), build);
    const Json& doc = a.json();

    std::vector<std::string> keys;
    for (auto& [key, value] : doc.items())
        keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"schemaVersion", "image", "build", "history"}));

    std::vector<std::string> image_keys;
    for (auto& [key, value] : doc["image"].items())
        image_keys.push_back(key);
    EXPECT_EQ(image_keys,
              (std::vector<std::string>{"repository", "digest", "mediaType", "size", "tag", "platforms"}));
    EXPECT_EQ(doc["schemaVersion"], 1);
    EXPECT_EQ(doc["image"]["digest"], k_index);
    EXPECT_FALSE(doc["image"].contains("verified")) << "verified is written only when false";

    const Json& amd64 = doc["image"]["platforms"][0];
    EXPECT_FALSE(amd64.contains("variant"));
    EXPECT_EQ(amd64["size"], 1051);
    const Json& arm64 = doc["image"]["platforms"][1];
    EXPECT_EQ(arm64["variant"], "v8");
    EXPECT_FALSE(arm64.contains("size"));

    EXPECT_EQ(doc["build"]["source"], "buildx-metadata");
    EXPECT_EQ(doc["build"]["commit"], "4f2a9c1");
    EXPECT_TRUE(doc["build"].contains("at"));
    EXPECT_EQ(doc["build"]["by"], digestflow::current_actor());

    ASSERT_EQ(doc["history"].size(), 1u);
    EXPECT_EQ(doc["history"][0]["step"], "capture");
    EXPECT_TRUE(std::regex_match(doc["history"][0]["at"].get<std::string>(),
                                 std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
    EXPECT_TRUE(Artifact::validate(doc).empty());
}

TEST(ArtifactCreate, OmitsUnknownFieldsAndMarksOfflineCaptures) {
    ImageInfo info{.repository = "127.0.0.1:5000/app", .digest = Digest::parse(k_amd64)};
    info.verified = false;
    Artifact a = Artifact::create(info, Json());
    const Json& image = a.json()["image"];
    EXPECT_EQ(image.size(), 3u) << image.dump();
    EXPECT_EQ(image["verified"], false);
    for (const char* key : {"mediaType", "size", "tag", "platforms"})
        EXPECT_FALSE(image.contains(key)) << key;

    ImageInfo back = a.image();
    EXPECT_FALSE(back.verified);
    EXPECT_EQ(back.size, -1);
    EXPECT_TRUE(back.media_type.empty());
}

TEST(ArtifactCreate, RefusesARepositoryThatIsNotNormalised) {
    ImageInfo info{.repository = "ubuntu", .digest = Digest::parse(k_amd64)};
    std::string message = error_message([&] { Artifact::create(info, Json()); });
    EXPECT_NE(message.find("image.repository"), std::string::npos) << message;
    EXPECT_NE(message.find("docker.io/library/ubuntu"), std::string::npos) << message;
}

TEST(ArtifactSave, RoundTripThroughAFileKeepsEveryField) {
    TempDir dir;
    Artifact a = Artifact::create(index_image(), {{"source", "digest-file"}});
    a.save(dir.file("image-digest.json"));
    const std::string text = read_text(dir.file("image-digest.json"));
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    EXPECT_EQ(text, a.json().dump(2) + "\n") << "2-space indent, trailing newline";

    ImageInfo info = Artifact::load(dir.file("image-digest.json")).image();
    ImageInfo expected = index_image();
    EXPECT_EQ(info.repository, expected.repository);
    EXPECT_EQ(info.digest, expected.digest);
    EXPECT_EQ(info.media_type, expected.media_type);
    EXPECT_EQ(info.size, expected.size);
    EXPECT_EQ(info.tag, expected.tag);
    EXPECT_TRUE(info.verified);
    ASSERT_EQ(info.platforms.size(), 2u);
    EXPECT_EQ(info.platforms[1].variant, "v8");
    EXPECT_EQ(info.platforms[1].digest, k_arm64);
    EXPECT_EQ(info.platforms[1].size, -1);
    EXPECT_EQ(info.platforms[0].size, 1051);
}

TEST(ArtifactSave, UnknownFieldsAtEveryLevelSurviveARewriteInTheirOrder) {
    // Written by an imagined newer version: extra fields everywhere, keys not in our order.
    const std::string original = R"({
  "zeta": {"nested": [1, 2, {"deep": true}]},
  "history": [
    {"at": "2026-01-02T03:04:05Z", "step": "capture", "by": "alice", "runner": "r-17"},
    {"step": "scan", "tool": "trivy", "findings": {"high": 0}}
  ],
  "image": {
    "digest": ")" + k_index + R"(",
    "annotations": {"org.opencontainers.image.source": "https://git.example/app"},
    "repository": "registry.example.com/team/myapp",
    "platforms": [{"os": "linux", "architecture": "amd64", "digest": ")" +
                                 k_amd64 + R"(", "features": ["sse4"]}]
  },
  "schemaVersion": 1,
  "build": {"source": "jib", "matrix": {"jdk": 21}},
  "signature": {"alg": "ed25519", "keyId": "k1", "value": "AAAA", "future": 1}
})";
    TempDir dir;
    const std::string path = dir.file("image-digest.json");
    write_text(path, original);

    Artifact::load(path).save(path);
    EXPECT_EQ(read_text(path), Json::parse(original).dump(2) + "\n");

    Artifact a = Artifact::load(path);
    a.append_history({{"step", "retag"}, {"to", "registry.example.com/team/myapp:1.4.2"}});
    a.save(path);
    Json rewritten = Json::parse(read_text(path));
    ASSERT_EQ(rewritten["history"].size(), 3u);
    rewritten["history"].erase(2);
    EXPECT_EQ(rewritten.dump(), Json::parse(original).dump());
}

TEST(ArtifactHistory, AppendFillsAtAfterStepAndKeepsAGivenOne) {
    Artifact a = Artifact::from_json(minimal_doc(), "test");
    a.append_history({{"step", "verify"}, {"target", "docker.io/library/ubuntu:24.04"}, {"result", "match"}});
    const Json& added = a.json()["history"].back();
    std::vector<std::string> keys;
    for (auto& [key, value] : added.items())
        keys.push_back(key);
    EXPECT_EQ(keys, (std::vector<std::string>{"step", "at", "target", "result"}));
    EXPECT_TRUE(
        std::regex_match(added["at"].get<std::string>(), std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));

    a.append_history({{"step", "record"}, {"at", "2026-05-06T07:08:09Z"}});
    EXPECT_EQ(a.json()["history"].back()["at"], "2026-05-06T07:08:09Z");
    EXPECT_EQ(a.json()["history"].size(), 3u);
    EXPECT_TRUE(Artifact::validate(a.json()).empty());

    std::string message = error_message([&] { a.append_history({{"to", "x"}}); });
    EXPECT_NE(message.find("step"), std::string::npos) << message;
}

TEST(ArtifactValidate, EachBrokenFieldIsNamedByItsPath) {
    struct Case {
        std::string name;
        std::function<void(Json&)> break_it;
        std::vector<std::string> expected; // substrings of the first problem
    };
    const std::vector<Case> cases = {
        {"not an object", [](Json& d) { d = Json::array(); }, {"document: expected a JSON object"}},
        {"no schemaVersion", [](Json& d) { d.erase("schemaVersion"); }, {"schemaVersion: missing"}},
        {"schemaVersion string",
         [](Json& d) { d["schemaVersion"] = "1"; },
         {"schemaVersion: expected the integer 1"}},
        {"schemaVersion 0", [](Json& d) { d["schemaVersion"] = 0; }, {"schemaVersion: expected 1, got 0"}},
        {"schemaVersion 2",
         [](Json& d) { d["schemaVersion"] = 2; },
         {"schemaVersion: 2 was written by a newer digestflow", "upgrade"}},
        {"no image", [](Json& d) { d.erase("image"); }, {"image: missing"}},
        {"image array",
         [](Json& d) { d["image"] = Json::array(); },
         {"image: expected an object, got array"}},
        {"no repository", [](Json& d) { d["image"].erase("repository"); }, {"image.repository: missing"}},
        {"repository number",
         [](Json& d) { d["image"]["repository"] = 7; },
         {"image.repository: expected a string, got integer"}},
        {"repository familiar",
         [](Json& d) { d["image"]["repository"] = "ubuntu"; },
         {"image.repository: \"ubuntu\" is not normalised", "docker.io/library/ubuntu"}},
        {"repository legacy hub",
         [](Json& d) { d["image"]["repository"] = "index.docker.io/library/ubuntu"; },
         {"image.repository:", "not normalised"}},
        {"repository with tag",
         [](Json& d) { d["image"]["repository"] = "docker.io/library/ubuntu:24.04"; },
         {"image.repository:", "must not carry a tag or digest", "\"docker.io/library/ubuntu\""}},
        {"repository uppercase",
         [](Json& d) { d["image"]["repository"] = "docker.io/Team/App"; },
         {"image.repository: \"docker.io/Team/App\" is not a valid repository"}},
        {"no digest", [](Json& d) { d["image"].erase("digest"); }, {"image.digest: missing"}},
        {"digest short",
         [](Json& d) { d["image"]["digest"] = "sha256:xyz"; },
         {"image.digest: \"sha256:xyz\" is not a valid digest:", "invalid checksum digest length"}},
        {"digest uppercase",
         [](Json& d) {
             d["image"]["digest"] = "sha256:1BC04B5291C26A46D918139138B992D2DE976D6851D0893B0476B85BFBDFC6E6";
         },
         {"image.digest:", "invalid checksum digest format"}},
        {"digest md5",
         [](Json& d) { d["image"]["digest"] = "md5:d41d8cd98f00b204e9800998ecf8427e"; },
         {"image.digest:", "unsupported digest algorithm"}},
        {"digest object",
         [](Json& d) { d["image"]["digest"] = Json::object(); },
         {"image.digest: expected a digest string, got object"}},
        {"mediaType empty",
         [](Json& d) { d["image"]["mediaType"] = ""; },
         {"image.mediaType: must not be empty"}},
        {"size negative", [](Json& d) { d["image"]["size"] = -5; }, {"image.size: expected a size in bytes"}},
        {"size fractional", [](Json& d) { d["image"]["size"] = 1.5; }, {"image.size:", "1.5"}},
        {"tag invalid",
         [](Json& d) { d["image"]["tag"] = "-dash-first"; },
         {"image.tag: \"-dash-first\" is not a valid tag"}},
        {"platforms object",
         [](Json& d) { d["image"]["platforms"] = Json::object(); },
         {"image.platforms: expected an array"}},
        {"platform string",
         [](Json& d) { d["image"]["platforms"] = Json::array({"linux/amd64"}); },
         {"image.platforms[0]: expected an object, got string"}},
        {"platform digest",
         [](Json& d) {
             d["image"]["platforms"] =
                 Json::array({{{"os", "linux"}, {"architecture", "amd64"}, {"digest", k_amd64}},
                              {{"os", "linux"}, {"architecture", "arm64"}, {"digest", "sha256:1234"}}});
         },
         {"image.platforms[1].digest: \"sha256:1234\" is not a valid digest"}},
        {"platform no os",
         [](Json& d) {
             d["image"]["platforms"] = Json::array({{{"architecture", "amd64"}, {"digest", k_amd64}}});
         },
         {"image.platforms[0].os: missing"}},
        {"verified string",
         [](Json& d) { d["image"]["verified"] = "no"; },
         {"image.verified: expected true or false"}},
        {"build string", [](Json& d) { d["build"] = "ci"; }, {"build: expected an object, got string"}},
        {"no history", [](Json& d) { d.erase("history"); }, {"history: missing"}},
        {"history object", [](Json& d) { d["history"] = Json::object(); }, {"history: expected an array"}},
        {"history entry no step",
         [](Json& d) {
             d["history"].push_back({{"at", "2026-01-01T00:00:00Z"}});
         },
         {"history[1].step: missing"}},
        {"history step number",
         [](Json& d) { d["history"][0]["step"] = 3; },
         {"history[0].step: expected a string, got integer"}},
        {"history entry string",
         [](Json& d) { d["history"].push_back("retag"); },
         {"history[1]: expected an object, got string"}},
        {"signature string", [](Json& d) { d["signature"] = "base64"; }, {"signature: expected an object"}},
    };
    for (const auto& c : cases) {
        Json doc = minimal_doc();
        c.break_it(doc);
        auto problems = Artifact::validate(doc);
        ASSERT_FALSE(problems.empty()) << c.name;
        for (const auto& expected : c.expected)
            EXPECT_NE(problems.front().find(expected), std::string::npos)
                << c.name << ": \"" << problems.front() << "\" lacks \"" << expected << "\"";
        for (const auto& p : problems)
            EXPECT_EQ(p.find('\n'), std::string::npos) << c.name << ": " << p;
    }
}

TEST(ArtifactValidate, ReportsEveryProblemNotOnlyTheFirst) {
    Json doc = minimal_doc();
    doc["image"]["digest"] = "sha256:xyz";
    doc["history"] = "none";
    auto problems = Artifact::validate(doc);
    ASSERT_EQ(problems.size(), 2u);
    EXPECT_EQ(problems[0].rfind("image.digest:", 0), 0u);
    EXPECT_EQ(problems[1].rfind("history:", 0), 0u);
}

TEST(ArtifactValidate, AcceptsForwardCompatibleAndEdgeDocuments) {
    std::vector<Json> docs;
    Json d = minimal_doc();
    d["image"]["repository"] = "localhost:5000/team/app";
    docs.push_back(d);
    d["image"]["repository"] = "[::1]:5000/app";
    d["image"]["size"] = 2.0; // JSON Schema counts 2.0 as an integer; so do we
    docs.push_back(d);
    d["image"]["platforms"] = Json::array({{{"os", ""}, {"architecture", ""}, {"digest", k_amd64}}});
    docs.push_back(d);
    d["schemaVersion"] = 1.0;
    d["image"]["digest"] = "sha512:" + std::string(128, 'c');
    docs.push_back(d);
    for (const auto& doc : docs)
        EXPECT_TRUE(Artifact::validate(doc).empty()) << doc.dump();
}

TEST(ArtifactSchema, AcceptsWhatCreateAndSaveProduce) {
    TempDir dir;
    std::vector<Json> saved;
    ImageInfo offline{.repository = "docker.io/library/ubuntu", .digest = Digest::parse(k_amd64)};
    offline.verified = false;
    for (const auto& [info, build] : std::vector<std::pair<ImageInfo, Json>>{
             {index_image(), {{"source", "buildx-metadata"}}}, {offline, Json()}}) {
        Artifact a = Artifact::create(info, build);
        a.append_history({{"step", "verify"}, {"result", "match"}});
        const std::string path = dir.file("saved" + std::to_string(saved.size()) + ".json");
        a.save(path);
        saved.push_back(Json::parse(read_text(path)));
    }
    auto verdicts = schema_accepts(saved);
    for (std::size_t i = 0; i < saved.size(); ++i)
        EXPECT_TRUE(verdicts[i]) << saved[i].dump(2);
}

TEST(ArtifactSchema, RejectsBrokenDocuments) {
    std::vector<std::pair<std::string, Json>> broken;
    auto add = [&](const std::string& name, const std::function<void(Json&)>& change) {
        Json d = minimal_doc();
        change(d);
        broken.emplace_back(name, d);
    };
    add("bad digest pattern", [](Json& d) { d["image"]["digest"] = "sha256:xyz"; });
    add("digest with trailing newline", [](Json& d) { d["image"]["digest"] = k_index + "\n"; });
    add("missing image", [](Json& d) { d.erase("image"); });
    add("schemaVersion 2", [](Json& d) { d["schemaVersion"] = 2; });
    add("missing history", [](Json& d) { d.erase("history"); });
    add("familiar repository", [](Json& d) { d["image"]["repository"] = "ubuntu"; });
    add("repository with tag", [](Json& d) { d["image"]["repository"] = "docker.io/library/ubuntu:24.04"; });
    add("platform digest", [](Json& d) {
        d["image"]["platforms"] =
            Json::array({{{"os", "linux"}, {"architecture", "amd64"}, {"digest", "sha256:0"}}});
    });
    add("history without step", [](Json& d) { d["history"] = Json::array({{{"at", "now"}}}); });

    std::vector<Json> docs;
    for (const auto& [name, doc] : broken)
        docs.push_back(doc);
    auto verdicts = schema_accepts(docs);
    for (std::size_t i = 0; i < broken.size(); ++i) {
        EXPECT_FALSE(verdicts[i]) << "the schema accepted: " << broken[i].first;
        EXPECT_FALSE(Artifact::validate(broken[i].second).empty())
            << "validate() accepted: " << broken[i].first;
    }
}

// The schema claims to describe exactly what validate() accepts: check both agree on a spread of documents.
TEST(ArtifactSchema, AgreesWithValidateOnEdgeCases) {
    std::vector<std::function<void(Json&)>> changes = {
        [](Json&) {},
        [](Json& d) { d["schemaVersion"] = 1.0; },
        [](Json& d) { d["schemaVersion"] = true; },
        [](Json& d) { d["schemaVersion"] = 0; },
        [](Json& d) { d["image"]["repository"] = "localhost/app"; },
        [](Json& d) { d["image"]["repository"] = "localhost:5000/app"; },
        [](Json& d) { d["image"]["repository"] = "team/app"; },
        [](Json& d) { d["image"]["repository"] = "docker.io/app"; },
        [](Json& d) { d["image"]["repository"] = "docker.io/team/app"; },
        [](Json& d) { d["image"]["repository"] = "index.docker.io/team/app"; },
        [](Json& d) { d["image"]["repository"] = "LOCALDOMAIN/library/debian"; },
        [](Json& d) { d["image"]["repository"] = "[::1]:5000/a/b"; },
        [](Json& d) { d["image"]["repository"] = "registry.example.com/a__b/c--d/e.f"; },
        [](Json& d) { d["image"]["repository"] = "registry.example.com/a___b"; },
        [](Json& d) { d["image"]["repository"] = "registry.example.com/-a"; },
        [](Json& d) { d["image"]["repository"] = "registry.example.com/app@" + k_index; },
        [](Json& d) { d["image"]["repository"] = "example.com/" + std::string(255, 'a'); },
        [](Json& d) { d["image"]["repository"] = "example.com/" + std::string(256, 'a'); },
        [](Json& d) { d["image"]["repository"] = "registry.example.com/app\n"; },
        [](Json& d) { d["image"]["digest"] = "sha512:" + std::string(128, 'e'); },
        [](Json& d) { d["image"]["digest"] = "sha384:" + std::string(96, 'e'); },
        [](Json& d) { d["image"]["digest"] = "sha256:" + std::string(64, 'E'); },
        [](Json& d) { d["image"]["size"] = 0; },
        [](Json& d) { d["image"]["size"] = -1; },
        [](Json& d) { d["image"]["size"] = 3.0; },
        [](Json& d) { d["image"]["size"] = "12"; },
        [](Json& d) { d["image"]["size"] = 1e19; },
        [](Json& d) { d["image"]["tag"] = "v1.2.3_rc-1"; },
        [](Json& d) { d["image"]["tag"] = std::string(129, 'a'); },
        [](Json& d) { d["image"]["tag"] = "a/b"; },
        [](Json& d) { d["image"]["mediaType"] = ""; },
        [](Json& d) { d["image"]["verified"] = false; },
        [](Json& d) { d["image"]["verified"] = 0; },
        [](Json& d) { d["image"]["platforms"] = Json::array(); },
        [](Json& d) {
            d["image"]["platforms"] = Json::array({{{"os", "linux"}, {"digest", k_amd64}}});
        },
        [](Json& d) {
            d["image"]["platforms"] = Json::array(
                {{{"os", "linux"}, {"architecture", "arm"}, {"variant", ""}, {"digest", k_amd64}}});
        },
        [](Json& d) { d["history"] = Json::array(); },
        [](Json& d) { d["history"][0]["step"] = ""; },
        [](Json& d) { d["history"][0]["at"] = 5; },
        [](Json& d) { d["build"] = Json::array(); },
        [](Json& d) { d["signature"] = nullptr; },
        [](Json& d) {
            d["extra"] = {{"anything", true}};
        },
    };
    std::vector<Json> docs;
    for (const auto& change : changes) {
        Json d = minimal_doc();
        change(d);
        docs.push_back(d);
    }
    auto verdicts = schema_accepts(docs);
    for (std::size_t i = 0; i < docs.size(); ++i) {
        auto problems = Artifact::validate(docs[i]);
        EXPECT_EQ(verdicts[i], problems.empty())
            << "case " << i << ": schema " << (verdicts[i] ? "accepts" : "rejects") << ", validate() "
            << (problems.empty() ? "accepts" : "rejects: " + problems.front()) << "\n"
            << docs[i].dump();
    }
}

TEST(ArtifactLoad, ErrorsNameThePathAndTheFix) {
    TempDir dir;
    const std::string missing = dir.file("nope.json");
    std::string message = error_message([&] { Artifact::load(missing); });
    EXPECT_NE(message.find(missing), std::string::npos) << message;
    EXPECT_NE(message.find("No such file"), std::string::npos) << message;

    const std::string garbage = dir.file("garbage.json");
    write_text(garbage, "{\n  \"schemaVersion\": 1,\n  \"image\": {,}\n}\n");
    message = error_message([&] { Artifact::load(garbage); });
    EXPECT_EQ(message.rfind(garbage + ": not valid JSON", 0), 0u) << message;
    EXPECT_NE(message.find("line 3"), std::string::npos) << message;
    EXPECT_NE(message.find("capture-digest"), std::string::npos) << message;

    const std::string invalid = dir.file("invalid.json");
    Json doc = minimal_doc();
    doc["image"]["digest"] = "sha256:xyz";
    write_text(invalid, doc.dump());
    message = error_message([&] { Artifact::load(invalid); });
    EXPECT_EQ(message.rfind(invalid +
                                ": image.digest: \"sha256:xyz\" is not a valid digest: invalid checksum "
                                "digest length",
                            0),
              0u)
        << message;
    const std::string hint = " (fix the file or capture again with capture-digest)";
    EXPECT_EQ(message.substr(message.size() - hint.size()), hint) << message;
    EXPECT_EQ(message.find("sha256:xyz", message.find("sha256:xyz") + 1), std::string::npos)
        << "the value is quoted once: " << message;

    const std::string newer = dir.file("newer.json");
    doc = minimal_doc();
    doc["schemaVersion"] = 3;
    write_text(newer, doc.dump());
    message = error_message([&] { Artifact::load(newer); });
    EXPECT_NE(message.find("newer digestflow"), std::string::npos) << message;

    message = error_message([&] { Artifact::load(dir.path().string()); });
    EXPECT_NE(message.find("directory"), std::string::npos) << message;

    message = error_message([&] { Artifact::from_json(Json::array(), "from-test"); });
    EXPECT_EQ(message.rfind("from-test: document:", 0), 0u) << message;
}

TEST(ArtifactLoad, RefusesFilesLargerThanTheBound) {
    TempDir dir;
    const std::string big = dir.file("big.json");
    {
        // Valid JSON up to the bound, so only the size can be the reason.
        std::string content = minimal_doc().dump();
        content += std::string(digestflow::max_artifact_bytes + 1 - content.size(), ' ');
        write_text(big, content);
    }
    std::string message = error_message([&] { Artifact::load(big); });
    EXPECT_NE(message.find("larger than 16 MiB"), std::string::npos) << message;

    const std::string at_bound = dir.file("at-bound.json");
    std::string content = minimal_doc().dump();
    content += std::string(digestflow::max_artifact_bytes - content.size(), ' ');
    write_text(at_bound, content);
    EXPECT_NO_THROW(Artifact::load(at_bound));
}

TEST(ArtifactSave, DashWritesToStdout) {
    Artifact a = Artifact::from_json(minimal_doc(), "test");
    testing::internal::CaptureStdout();
    a.save("-");
    std::string out = testing::internal::GetCapturedStdout();
    EXPECT_EQ(out, minimal_doc().dump(2) + "\n");
}

TEST(AtomicWrite, ReplacesTheTargetAndKeepsItsMode) {
    TempDir dir;
    const std::string path = dir.file("image-digest.json");
    write_text(path, "old\n");
    ::chmod(path.c_str(), 0640);
    digestflow::write_file_atomically(path, "new\n");
    EXPECT_EQ(read_text(path), "new\n");
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"image-digest.json"});

    // A new file is readable by the next CI job, whoever runs it.
    const std::string fresh = dir.file("fresh.json");
    digestflow::write_file_atomically(fresh, "x");
    ASSERT_EQ(::stat(fresh.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);

    // Relative path in the current directory.
    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path());
    digestflow::write_file_atomically("relative.json", "r");
    fs::current_path(cwd);
    EXPECT_EQ(read_text(dir.file("relative.json")), "r");
}

TEST(AtomicWrite, MissingFolderIsAUsageErrorNamingThePath) {
    TempDir dir;
    const std::string path = dir.file("no/such/dir/image-digest.json");
    std::string message = error_message([&] { digestflow::write_file_atomically(path, "x"); });
    EXPECT_EQ(message.rfind(path + ":", 0), 0u) << message;
    EXPECT_NE(message.find("No such file or directory"), std::string::npos) << message;
}

TEST(AtomicWrite, FailedRenameLeavesTargetAndNoTempFile) {
    TempDir dir;
    // A non-empty directory in the target's place: everything works until rename, which must fail cleanly.
    const std::string path = dir.file("image-digest.json");
    fs::create_directory(path);
    write_text(path + "/keep", "kept");
    Artifact a = Artifact::from_json(minimal_doc(), "test");
    std::string message = error_message([&] { a.save(path); });
    EXPECT_EQ(message.rfind(path + ": cannot replace", 0), 0u) << message;
    EXPECT_EQ(read_text(path + "/keep"), "kept");
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"image-digest.json"});
}

TEST(AtomicWrite, UnwritableFolderLeavesTargetUnchanged) {
    TempDir dir;
    const fs::path folder = dir.path() / "out";
    fs::create_directory(folder);
    const std::string path = (folder / "image-digest.json").string();
    write_text(path, "old content\n");
    ::chmod(folder.c_str(), 0555);

    // root ignores directory permissions, so the save runs as "nobody" in a child process.
    int code = run_in_child([&] {
        if (::geteuid() == 0) {
            const struct passwd* nobody = ::getpwnam("nobody");
            if (nobody == nullptr || ::setgid(nobody->pw_gid) != 0 || ::setuid(nobody->pw_uid) != 0)
                return 77;
        }
        if (::access(folder.c_str(), W_OK) == 0)
            return 77;
        Artifact a = Artifact::from_json(minimal_doc(), "test");
        try {
            a.save(path);
        } catch (const Error& e) {
            std::string message = e.what();
            bool good = message.rfind(path + ": cannot create a temporary file", 0) == 0 &&
                        message.find("Permission denied") != std::string::npos;
            return good ? 0 : 2;
        }
        return 1;
    });
    ::chmod(folder.c_str(), 0755);
    if (code == 77)
        GTEST_SKIP() << "cannot make a folder unwritable here";
    EXPECT_EQ(code, 0) << "1 = no error thrown, 2 = wrong message";
    EXPECT_EQ(read_text(path), "old content\n");
    EXPECT_EQ(entries(folder), std::vector<std::string>{"image-digest.json"});
}

TEST(AtomicWrite, FailedWriteRemovesTheTempFileAndKeepsTheTarget) {
    TempDir dir;
    const std::string path = dir.file("image-digest.json");
    write_text(path, "old\n");
    // A file size limit makes write() fail half way (EFBIG), like a full disk would.
    int code = run_in_child([&] {
        std::signal(SIGXFSZ, SIG_IGN);
        struct rlimit limit {
            4096, 4096
        };
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0)
            return 77;
        try {
            digestflow::write_file_atomically(path, std::string(100000, 'x'));
        } catch (const Error& e) {
            std::string message = e.what();
            return message.rfind(path + ": cannot write: File too large", 0) == 0 ? 0 : 2;
        }
        return 1;
    });
    if (code == 77)
        GTEST_SKIP() << "cannot set RLIMIT_FSIZE here";
    EXPECT_EQ(code, 0) << "1 = no error thrown, 2 = wrong message";
    EXPECT_EQ(read_text(path), "old\n");
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"image-digest.json"});
}

TEST(Clock, Rfc3339UtcWithSeconds) {
    std::string now = digestflow::utc_now_rfc3339();
    EXPECT_TRUE(std::regex_match(now, std::regex(R"(20\d\d-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\dZ)")))
        << now;
}

TEST(Actor, PrefersCiVariablesThenUserThenUid) {
    const char* names[] = {"GITLAB_USER_LOGIN", "GITHUB_ACTOR", "USER"};
    std::vector<std::optional<std::string>> saved;
    for (const char* name : names) {
        const char* value = std::getenv(name);
        saved.push_back(value ? std::optional<std::string>(value) : std::nullopt);
    }
    ::setenv("GITLAB_USER_LOGIN", "gl-user", 1);
    ::setenv("GITHUB_ACTOR", "gh-user", 1);
    ::setenv("USER", "local", 1);
    EXPECT_EQ(digestflow::current_actor(), "gl-user");
    ::setenv("GITLAB_USER_LOGIN", "", 1); // empty counts as unset
    EXPECT_EQ(digestflow::current_actor(), "gh-user");
    ::unsetenv("GITHUB_ACTOR");
    EXPECT_EQ(digestflow::current_actor(), "local");
    ::unsetenv("USER");
    ::unsetenv("GITLAB_USER_LOGIN");
    EXPECT_EQ(digestflow::current_actor(), "uid:" + std::to_string(::getuid()));
    for (std::size_t i = 0; i < saved.size(); ++i) {
        if (saved[i])
            ::setenv(names[i], saved[i]->c_str(), 1);
        else
            ::unsetenv(names[i]);
    }
}

// Issue 6 #12: a symlinked artifact is written through the link: the temp file goes beside the target and is
// renamed over it, so the link stays a link and the target gets the update.
TEST(AtomicWrite, WritesThroughASymbolicLink) {
    TempDir dir;
    fs::create_directory(dir.path() / "shared");
    const std::string target = dir.file("shared/real.json");
    write_text(target, "old\n");
    ::chmod(target.c_str(), 0640);
    const std::string link = dir.file("image-digest.json");
    fs::create_symlink("shared/real.json", link);
    digestflow::write_file_atomically(link, "new\n");
    EXPECT_TRUE(fs::is_symlink(link));
    EXPECT_EQ(fs::read_symlink(link), fs::path("shared/real.json"));
    EXPECT_EQ(read_text(target), "new\n");
    struct stat st {};
    ASSERT_EQ(::stat(target.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0640u);
    EXPECT_EQ(entries(dir.path() / "shared"), std::vector<std::string>{"real.json"}) << "no temp file left";
    EXPECT_EQ(entries(dir.path()), (std::vector<std::string>{"image-digest.json", "shared"}));

    // A link to a link: the end of the chain is written.
    const std::string second = dir.file("second.json");
    fs::create_symlink("image-digest.json", second);
    Artifact::from_json(minimal_doc(), "test").save(second);
    EXPECT_TRUE(fs::is_symlink(second));
    EXPECT_EQ(Artifact::load(target).json(), minimal_doc());
}

TEST(AtomicWrite, DanglingSymbolicLinkIsAClearError) {
    TempDir dir;
    const std::string link = dir.file("image-digest.json");
    fs::create_symlink("missing/real.json", link);
    std::string message = error_message([&] { digestflow::write_file_atomically(link, "x"); });
    EXPECT_EQ(message.rfind(link + ": is a symbolic link whose target cannot be reached", 0), 0u) << message;
    EXPECT_TRUE(fs::is_symlink(link)) << "the link is left alone";
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"image-digest.json"});
}

// Issue 6 #15/#16/#17/#18: artifacts are parsed strictly and read only from regular files; each refusal is a
// usage error naming the file.
TEST(ArtifactLoad, HostileFilesAreUsageErrorsNamingTheFile) {
    TempDir dir;
    const std::string valid = minimal_doc().dump();
    const std::string body = valid.substr(1);  // everything after the opening brace
    std::string deep_object;
    for (int i = 0; i < 100000; ++i) deep_object += "{\"a\":";
    deep_object += "1" + std::string(100000, '}');
    struct Hostile {
        std::string name;
        std::string content;
        std::string expected;
    };
    const std::vector<Hostile> cases = {
        {"deep.json", std::string(100000, '[') + std::string(100000, ']'), "nested deeper than"},
        {"deep-build.json", valid.substr(0, valid.size() - 1) + ", \"build\": " + deep_object + "}", "nested deeper than"},
        {"overflow.json", "{\"size\": 1e400, " + body, "number overflow"},
        {"duplicate.json", "{\"schemaVersion\": 2, " + body, "duplicate key \"schemaVersion\""},
        {"duplicate-digest.json",
         R"({"schemaVersion": 1, "image": {"repository": "docker.io/library/ubuntu", "digest": ")" + k_index +
             R"(", "digest": ")" + k_amd64 + R"("}, "history": [{"step": "capture"}]})",
         "duplicate key \"image.digest\""},
        {"nul.json", valid + std::string(1, '\0') + "garbage", "NUL byte"},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        const std::string path = dir.file(c.name);
        write_text(path, c.content);
        std::string message = error_message([&] { Artifact::load(path); });
        EXPECT_EQ(message.rfind(path + ": ", 0), 0u) << message;
        EXPECT_NE(message.find(c.expected), std::string::npos) << message;
    }
    const std::string fifo = dir.file("fifo.json");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::string message = error_message([&] { Artifact::load(fifo); });
    EXPECT_EQ(message.rfind(fifo + ": is a FIFO", 0), 0u) << message;
}

// Issue 6 #23: a value from the file is quoted through quote(): control characters never reach a message raw.
TEST(ArtifactLoad, ValuesInMessagesAreEscaped) {
    Json doc = minimal_doc();
    doc["image"]["digest"] = "sha256:\x1b[2J\x01";
    std::string message = error_message([&] { Artifact::from_json(doc, "a.json"); });
    EXPECT_NE(message.find("\"sha256:\\x1b[2J\\x01\""), std::string::npos) << message;
    for (char c : message) EXPECT_GE(static_cast<unsigned char>(c), 0x20u) << message;
}

TEST(AtomicWrite, DeviceOrFifoTargetIsRefusedAndLeftInPlace) {
    // The rename used to replace the node itself: `--out /dev/null` as root left a regular file at /dev/null.
    // (A FIFO stands in for the device: a test that fails must not break the machine's /dev/null.)
    TempDir dir;
    const std::string fifo = dir.file("pipe");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
    std::string message = error_message([&] { digestflow::write_file_atomically(fifo, "x"); });
    EXPECT_EQ(message.rfind(fifo + ": is a FIFO, not a regular file", 0), 0u) << message;
    struct stat st {};
    ASSERT_EQ(::lstat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode));
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{"pipe"});
}
