// Digests reported by build tools: one table per output format, with samples shaped like the real files.
#include "digestflow/capture_sources.hpp"

#include "digestflow/error.hpp"
#include "digestflow/text_file.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <set>

using namespace digestflow;

namespace {

const std::string k_index = "sha256:1bc04b5291c26a46d918139138b992d2de976d6851d0893b0476b85bfbdfc6e6";
const std::string k_amd64 = "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51";
const std::string k_config = "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910";
const std::string k_arm64 = "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265";
const std::string k_other = "sha256:d9298a10d1b0735837dc4bd85dac641b0f3cef27a47e5d53a54f2f3f5b2fcffa";

// Either the digest the source must report, or substrings of the one-line error it must throw.
struct Case {
    std::string name;
    std::string text;
    std::string image;              // --image as the user typed it
    std::string digest;             // expected digest; empty = an error is expected
    std::vector<std::string> error; // substrings of the error message
};

using Source = std::function<CapturedDigest(const std::string&, const Reference&)>;

void run_cases(const std::vector<Case>& cases, const Source& source, const std::string& source_name) {
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Reference image = Reference::parse(c.image.empty() ? "registry.example.com/team/app" : c.image);
        if (!c.digest.empty()) {
            try {
                CapturedDigest got = source(c.text, image);
                EXPECT_EQ(got.digest.str(), c.digest);
                EXPECT_EQ(got.source, source_name);
            } catch (const Error& e) {
                ADD_FAILURE() << "unexpected error: " << e.what();
            }
            continue;
        }
        try {
            CapturedDigest got = source(c.text, image);
            ADD_FAILURE() << "expected an error, got " << got.digest.str();
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            std::string message = e.what();
            EXPECT_EQ(message.find('\n'), std::string::npos) << message;
            for (const auto& part : c.error)
                EXPECT_NE(message.find(part), std::string::npos)
                    << "\"" << message << "\" lacks \"" << part << "\"";
        }
    }
}

Source ignore_image(CapturedDigest (*f)(const std::string&)) {
    return [f](const std::string& text, const Reference&) { return f(text); };
}

} // namespace

TEST(DigestFromFlag, AcceptsOnlyADigest) {
    const std::vector<Case> cases = {
        {"plain", k_index, "", k_index, {}},
        // Issue 6 #22: a flag is taken as given, never trimmed.
        {"surrounding whitespace", "  " + k_index + "\n", "", "", {"--digest", "starts or ends with whitespace"}},
        {"trailing newline", k_index + "\n", "", "", {"--digest", "\\x0a\"", "starts or ends with whitespace"}},
        {"sha512", "sha512:" + std::string(128, 'a'), "", "sha512:" + std::string(128, 'a'), {}},
        {"a reference",
         "registry.example.com/team/app@" + k_index,
         "",
         "",
         {"--digest", "is a reference", "--image"}},
        {"tag@digest", "app:1.0@" + k_index, "", "", {"is a reference", "--image"}},
        {"bare hex", k_index.substr(7), "", "", {"--digest", "add the sha256: prefix"}},
        {"short", "sha256:abc", "", "", {"--digest \"sha256:abc\"", "invalid checksum digest length"}},
        {"uppercase", "sha256:" + std::string(64, 'A'), "", "", {"invalid checksum digest format"}},
        {"empty", "", "", "", {"--digest", "not a valid digest"}},
    };
    run_cases(cases, ignore_image(digest_from_flag), "digest");
}

TEST(DigestFromBuildxMetadata, SingleBuild) {
    // Shaped after `docker buildx build --push --metadata-file meta.json` (docker docs example).
    const std::string pushed = R"({
  "buildx.build.provenance": {},
  "buildx.build.ref": "mybuilder/mybuilder0/0fjb6ubs52xx3vygf6fgdl611",
  "buildx.build.warnings": [],
  "containerimage.config.digest": ")" +
                               k_config + R"(",
  "containerimage.descriptor": {
    "annotations": {"config.digest": ")" +
                               k_config + R"(", "org.opencontainers.image.created": "2026-01-02T03:04:05Z"},
    "digest": ")" + k_index + R"(",
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "size": 856
  },
  "containerimage.digest": ")" +
                               k_index + R"(",
  "image.name": "registry.example.com/team/app:1.4.2,registry.example.com/team/app:latest"
})";
    const std::string hub = R"({
  "containerimage.config.digest": ")" +
                            k_config + R"(",
  "containerimage.digest": ")" +
                            k_amd64 + R"(",
  "image.name": "docker.io/library/docker:local"
})";
    const std::string not_pushed = R"({
  "buildx.build.ref": "default/default/q0blgzs0ni3k1b3it51ckgvnq",
  "containerimage.config.digest": ")" +
                                   k_config + R"("
})";
    const std::vector<Case> cases = {
        {"pushed index", pushed, "registry.example.com/team/app", k_index, {}},
        {"any tag of the build", pushed, "registry.example.com/team/app:9.9", k_index, {}},
        {"docker hub normalised", hub, "docker:local", k_amd64, {}},
        {"docker hub legacy name", hub, "index.docker.io/library/docker", k_amd64, {}},
        {"no image.name", R"({"containerimage.digest": ")" + k_index + R"("})", "", k_index, {}},
        {"another image",
         pushed,
         "registry.example.com/team/other",
         "",
         {"--from-buildx-metadata", "registry.example.com/team/app:1.4.2",
          "not registry.example.com/team/other", "--image"}},
        {"not pushed",
         not_pushed,
         "",
         "",
         {"--from-buildx-metadata", "neither \"containerimage.digest\" nor \"containerimage.descriptor\"",
          "no pushed image", "--push", "type=registry"}},
        {"bad digest",
         R"({"containerimage.digest": "sha256:1234"})",
         "",
         "",
         {"containerimage.digest", "\"sha256:1234\"", "not a valid digest"}},
        {"not json", "containerimage.digest=sha256:...", "", "", {"--from-buildx-metadata: not valid JSON"}},
        {"array", "[]", "", "", {"expected a JSON object"}},
    };
    run_cases(cases, digest_from_buildx_metadata, "buildx-metadata");
}

TEST(DigestFromBuildxMetadata, KeepsDescriptorAndImageId) {
    const std::string text = R"({
  "containerimage.config.digest": ")" +
                             k_config + R"(",
  "containerimage.descriptor": {"digest": ")" +
                             k_index +
                             R"(", "mediaType": "application/vnd.oci.image.index.v1+json", "size": 856},
  "containerimage.digest": ")" +
                             k_index + R"(",
  "image.name": "registry.example.com/team/app:1"
})";
    CapturedDigest got = digest_from_buildx_metadata(text, Reference::parse("registry.example.com/team/app"));
    EXPECT_EQ(got.media_type, "application/vnd.oci.image.index.v1+json");
    EXPECT_EQ(got.size, 856);
    ASSERT_TRUE(got.config_digest);
    EXPECT_EQ(got.config_digest->str(), k_config);

    // A descriptor for some other manifest says nothing about ours.
    const std::string mismatched = R"({
  "containerimage.descriptor": {"digest": ")" +
                                   k_other + R"(", "mediaType": "x", "size": 1},
  "containerimage.digest": ")" + k_index +
                                   R"("
})";
    got = digest_from_buildx_metadata(mismatched, Reference::parse("registry.example.com/team/app"));
    EXPECT_FALSE(got.media_type);
    EXPECT_FALSE(got.size);
    EXPECT_FALSE(got.config_digest);
}

TEST(DigestFromBuildxMetadata, BakeChoosesTheTargetByRepository) {
    // Shaped after `docker buildx bake --push --metadata-file meta.json` with three targets.
    const std::string bake = R"({
  "buildx.build.warnings": [],
  "api": {
    "buildx.build.ref": "builder/builder0/aaa",
    "containerimage.config.digest": ")" +
                             k_config + R"(",
    "containerimage.descriptor": {"digest": ")" +
                             k_index +
                             R"(", "mediaType": "application/vnd.oci.image.index.v1+json", "size": 1609},
    "containerimage.digest": ")" +
                             k_index + R"(",
    "image.name": "registry.example.com/team/api:1.0,registry.example.com/team/api:latest"
  },
  "worker": {
    "buildx.build.ref": "builder/builder0/bbb",
    "containerimage.digest": ")" +
                             k_amd64 + R"(",
    "image.name": "ghcr.io/team/worker:1.0"
  },
  "hub": {
    "containerimage.digest": ")" +
                             k_arm64 + R"(",
    "image.name": "team/hubimage:1.0"
  },
  "local-only": {
    "buildx.build.ref": "builder/builder0/ccc",
    "containerimage.config.digest": ")" +
                             k_config + R"(",
    "image.name": "registry.example.com/team/local:dev"
  }
})";
    const std::string twice = R"({
  "release": {"containerimage.digest": ")" +
                              k_index + R"(", "image.name": "registry.example.com/team/app:1.0"},
  "debug": {"containerimage.digest": ")" +
                              k_other + R"(", "image.name": "registry.example.com/team/app:1.0-debug"}
})";
    const std::string same_digest = R"({
  "a": {"containerimage.digest": ")" +
                                    k_index + R"(", "image.name": "registry.example.com/team/app:1"},
  "b": {"containerimage.digest": ")" +
                                    k_index + R"(", "image.name": "registry.example.com/team/app:2"}
})";
    const std::vector<Case> cases = {
        {"first target", bake, "registry.example.com/team/api", k_index, {}},
        {"second target", bake, "ghcr.io/team/worker:1.0", k_amd64, {}},
        {"hub names normalised", bake, "docker.io/team/hubimage", k_arm64, {}},
        {"target not pushed",
         bake,
         "registry.example.com/team/local",
         "",
         {"target local-only", "no pushed image"}},
        {"no target",
         bake,
         "registry.example.com/team/missing",
         "",
         {"no bake target pushed registry.example.com/team/missing", "api", "worker"}},
        {"two targets, tag decides", twice, "registry.example.com/team/app:1.0-debug", k_other, {}},
        {"two targets, tag decides the other", twice, "registry.example.com/team/app:1.0", k_index, {}},
        {"two targets, no tag",
         twice,
         "registry.example.com/team/app",
         "",
         {"several bake targets", "release", "debug", "name the tag"}},
        {"two targets, one digest", same_digest, "registry.example.com/team/app", k_index, {}},
        {"no results at all", R"({"buildx.build.warnings": []})", "", "", {"no build result"}},
    };
    run_cases(cases, digest_from_buildx_metadata, "buildx-metadata");
}

TEST(DigestFromDigestFile, BuildahPodmanSkopeoKaniko) {
    const std::vector<Case> cases = {
        {"kaniko, no newline", k_index, "", k_index, {}},
        {"buildah, newline", k_index + "\n", "", k_index, {}},
        {"crlf and spaces", "  " + k_index + " \r\n\r\n", "", k_index, {}},
        {"empty: manifest push without --all",
         "",
         "",
         "",
         {"--from-digest-file", "empty", "manifest push", "--all"}},
        {"only whitespace", " \n", "", "", {"empty", "--all"}},
        {"two digests", k_index + "\n" + k_amd64 + "\n", "", "", {"expected one digest"}},
        {"image reference instead",
         "registry.example.com/team/app@" + k_index,
         "",
         "",
         {"is a reference", "--from-kaniko-image-refs"}},
        {"truncated", "sha256:1bc04b52", "", "", {"--from-digest-file", "invalid checksum digest length"}},
    };
    run_cases(cases, ignore_image(digest_from_digest_file), "digest-file");
}

TEST(DigestFromPushOutput, DockerPushLogs) {
    const std::string single = R"(The push refers to repository [registry.example.com/team/app]
5f70bf18a086: Preparing
e2eb06d8af82: Preparing
5f70bf18a086: Layer already exists
e2eb06d8af82: Pushed
1.0: digest: )" + k_index + R"( size: 528
)";
    const std::string all_tags = R"(The push refers to repository [registry.example.com/team/app]
e2eb06d8af82: Layer already exists
1.0: digest: )" + k_index + R"( size: 528
e2eb06d8af82: Layer already exists
1.1: digest: )" + k_other + R"( size: 741
)";
    const std::string same_digest_tags = R"(The push refers to repository [registry.example.com/team/app]
1.0: digest: )" + k_index + R"( size: 528
latest: digest: )" + k_index + R"( size: 528
)";
    // GitHub Actions log with timestamps and colour codes, pushing to two repositories.
    const std::string ci_log =
        "2026-01-02T03:04:05.1234567Z The push refers to repository [docker.io/team/app]\n"
        "2026-01-02T03:04:06.0000000Z \x1b[1A\x1b[2K1.0: digest: " +
        k_amd64 +
        " size: 1609\r\n"
        "2026-01-02T03:04:07.0000000Z The push refers to repository "
        "[ghcr.io/team/app]\n"
        "2026-01-02T03:04:08.0000000Z 1.0: digest: " +
        k_arm64 + " size: 1609\n";
    const std::vector<Case> cases = {
        {"single push", single, "registry.example.com/team/app:1.0", k_index, {}},
        {"single push, other tag named", single, "registry.example.com/team/app:2.0", k_index, {}},
        {"single push, no tag named", single, "registry.example.com/team/app", k_index, {}},
        // Never attributed to --image unless the log ties the line to that repository.
        {"grep'ed line only",
         "1.0: digest: " + k_index + " size: 528",
         "",
         "",
         {"--from-push-output line 1", "does not say which repository", "whole docker push log", "--digest"}},
        {"all tags, tag decides", all_tags, "registry.example.com/team/app:1.1", k_other, {}},
        {"all tags, ambiguous",
         all_tags,
         "registry.example.com/team/app:2.0",
         "",
         {"--from-push-output", "several digests", "1.0", "1.1", "name the pushed tag"}},
        {"all tags, no tag named", all_tags, "registry.example.com/team/app", "", {"several digests"}},
        {"tags with one digest", same_digest_tags, "registry.example.com/team/app", k_index, {}},
        {"ci log, hub", ci_log, "team/app:1.0", k_amd64, {}},
        {"ci log, ghcr", ci_log, "ghcr.io/team/app", k_arm64, {}},
        {"ci log, other repository",
         ci_log,
         "quay.io/team/app",
         "",
         {"pushed no image to quay.io/team/app", "--image"}},
        {"failed push",
         "The push refers to repository [registry.example.com/team/app]\n"
         "e2eb06d8af82: Preparing\nunauthorized: authentication required\n",
         "",
         "",
         {"--from-push-output", "no \"TAG: digest: sha256:... size: N\" line"}},
        {"empty", "", "", "", {"--from-push-output", "docker push"}},
        {"bad digest",
         "The push refers to repository [registry.example.com/team/app]\n1.0: digest: sha256:abc size: 528\n",
         "",
         "",
         {"line 2", "sha256:abc", "not a valid digest"}},
        // Docker <= 1.10 wording: "The push refers to a repository [...]".
        {"old wording, other repository",
         "The push refers to a repository [registry.example.com/team/other]\nlatest: digest: " + k_other +
             " size: 713\n",
         "",
         "",
         {"pushed no image to registry.example.com/team/app"}},
        {"old wording", "The push refers to a repository [registry.example.com/team/app]\nlatest: digest: " + k_other +
             " size: 713\n", "", k_other, {}},
        // A repository line that cannot be read: refuse rather than guess whose digest follows.
        {"unreadable repository line",
         "The push refers to repository [registry.example.com/team/app]\n1.0: digest: " + k_index +
             " size: 1\nThe push refers to repository [Not A Repo!]\n2.0: digest: " + k_other + " size: 1\n",
         "",
         "",
         {"--from-push-output line 3", "\"The push refers to repository [Not A Repo!]\"", "names no repository",
          "line 4"}},
        {"cut-off repository line",
         "The push refers to repository [registry.example.com/te\n1.0: digest: " + k_index + " size: 1\n",
         "",
         "",
         {"line 1", "names no repository"}},
    };
    run_cases(cases, digest_from_push_output, "push-output");
}

TEST(DigestFromPushOutput, KeepsTheReportedSize) {
    CapturedDigest got = digest_from_push_output("The push refers to repository [registry.example.com/team/app]\n"
                                                 "latest: digest: " + k_index + " size: 528\n",
                                                 Reference::parse("registry.example.com/team/app"));
    EXPECT_EQ(got.size, 528);
    EXPECT_FALSE(got.media_type);
}

TEST(DigestFromKanikoImageRefs, NameWithDigestFiles) {
    // --image-name-with-digest-file: go-containerregistry names, so Docker Hub shows as index.docker.io.
    const std::string with_digest =
        "index.docker.io/library/app@" + k_index + "\n" + "registry.example.com/team/app@" + k_amd64 + "\n";
    // --image-name-tag-with-digest-file: one line per --destination.
    const std::string with_tags = "registry.example.com/team/app:1.0@" + k_index + "\n" +
                                  "registry.example.com/team/app:latest@" + k_index + "\n" +
                                  "registry.example.com/team/app:debug@" + k_other + "\n";
    // $BUILDER_OUTPUT/images: JSON lines.
    const std::string builder_output = R"({"name":"registry.example.com/team/app:1.0","digest":")" + k_index +
                                       "\"}\n" + R"({"name":"index.docker.io/team/app:1.0","digest":")" +
                                       k_arm64 + "\"}\n";
    const std::vector<Case> cases = {
        {"hub by familiar name", with_digest, "app", k_index, {}},
        {"hub by docker.io name", with_digest, "docker.io/library/app:1.0", k_index, {}},
        {"private registry", with_digest, "registry.example.com/team/app", k_amd64, {}},
        {"tag decides", with_tags, "registry.example.com/team/app:debug", k_other, {}},
        {"tags agree", with_tags, "registry.example.com/team/app:latest", k_index, {}},
        {"unknown tag, two digests",
         with_tags,
         "registry.example.com/team/app:2.0",
         "",
         {"--from-kaniko-image-refs", "several digests",
          "registry.example.com/team/app:debug sha256:d9298a10d1b0", "--image"}},
        {"builder output", builder_output, "registry.example.com/team/app:1.0", k_index, {}},
        {"builder output hub", builder_output, "team/app", k_arm64, {}},
        {"no such image",
         with_digest,
         "quay.io/team/app",
         "",
         {"no image named quay.io/team/app", "(the file lists index.docker.io/library/app, ", "--image"}},
        {"empty file", "\n", "", "", {"--from-kaniko-image-refs", "empty"}},
        {"tag without digest",
         "registry.example.com/team/app:1.0\n",
         "",
         "",
         {"line 1", "no @sha256:... digest"}},
        {"garbage line",
         "registry.example.com/team/app@" + k_index + "\nNOT A REF\n",
         "",
         "",
         {"--from-kaniko-image-refs line 2", "not an image reference"}},
        {"json without digest",
         R"({"name":"registry.example.com/team/app"})",
         "",
         "",
         {"line 1", "expected {\"name\": ..., \"digest\": ...}"}},
        {"json bad digest",
         R"({"name":"registry.example.com/team/app","digest":"sha256:12"})",
         "",
         "",
         {"line 1", "\"sha256:12\"", "not a valid digest"}},
    };
    run_cases(cases, digest_from_kaniko_image_refs, "kaniko-image-refs");
}

TEST(DigestFromJib, JibImageJson) {
    auto jib = [](const std::string& image, const std::string& digest, const std::string& pushed) {
        return R"({"image":")" + image + R"(","imageId":")" + k_config + R"(","imageDigest":")" + digest +
               R"(","tags":["1.0","latest"],"imagePushed":)" + pushed + "}";
    };
    const std::vector<Case> cases = {
        {"pushed",
         jib("registry.example.com/team/app:1.0", k_amd64, "true"),
         "registry.example.com/team/app:1.0",
         k_amd64,
         {}},
        {"hub image", jib("team/app", k_amd64, "true"), "docker.io/team/app", k_amd64, {}},
        {"older jib without imagePushed",
         R"({"image":"registry.example.com/team/app","imageId":")" + k_config + R"(","imageDigest":")" +
             k_amd64 + R"(","tags":["latest"]})",
         "",
         k_amd64,
         {}},
        {"dockerBuild",
         jib("registry.example.com/team/app:1.0", k_amd64, "false"),
         "",
         "",
         {"--from-jib", "imagePushed", "false", "jib:build"}},
        {"another image",
         jib("registry.example.com/team/other", k_amd64, "true"),
         "",
         "",
         {"jib pushed registry.example.com/team/other, not registry.example.com/team/app", "--image"}},
        {"no imageDigest",
         R"({"image":"registry.example.com/team/app","imagePushed":true})",
         "",
         "",
         {"--from-jib", "no \"imageDigest\"", "jib-image.json"}},
        {"bad digest",
         jib("registry.example.com/team/app", "sha256:zz", "true"),
         "",
         "",
         {"imageDigest", "not a valid digest"}},
        {"not json", "sha256:abc", "", "", {"--from-jib: not valid JSON"}},
    };
    run_cases(cases, digest_from_jib, "jib");

    CapturedDigest got = digest_from_jib(jib("registry.example.com/team/app", k_amd64, "true"),
                                         Reference::parse("registry.example.com/team/app"));
    ASSERT_TRUE(got.config_digest);
    EXPECT_EQ(got.config_digest->str(), k_config);
}

TEST(DigestFromKoRefs, ImageRefsFile) {
    // ko build --image-refs: one published reference per line.
    const std::string refs = "registry.example.com/team/app-0f1e2d3c4b5a@" + k_amd64 + "\n" +
                             "registry.example.com/team/worker@" + k_arm64 + "\n";
    const std::string tagged = "registry.example.com/team/app:v1.2.0@" + k_index + "\n";
    const std::string multi = "registry.example.com/team/app@" + k_index + "\n" + "registry.example.com/team/app@" +
                              k_amd64 + "\n" + "registry.example.com/team/app@" + k_arm64 + "\n";
    const std::vector<Case> cases = {
        {"first", refs, "registry.example.com/team/app-0f1e2d3c4b5a", k_amd64, {}},
        {"second", refs, "registry.example.com/team/worker:v1", k_arm64, {}},
        {"tagged", tagged, "registry.example.com/team/app", k_index, {}},
        {"ko.local is not a registry image",
         "ko.local/app@" + k_index + "\n",
         "",
         "",
         {"--from-ko-refs", "no image named registry.example.com/team/app", "ko.local/app;"}},
        {"empty", "", "", "", {"--from-ko-refs", "empty", "ko build --image-refs"}},
        // Multi-platform: the index first, then one line per platform; the index is what the tag names.
        {"multi-platform", multi, "registry.example.com/team/app", k_index, {}},
        {"multi-platform among others", refs + multi, "registry.example.com/team/app", k_index, {}},
        // Lines of one repository split by another's are two builds: which one is meant is unknowable.
        {"same repository, two builds",
         "registry.example.com/team/worker@" + k_other + "\n" + refs,
         "registry.example.com/team/worker",
         "",
         {"several digests"}},
        {"same repository, one digest twice",
         "registry.example.com/team/app@" + k_index + "\nregistry.example.com/team/app@" + k_amd64 +
             "\nregistry.example.com/team/app@" + k_index + "\n",
         "registry.example.com/team/app",
         "",
         {"several digests"}},
    };
    run_cases(cases, digest_from_ko_refs, "ko-refs");
}

TEST(DigestFromKoRefs, MultiPlatformKeepsThePlatformDigestsForTheRegistryCheck) {
    const std::string multi = "registry.example.com/team/app@" + k_index + "\n" + "registry.example.com/team/app@" +
                              k_amd64 + "\n" + "registry.example.com/team/app@" + k_arm64 + "\n";
    CapturedDigest got = digest_from_ko_refs(multi, Reference::parse("registry.example.com/team/app"));
    EXPECT_EQ(got.digest.str(), k_index);
    ASSERT_EQ(got.platform_digests.size(), 2u);
    EXPECT_EQ(got.platform_digests[0].str(), k_amd64);
    EXPECT_EQ(got.platform_digests[1].str(), k_arm64);
    // One line is one image: nothing for the registry to confirm.
    EXPECT_TRUE(digest_from_ko_refs("registry.example.com/team/app@" + k_index + "\n",
                                    Reference::parse("registry.example.com/team/app"))
                    .platform_digests.empty());
}

TEST(DigestFromBuildxMetadata, ImagetoolsCreateWritesOnlyTheDescriptor) {
    auto file = [](const std::string& media_type, const std::string& digest) {
        return R"({"containerimage.descriptor": {"mediaType": ")" + media_type + R"(", "digest": ")" + digest +
               R"(", "size": 4654}, "image.name": "registry.example.com/team/app"})";
    };
    const std::string index = "application/vnd.oci.image.index.v1+json";
    const std::vector<Case> cases = {
        {"index", file(index, k_index), "", k_index, {}},
        {"docker manifest", file("application/vnd.docker.distribution.manifest.v2+json", k_amd64), "", k_amd64, {}},
        {"config, not a manifest",
         file("application/vnd.oci.image.config.v1+json", k_config),
         "",
         "",
         {"--from-buildx-metadata", "containerimage.descriptor", "application/vnd.oci.image.config.v1+json",
          "not an image manifest or index"}},
        {"no media type",
         R"({"containerimage.descriptor": {"digest": ")" + k_index + R"("}})",
         "",
         "",
         {"containerimage.descriptor", "no \"mediaType\""}},
        {"no digest",
         R"({"containerimage.descriptor": {"mediaType": ")" + index + R"("}})",
         "",
         "",
         {"containerimage.descriptor", "no \"digest\""}},
        {"bad digest", file(index, "sha256:12"), "", "", {"containerimage.descriptor.digest", "not a valid digest"}},
    };
    run_cases(cases, digest_from_buildx_metadata, "buildx-metadata");
    CapturedDigest got = digest_from_buildx_metadata(file(index, k_index), Reference::parse("registry.example.com/team/app"));
    EXPECT_EQ(got.media_type, index);
    EXPECT_EQ(got.size, 4654);
}

TEST(DigestFromDigestFile, EmptyFileNamesBothCauses) {
    // Issue 6 (capture e): buildah leaves an empty digest file and exits 0 when the push itself failed.
    run_cases({{"empty", "", "", "", {"the push failed", "exit 0", "manifest push", "--all"}}},
              ignore_image(digest_from_digest_file), "digest-file");
}

// Issue 6 #15/#16/#17: build-tool JSON is parsed strictly, and every failure names the flag (exit 2).
TEST(CaptureSourcesJson, AmbiguousOrHostileJsonIsRefused) {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    const std::string jib_prefix = R"({"image":"registry.example.com/team/app","imageDigest":")" + k_amd64 + "\"";
    const std::vector<Case> jib_cases = {
        {"deep", deep, "", "", {"--from-jib: not valid JSON", "nested deeper than"}},
        {"number overflow", jib_prefix + R"(, "size": 1e400})", "", "", {"--from-jib: not valid JSON", "number overflow"}},
        {"duplicate key",
         jib_prefix + R"(, "imageDigest": ")" + k_other + "\"}",
         "",
         "",
         {"--from-jib: duplicate key \"imageDigest\""}},
        {"NUL then garbage", jib_prefix + "}" + std::string(1, '\0') + "garbage", "", "", {"--from-jib", "NUL byte"}},
        {"garbage after", jib_prefix + "} {}", "", "", {"--from-jib: not valid JSON"}},
    };
    run_cases(jib_cases, digest_from_jib, "jib");
    const std::vector<Case> buildx_cases = {
        {"nested duplicate",
         R"({"t": {"containerimage.digest": ")" + k_index + R"(", "containerimage.digest": ")" + k_other +
             R"(", "image.name": "registry.example.com/team/app"}})",
         "",
         "",
         {"--from-buildx-metadata: duplicate key \"t.containerimage.digest\""}},
    };
    run_cases(buildx_cases, digest_from_buildx_metadata, "buildx-metadata");
    const std::vector<Case> kaniko_cases = {
        {"duplicate in a JSON line",
         R"({"name":"registry.example.com/team/app","digest":")" + k_index + R"(","digest":")" + k_other + "\"}",
         "",
         "",
         {"--from-kaniko-image-refs line 1: duplicate key \"digest\""}},
    };
    run_cases(kaniko_cases, digest_from_kaniko_image_refs, "kaniko-image-refs");
}

// Every real build-tool output in the shared corpus, read as the tool reads it (read_text_file), through its
// parser. A corpus file without an expectation here fails the test, so a new sample cannot go unchecked.
TEST(CaptureSourcesCorpus, EveryBuildOutput) {
    using Parser = CapturedDigest (*)(const std::string&, const Reference&);
    struct Expectation {
        std::string file;
        Parser parse;
        std::string image;
        std::string digest;              // empty: refused
        std::vector<std::string> error;  // substrings of the refusal
    };
    const std::vector<Expectation> expectations = {
        // docker driver: nothing pushed, no image.name; the "digest" is the image ID.
        {"bake-actions-toolkit-docker-driver.json", digest_from_buildx_metadata, "registry.example.com/team/lint", "",
         {"no bake target pushed registry.example.com/team/lint", "lint"}},
        {"bake-doc-load.json", digest_from_buildx_metadata, "registry.example.com/team/db", "",
         {"no bake target pushed", "db", "webapp-dev"}},
        {"buildx-imagetools-create-doc.json", digest_from_buildx_metadata, "docker.io/user/app",
         "sha256:19ffeab6f8bc9293ac2c3fdf94ebe28396254c993aea0b5a542cfb02e0883fa3", {}},
        {"buildx-imagetools-create-doc.json", digest_from_buildx_metadata, "docker.io/user/other", "",
         {"the build pushed docker.io/user/app, not docker.io/user/other"}},
        {"jib-image-test.json", digest_from_jib, "gcr.io/project/image:tag",
         "sha256:3f1be7e19129edb202c071a659a4db35280ab2bb1a16f223bfd5d1948657b6fc", {}},
        {"ko-get-started.txt", digest_from_ko_refs,
         "registry.example.com/my-project/app-099ba5bcefdead87f92606265fb99ac0",
         "sha256:6e398316742b7aa4a93161dce4a23bc5c545700b862b43347b941000b112ec3e", {}},
        {"push-containerd-missing-content.log", digest_from_push_output, "docker.io/wierzbiks/nifi", "",
         {"no \"TAG: digest: sha256:... size: N\" line"}},
        {"push-doc-all-tags.log", digest_from_push_output, "registry-host:5000/myname/myimage:v1",
         "sha256:edafc0a0fb057813850d1ba44014914ca02d671ae247107ca70c94db686e7de6", {}},
        {"push-docker110-one-repo.log", digest_from_push_output, "127.0.0.1:5000/foo",
         "sha256:5078773e83537f85b38fd967fa70beaed8e1c124fa6beae4a7462926bb250c65", {}},
        // The defect: foo's digest used to be recorded for bar with exit 0.
        {"push-docker110-one-repo.log", digest_from_push_output, "127.0.0.1:5000/bar", "",
         {"pushed no image to 127.0.0.1:5000/bar"}},
        {"push-docker110-two-repos.log", digest_from_push_output, "127.0.0.1:5000/foo:latest",
         "sha256:5078773e83537f85b38fd967fa70beaed8e1c124fa6beae4a7462926bb250c65", {}},
        {"push-docker110-two-repos.log", digest_from_push_output, "127.0.0.1:5000/bar",
         "sha256:38953c0205fed076d67663b6b9690fba9a61bf8556bbe7a8ba36d5d016904934", {}},
        {"push-fuzzbench-gcb.log", digest_from_push_output,
         "gcr.io/fuzzbench/runners/libafl/openthread_ot-ip6-send-fuzzer-intermediate",
         "sha256:a8ab5b64ec58f52e3a5f67f05b24bc5235f77648761f3bd1eb6a0b64fb6949ec", {}},
        {"push-openwisp-travis.log", digest_from_push_output,
         "registry.gitlab.com/openwisp/docker-openwisp/openwisp-nginx",
         "sha256:0384542f9927729b27decde971e60e19f3f7e6f94690e699693d69fc3345a480", {}},
        {"push-openwisp-travis.log", digest_from_push_output,
         "registry.gitlab.com/openwisp/docker-openwisp/openwisp-openvpn", "",
         {"pushed no image to registry.gitlab.com/openwisp/docker-openwisp/openwisp-openvpn"}},
    };
    const std::string dir = std::string(DIGESTFLOW_CORPUS_DIR) + "/build-outputs";
    std::set<std::string> covered;
    for (const auto& e : expectations) {
        SCOPED_TRACE(e.file + " --image " + e.image);
        covered.insert(e.file);
        const std::string text = read_text_file(dir + "/" + e.file, "corpus");
        run_cases({{e.file, text, e.image, e.digest, e.error}},
                  [&](const std::string& t, const Reference& image) { return e.parse(t, image); },
                  e.parse == digest_from_buildx_metadata ? "buildx-metadata"
                  : e.parse == digest_from_jib           ? "jib"
                  : e.parse == digest_from_ko_refs       ? "ko-refs"
                                                         : "push-output");
    }
    for (const auto& entry : std::filesystem::directory_iterator(dir))
        EXPECT_TRUE(covered.count(entry.path().filename().string()))
            << entry.path() << " has no expectation in this test";
}

// Issue 6 (capture b): a push log saved by Windows PowerShell 5.1 (UTF-16LE with a BOM) and a digest file
// with a UTF-8 BOM are read through the shared decoding step, then parsed as usual.
TEST(CaptureSourcesCorpus, EncodedFilesAreDecodedFirst) {
    const std::string dir = std::string(DIGESTFLOW_CORPUS_DIR) + "/build-outputs";
    const std::string log = read_text_file(dir + "/push-doc-all-tags.log", "corpus");
    std::string utf16le = "\xFF\xFE", utf16be = "\xFE\xFF";
    for (char c : log) {
        utf16le += c, utf16le += '\0';
        utf16be += '\0', utf16be += c;
    }
    const std::string expected = "sha256:edafc0a0fb057813850d1ba44014914ca02d671ae247107ca70c94db686e7de6";
    const Reference image = Reference::parse("registry-host:5000/myname/myimage");
    EXPECT_EQ(digest_from_push_output(decode_text(utf16le, "log"), image).digest.str(), expected);
    EXPECT_EQ(digest_from_push_output(decode_text(utf16be, "log"), image).digest.str(), expected);
    EXPECT_EQ(digest_from_digest_file(decode_text("\xEF\xBB\xBF" + k_index + "\n", "d")).digest.str(), k_index);
    EXPECT_EQ(digest_from_ko_refs(decode_text("\xEF\xBB\xBFregistry.example.com/team/app@" + k_index + "\n", "k"),
                                  Reference::parse("registry.example.com/team/app"))
                  .digest.str(),
              k_index);
}

// A name that is in the file but cannot be read used to count as "names nothing", so the digest was taken for
// --image whatever the file said (the same trap the push-log repository lines had).
TEST(CaptureSourcesNames, UnreadableImageNameIsRefusedNotSkipped) {
    auto buildx = [](const std::string& name) {
        return R"({"containerimage.digest": ")" + k_index + R"(", "image.name": )" + name + "}";
    };
    const std::vector<Case> buildx_cases = {
        {"uppercase path: another image", buildx(R"("other.example.com/Team/App:1")"), "", "",
         {"--from-buildx-metadata", "\"image.name\" entry \"other.example.com/Team/App:1\"",
          "not an image reference", "--digest"}},
        {"blank", buildx(R"("  ")"), "", "", {"\"image.name\" entry \"\"", "not an image reference"}},
        {"one readable, one not", buildx(R"("registry.example.com/team/app:1,Bad Name")"), "", "",
         {"\"Bad Name\""}},
        {"not a string", buildx(R"(["registry.example.com/team/app"])"), "", "",
         {"\"image.name\" is not a string"}},
        {"readable names still work", buildx(R"("registry.example.com/team/app:1, registry.example.com/team/app:2")"),
         "", k_index, {}},
    };
    run_cases(buildx_cases, digest_from_buildx_metadata, "buildx-metadata");

    auto jib = [](const std::string& image) {
        return R"({"image":)" + image + R"(,"imageDigest":")" + k_amd64 + R"(","imagePushed":true})";
    };
    const std::vector<Case> jib_cases = {
        {"uppercase path", jib(R"("gcr.io/Project/Image:tag")"), "", "",
         {"--from-jib", "\"image\" \"gcr.io/Project/Image:tag\"", "not an image reference", "--digest"}},
        {"not a string", jib("42"), "", "", {"--from-jib", "\"image\" (not a string)"}},
        {"readable", jib(R"("registry.example.com/team/app:1")"), "", k_amd64, {}},
    };
    run_cases(jib_cases, digest_from_jib, "jib");
}

// The size used to be read up to the first non-digit and cut off at 2^50: "12abc" recorded 12 and a 23-digit
// size a 16-digit prefix. Only a whole number is kept; the digest itself is unaffected.
TEST(DigestFromPushOutput, SizeThatIsNotAWholeNumberIsNotRecorded) {
    auto size_of = [](const std::string& size) {
        return digest_from_push_output("The push refers to repository [registry.example.com/team/app]\n"
                                       "latest: digest: " + k_index + " size: " + size + "\n",
                                       Reference::parse("registry.example.com/team/app"))
            .size;
    };
    EXPECT_EQ(size_of("12abc"), std::nullopt);
    EXPECT_EQ(size_of("99999999999999999999999"), std::nullopt);
    EXPECT_EQ(size_of("1781"), 1781);
    EXPECT_EQ(size_of("1781 "), 1781);
}
