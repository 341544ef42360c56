// parse_manifest over hand-written OCI and Docker documents: what it extracts from image manifests, indexes and
// referrers, how it settles the media type, and the inputs it must refuse as Error(Usage) naming the field.
#include "digestflow/manifest.hpp"

#include "digestflow/error.hpp"
#include "digestflow/media_types.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <ostream>
#include <string>
#include <vector>

namespace digestflow {
namespace {

namespace mt = media_types;

const std::string what = "registry.example.com/team/app:1.0";

// sha256 of short words, so every digest in the documents below is well formed and distinct.
const std::string config_digest = "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910";
const std::string layer1_digest = "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2";
const std::string layer2_digest = "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06";
const std::string amd64_digest = "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51";
const std::string arm64_digest = "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265";
const std::string attest_digest = "sha256:bcc7930764b9b7a8b9bbd0161b568e869466d0c4efaee8006a56f3e8e6d82b69";
const std::string subject_digest = "sha256:a9491f4c1bf7b0cffbadcba2db8f028e4b3f2867cb59e1f3a0bc1968f3c51242";
const std::string empty_digest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

const std::string oci_image = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910",
    "size": 1472
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2",
      "size": 3408729
    },
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06",
      "size": 32
    }
  ],
  "annotations": {
    "org.opencontainers.image.created": "2024-05-01T10:00:00Z",
    "org.opencontainers.image.source": "https://git.example.com/team/app"
  }
})";

// The same image without mediaType: OCI allows it, the Content-Type or the shape decides.
const std::string oci_image_bare = R"({
  "schemaVersion": 2,
  "config": {
    "mediaType": "application/vnd.oci.image.config.v1+json",
    "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910",
    "size": 1472
  },
  "layers": [
    {
      "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
      "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2",
      "size": 3408729
    }
  ]
})";

const std::string docker_image = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
   "config": {
      "mediaType": "application/vnd.docker.container.image.v1+json",
      "size": 7023,
      "digest": "sha256:b79606fb3afea5bd1609ed40b622142f1c98125abcfe89a76a661b0e8e343910"
   },
   "layers": [
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 32654,
         "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2"
      },
      {
         "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
         "size": 16724,
         "digest": "sha256:95cf1a2e1698fe3ca1fcc3f653119146b271d0b62e487ec264441e886a11bd06"
      }
   ]
})";

// A buildx-style index: two platforms and an attestation manifest for the amd64 child.
const std::string oci_index = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.index.v1+json",
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
      "size": 1049,
      "platform": { "architecture": "amd64", "os": "linux" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265",
      "size": 1049,
      "platform": { "architecture": "arm64", "os": "linux", "variant": "v8" }
    },
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:bcc7930764b9b7a8b9bbd0161b568e869466d0c4efaee8006a56f3e8e6d82b69",
      "size": 566,
      "annotations": {
        "vnd.docker.reference.digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
        "vnd.docker.reference.type": "attestation-manifest"
      },
      "platform": { "architecture": "unknown", "os": "unknown" }
    }
  ]
})";

const std::string oci_index_bare = R"({
  "schemaVersion": 2,
  "manifests": [
    {
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
      "size": 1049,
      "platform": { "architecture": "amd64", "os": "linux" }
    }
  ]
})";

const std::string docker_list = R"({
   "schemaVersion": 2,
   "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
   "manifests": [
      {
         "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "size": 528,
         "digest": "sha256:5861314d7fccb39c2192173240eab44fa35ca66426201ca2acd0630a6258dd51",
         "platform": { "architecture": "amd64", "os": "linux" }
      },
      {
         "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "size": 528,
         "digest": "sha256:f69162950f235e3cdbbad33f1f912d1a504be90d8a37d002c735d6f3e3882265",
         "platform": { "architecture": "arm", "os": "linux", "variant": "v7" }
      }
   ]
})";

// An OCI 1.1 referrer: empty config, an SBOM layer and the image it refers to.
const std::string sbom_referrer = R"({
  "schemaVersion": 2,
  "mediaType": "application/vnd.oci.image.manifest.v1+json",
  "artifactType": "application/spdx+json",
  "config": {
    "mediaType": "application/vnd.oci.empty.v1+json",
    "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
    "size": 2,
    "data": "e30="
  },
  "layers": [
    {
      "mediaType": "application/spdx+json",
      "digest": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2",
      "size": 8124
    }
  ],
  "subject": {
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "digest": "sha256:a9491f4c1bf7b0cffbadcba2db8f028e4b3f2867cb59e1f3a0bc1968f3c51242",
    "size": 1049
  }
})";

// A signed schema1 manifest as old registries still serve it.
const std::string schema1_signed = R"({
   "schemaVersion": 1,
   "name": "team/app",
   "tag": "1.0",
   "architecture": "amd64",
   "fsLayers": [
      { "blobSum": "sha256:77ea7eee3d80b1a38f83906dd3048e2689457eb90e18a7d12f839c5ae37106a2" }
   ],
   "history": [ { "v1Compatibility": "{\"id\":\"e45a5af57b00\"}" } ],
   "signatures": [
      {
         "header": { "jwk": { "crv": "P-256", "kty": "EC" }, "alg": "ES256" },
         "signature": "XREm0L8WNn27Ga_iE_vRnTxVMhhYY0Zst_FfkKopg6gWSoTOZTuW4rK0fg_IqnKkEKlbD83tD46LKEGi5aIVFg",
         "protected": "eyJmb3JtYXRMZW5ndGgiOjY2MjgsImZvcm1hdFRhaWwiOiJDbjBLIn0"
      }
   ]
})";

// Derives a variant of a fixture; the first occurrence is replaced. Runs during static initialisation, so a
// broken fixture throws rather than reporting through gtest.
std::string replace(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    if (at == std::string::npos) throw std::logic_error("fixture does not contain " + from);
    return text.replace(at, from.size(), to);
}

DIGESTFLOW_LABELLED_CASES()

// ---- documents that parse ----

struct OkCase {
    std::string label;
    std::string body;
    std::string content_type;
    std::string media_type;
    std::optional<std::string> config;
    std::vector<std::string> layers;
    std::vector<std::string> children;
    std::optional<std::string> subject;
};

class ParseOk : public testing::TestWithParam<OkCase> {};

TEST_P(ParseOk, ExtractsTypeAndDescriptors) {
    const auto& c = GetParam();
    Manifest m = parse_manifest(c.body, c.content_type, what);
    EXPECT_EQ(m.media_type, c.media_type);
    EXPECT_EQ(m.is_index(), mt::is_index(c.media_type));
    ASSERT_EQ(m.config.has_value(), c.config.has_value());
    if (c.config) {
        EXPECT_EQ(m.config->digest.str(), *c.config);
    }
    std::vector<std::string> layers;
    for (const auto& d : m.layers) layers.push_back(d.digest.str());
    EXPECT_EQ(layers, c.layers);
    std::vector<std::string> children;
    for (const auto& d : m.manifests) children.push_back(d.digest.str());
    EXPECT_EQ(children, c.children);
    ASSERT_EQ(m.subject.has_value(), c.subject.has_value());
    if (c.subject) {
        EXPECT_EQ(m.subject->digest.str(), *c.subject);
    }
}

const std::string oci_m(mt::oci_manifest);
const std::string oci_i(mt::oci_index);
const std::string docker_m(mt::docker_manifest);
const std::string docker_l(mt::docker_list);

const std::vector<std::string> two_layers = {layer1_digest, layer2_digest};
const std::vector<std::string> platforms = {amd64_digest, arm64_digest, attest_digest};

const std::vector<OkCase> ok_cases = {
    {"oci_image", oci_image, oci_m, oci_m, config_digest, two_layers, {}, std::nullopt},
    {"oci_image_without_content_type", oci_image, "", oci_m, config_digest, two_layers, {}, std::nullopt},
    {"content_type_with_charset", oci_image, oci_m + "; charset=utf-8", oci_m, config_digest, two_layers, {},
     std::nullopt},
    {"content_type_with_spaces", oci_image, "  " + oci_m + " ;q=1", oci_m, config_digest, two_layers, {},
     std::nullopt},
    {"docker_image", docker_image, docker_m, docker_m, config_digest, two_layers, {}, std::nullopt},
    {"oci_index", oci_index, oci_i, oci_i, std::nullopt, {}, platforms, std::nullopt},
    {"oci_index_content_type_parameters", oci_index, oci_i + "; charset=utf-8", oci_i, std::nullopt, {},
     platforms, std::nullopt},
    {"docker_list", docker_list, docker_l, docker_l, std::nullopt, {}, {amd64_digest, arm64_digest},
     std::nullopt},
    // mediaType absent: the Content-Type decides...
    {"bare_image_typed_by_header", oci_image_bare, oci_m, oci_m, config_digest, {layer1_digest}, {},
     std::nullopt},
    {"bare_image_docker_header", oci_image_bare, docker_m, docker_m, config_digest, {layer1_digest}, {},
     std::nullopt},
    {"bare_index_typed_by_header", oci_index_bare, oci_i, oci_i, std::nullopt, {}, {amd64_digest},
     std::nullopt},
    // ...and without either, the shape does.
    {"bare_image_by_shape", oci_image_bare, "", oci_m, config_digest, {layer1_digest}, {}, std::nullopt},
    {"bare_index_by_shape", oci_index_bare, "", oci_i, std::nullopt, {}, {amd64_digest}, std::nullopt},
    {"bare_index_by_shape_header_only_parameters", oci_index_bare, "; charset=utf-8", oci_i, std::nullopt, {},
     {amd64_digest}, std::nullopt},
    {"sbom_referrer_with_subject", sbom_referrer, oci_m, oci_m, empty_digest, {layer1_digest}, {},
     subject_digest},
    {"index_with_subject",
     replace(oci_index_bare, R"("schemaVersion": 2,)",
             R"("schemaVersion": 2, "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": ")" + subject_digest + R"(", "size": 7},)"),
     oci_i, oci_i, std::nullopt, {}, {amd64_digest}, subject_digest},
    {"image_without_layers_key", replace(oci_image_bare, R"("layers")", R"("x-layers")"), oci_m, oci_m,
     config_digest, {}, {}, std::nullopt},
    {"empty_index", R"({"schemaVersion":2,"mediaType":")" + oci_i + R"(","manifests":[]})", oci_i, oci_i,
     std::nullopt, {}, {}, std::nullopt},
    {"index_without_manifests_key", R"({"schemaVersion":2,"mediaType":")" + oci_i + R"("})", "", oci_i,
     std::nullopt, {}, {}, std::nullopt},
    // Unknown fields are ignored rather than refused.
    {"unknown_fields_ignored",
     replace(oci_image, R"("schemaVersion": 2,)", R"("schemaVersion": 2, "x-vendor": {"a": [1, 2]},)"), oci_m,
     oci_m, config_digest, two_layers, {}, std::nullopt},
    {"sha512_layer",
     replace(oci_image, layer2_digest, "sha512:" + std::string(128, 'c')), oci_m, oci_m, config_digest,
     {layer1_digest, "sha512:" + std::string(128, 'c')}, {}, std::nullopt},
    // schemaVersion only matters as the schema1 marker: any other value is left alone.
    {"schema_version_string_ignored", replace(oci_image, R"("schemaVersion": 2)", R"("schemaVersion": "2")"), oci_m,
     oci_m, config_digest, two_layers, {}, std::nullopt},
    {"schema_version_missing", replace(oci_image, R"("schemaVersion": 2,)", ""), oci_m, oci_m, config_digest,
     two_layers, {}, std::nullopt},
};

INSTANTIATE_TEST_SUITE_P(Documents, ParseOk, testing::ValuesIn(ok_cases), label_of<OkCase>);

// ---- documents that must be refused ----

struct BadCase {
    std::string label;
    std::string body;
    std::string content_type;
    std::vector<std::string> error;  // every one must appear in the message
};

class ParseBad : public testing::TestWithParam<BadCase> {};

TEST_P(ParseBad, ThrowsUsageNamingTheProblem) {
    const auto& c = GetParam();
    try {
        Manifest m = parse_manifest(c.body, c.content_type, what);
        FAIL() << "accepted as " << m.media_type;
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << message;
        for (const auto& part : c.error) {
            EXPECT_NE(message.find(part), std::string::npos) << "want \"" << part << "\" in: " << message;
        }
        // The reference leads so the user knows which image was refused.
        EXPECT_EQ(message.rfind(what, 0), 0u) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    } catch (const std::exception& e) {
        // Anything else maps to the wrong exit code at the top of the tool.
        FAIL() << "threw something other than digestflow::Error: " << e.what();
    }
}

const std::vector<BadCase> bad_cases = {
    // The spec: a body whose mediaType contradicts the Content-Type is rejected.
    {"oci_body_docker_header", oci_image, docker_m, {"Content-Type " + docker_m, "mediaType is " + oci_m}},
    {"image_body_index_header", oci_image, oci_i, {"Content-Type " + oci_i, "mediaType is " + oci_m}},
    {"index_body_image_header", oci_index, oci_m + "; charset=utf-8",
     {"Content-Type " + oci_m + " for", "mediaType is " + oci_i}},
    {"docker_list_body_oci_index_header", docker_list, oci_i, {"Content-Type " + oci_i, docker_l}},
    {"header_text_plain_body_typed", oci_image, "text/plain", {"Content-Type text/plain"}},

    // schema1, by Content-Type (before the body is even looked at)...
    {"schema1_signed_by_content_type", schema1_signed, std::string(mt::docker_schema1_signed), {"schema1"}},
    {"schema1_by_content_type", schema1_signed, std::string(mt::docker_schema1), {"schema1"}},
    {"schema1_content_type_with_parameters", "not json at all", std::string(mt::docker_schema1) + "; q=1",
     {"schema1", std::string(mt::docker_schema1)}},
    {"schema1_as_plain_json", schema1_signed, "application/json; charset=utf-8", {"schema1", "application/json"}},
    // ...and by schemaVersion 1 in the body.
    {"schema1_by_schema_version_no_header", schema1_signed, "", {"schema1"}},
    {"schema1_by_schema_version_oci_header", schema1_signed, oci_m, {"schema1"}},
    {"oci_image_with_schema_version_1", replace(oci_image, R"("schemaVersion": 2)",
                                                             R"("schemaVersion": 1)"),
     oci_m, {"schema1"}},

    // Not a JSON object.
    {"html_error_page", "<html><body>502 Bad Gateway</body></html>", oci_m, {"not a JSON object"}},
    {"empty_body", "", oci_m, {"not a JSON object"}},
    {"json_array", "[" + oci_image + "]", oci_m, {"not a JSON object"}},
    {"json_string", R"("manifest")", "", {"not a JSON object"}},
    {"truncated", oci_image.substr(0, oci_image.size() / 2), oci_m, {"not a JSON object"}},

    // Types we do not handle.
    {"artifact_manifest_type",
     replace(oci_image, oci_m, "application/vnd.oci.artifact.manifest.v1+json"), "",
     {"unsupported manifest media type application/vnd.oci.artifact.manifest.v1+json"}},
    {"header_type_unknown_body_bare", oci_image_bare, "text/plain", {"unsupported manifest media type text/plain"}},
    {"config_type_as_manifest", oci_image_bare, std::string(mt::oci_config), {"unsupported manifest media type"}},

    // Structure.
    {"image_without_config", replace(oci_image_bare, R"("config")", R"("x-config")"), oci_m,
     {"no config descriptor"}},
    {"config_null", replace(oci_image, R"("config": {)", R"("config": null, "x": {)"), oci_m,
     {"manifest field config is not an object"}},
    {"config_array", replace(oci_image, R"("config": {)", R"("config": [], "x": {)"), oci_m,
     {"manifest field config is not an object"}},
    {"layers_not_array", R"({"schemaVersion":2,"config":{"digest":")" + config_digest + R"(","size":1},"layers":{}})", oci_m,
     {"manifest field layers is not an array"}},
    {"manifests_not_array", R"({"schemaVersion":2,"mediaType":")" + oci_i + R"(","manifests":"none"})", "",
     {"manifest field manifests is not an array"}},
    {"child_not_object", R"({"schemaVersion":2,"manifests":[")" + amd64_digest + R"("]})", "",
     {"manifest field manifests[0] is not an object"}},

    // Invalid descriptor digests name the field and carry go-digest's reason.
    {"config_digest_md5", replace(oci_image, config_digest, "md5:d41d8cd98f00b204e9800998ecf8427e"), oci_m,
     {"manifest field config.digest", "unsupported digest algorithm"}},
    {"second_layer_uppercase_hex",
     replace(oci_image, layer2_digest, "sha256:95CF1A2E1698FE3CA1FCC3F653119146B271D0B62E487EC264441E886A11BD06"),
     oci_m, {"manifest field layers[1].digest", "invalid checksum digest format"}},
    {"first_layer_digest_missing",
     replace(oci_image, R"("digest": ")" + layer1_digest + R"(",)", ""), oci_m,
     {"manifest field layers[0].digest"}},
    {"child_digest_short", replace(oci_index, arm64_digest, arm64_digest.substr(0, 70)), oci_i,
     {"manifest field manifests[1].digest", "invalid checksum digest length"}},
    {"child_digest_no_algorithm", replace(oci_index, attest_digest, attest_digest.substr(7)), oci_i,
     {"manifest field manifests[2].digest", "invalid checksum digest format"}},
    {"subject_digest_invalid", replace(sbom_referrer, subject_digest, "sha256:"), oci_m,
     {"manifest field subject.digest"}},
    {"subject_not_object", replace(sbom_referrer, R"("subject": {)", R"("subject": "x", "y": {)"), oci_m,
     {"manifest field subject is not an object"}},

    // Fields of the wrong JSON type are refused as bad input like any other malformed manifest.
    {"media_type_number", replace(oci_image, R"("mediaType": ")" + oci_m + R"(")", R"("mediaType": 2)"), "",
     {"manifest field mediaType"}},
    {"config_digest_number", replace(oci_image, R"(")" + config_digest + R"(")", "42"), oci_m,
     {"manifest field config.digest"}},
    {"layer_media_type_object",
     replace(docker_image, R"("application/vnd.docker.image.rootfs.diff.tar.gzip")", "{}"), docker_m,
     {"manifest field layers[0].mediaType"}},
    {"platform_os_number", replace(docker_list, R"("os": "linux")", R"("os": 7)"), docker_l,
     {"manifest field manifests[0].platform.os"}},
    {"artifact_type_array", replace(oci_index, R"("size": 566,)", R"("size": 566, "artifactType": [],)"), oci_i,
     {"manifest field manifests[2].artifactType"}},

    // Sizes bound every read: each descriptor needs one, a whole number of bytes that fits int64.
    {"config_size_missing", replace(oci_image, R"("size": 1472)", R"("x-size": 1472)"), oci_m,
     {"manifest field config.size is missing"}},
    {"config_size_null", replace(oci_image, R"("size": 1472)", R"("size": null)"), oci_m,
     {"manifest field config.size is missing"}},
    {"layer_size_negative", replace(oci_image, R"("size": 32)", R"("size": -1)"), oci_m,
     {"manifest field layers[1].size is \"-1\"", "whole number"}},
    {"layer_size_missing", replace(docker_image, R"("size": 32654,)", ""), docker_m,
     {"manifest field layers[0].size is missing"}},
    {"child_size_negative", replace(oci_index, R"("size": 1049,)", R"("size": -1049,)"), oci_i,
     {"manifest field manifests[0].size", "-1049"}},
    {"child_size_missing", replace(docker_list, R"("size": 528,)", ""), docker_l,
     {"manifest field manifests[0].size is missing"}},
    {"subject_size_missing", replace(sbom_referrer, R"("size": 1049)", R"("x-size": 1049)"), oci_m,
     {"manifest field subject.size is missing"}},
    {"size_fraction", replace(oci_image, R"("size": 32)", R"("size": 32.5)"), oci_m,
     {"manifest field layers[1].size is \"32.5\""}},
    {"size_whole_float", replace(oci_image, R"("size": 32)", R"("size": 32.0)"), oci_m,
     {"manifest field layers[1].size"}},
    {"size_exponent", replace(oci_image, R"("size": 32)", R"("size": 1e3)"), oci_m, {"manifest field layers[1].size"}},
    {"size_string", replace(oci_image, R"("size": 1472)", R"("size": "1472")"), oci_m,
     {"manifest field config.size", "whole number"}},
    {"size_bool", replace(oci_image, R"("size": 1472)", R"("size": true)"), oci_m, {"manifest field config.size"}},
    {"size_beyond_int64", replace(oci_image, R"("size": 32)", R"("size": 9223372036854775808)"), oci_m,
     {"manifest field layers[1].size", "9223372036854775808"}},
    {"size_beyond_uint64", replace(oci_image, R"("size": 32)", R"("size": 18446744073709551616)"), oci_m,
     {"manifest field layers[1].size"}},
    {"size_far_below_int64", replace(oci_image, R"("size": 32)", R"("size": -9223372036854775809)"), oci_m,
     {"manifest field layers[1].size"}},
};

INSTANTIATE_TEST_SUITE_P(Documents, ParseBad, testing::ValuesIn(bad_cases), label_of<BadCase>);

// ---- descriptor details ----

TEST(ManifestDescriptors, ImageKeepsSizesAndMediaTypes) {
    Manifest m = parse_manifest(oci_image, oci_m, what);
    ASSERT_TRUE(m.config);
    EXPECT_EQ(m.config->media_type, mt::oci_config);
    EXPECT_EQ(m.config->size, 1472);
    EXPECT_FALSE(m.config->platform);
    ASSERT_EQ(m.layers.size(), 2u);
    EXPECT_EQ(m.layers[0].media_type, "application/vnd.oci.image.layer.v1.tar+gzip");
    EXPECT_EQ(m.layers[0].size, 3408729);
    EXPECT_EQ(m.layers[1].size, 32);
    EXPECT_TRUE(m.manifests.empty());
    EXPECT_FALSE(m.subject);
}

TEST(ManifestDescriptors, SizeBeyondThirtyTwoBits) {
    // Layers of several GiB exist; size is int64 in the spec.
    Manifest m = parse_manifest(replace(oci_image, R"("size": 3408729)", R"("size": 8589934592)"), oci_m, what);
    ASSERT_EQ(m.layers.size(), 2u);
    EXPECT_EQ(m.layers[0].size, 8589934592LL);
}

TEST(ManifestDescriptors, SizeBoundsAreInclusive) {
    // 0 is a real size (an empty layer); the int64 maximum is the largest one the spec allows.
    Manifest m = parse_manifest(replace(replace(oci_image, R"("size": 1472)", R"("size": 0)"), R"("size": 32)",
                                        R"("size": 9223372036854775807)"),
                                oci_m, what);
    ASSERT_TRUE(m.config);
    EXPECT_EQ(m.config->size, 0);
    ASSERT_EQ(m.layers.size(), 2u);
    EXPECT_EQ(m.layers[1].size, std::numeric_limits<std::int64_t>::max());
}

TEST(ManifestDescriptors, BlobsListConfigFirstThenLayersInOrder) {
    Manifest m = parse_manifest(docker_image, docker_m, what);
    auto blobs = m.blobs();
    ASSERT_EQ(blobs.size(), 3u);
    EXPECT_EQ(blobs[0].digest.str(), config_digest);
    EXPECT_EQ(blobs[0].media_type, mt::docker_config);
    EXPECT_EQ(blobs[0].size, 7023);
    EXPECT_EQ(blobs[1].digest.str(), layer1_digest);
    EXPECT_EQ(blobs[2].digest.str(), layer2_digest);
}

TEST(ManifestDescriptors, IndexHasNoBlobs) {
    Manifest m = parse_manifest(oci_index, oci_i, what);
    EXPECT_TRUE(m.is_index());
    EXPECT_FALSE(m.config);
    EXPECT_TRUE(m.blobs().empty());
}

TEST(ManifestDescriptors, IndexChildrenCarryPlatforms) {
    Manifest m = parse_manifest(oci_index, oci_i, what);
    ASSERT_EQ(m.manifests.size(), 3u);

    const auto& amd64 = m.manifests[0];
    EXPECT_EQ(amd64.media_type, mt::oci_manifest);
    EXPECT_EQ(amd64.size, 1049);
    ASSERT_TRUE(amd64.platform);
    EXPECT_EQ(amd64.platform->os, "linux");
    EXPECT_EQ(amd64.platform->architecture, "amd64");
    EXPECT_EQ(amd64.platform->variant, "");

    const auto& arm64 = m.manifests[1];
    ASSERT_TRUE(arm64.platform);
    EXPECT_EQ(arm64.platform->architecture, "arm64");
    EXPECT_EQ(arm64.platform->variant, "v8");

    // Attestation manifests are children too, with the unknown/unknown platform buildx gives them.
    const auto& attestation = m.manifests[2];
    EXPECT_EQ(attestation.digest.str(), attest_digest);
    ASSERT_TRUE(attestation.platform);
    EXPECT_EQ(attestation.platform->os, "unknown");
    EXPECT_EQ(attestation.platform->architecture, "unknown");
}

TEST(ManifestDescriptors, DockerListChildVariant) {
    Manifest m = parse_manifest(docker_list, docker_l, what);
    ASSERT_EQ(m.manifests.size(), 2u);
    EXPECT_EQ(m.manifests[1].media_type, mt::docker_manifest);
    ASSERT_TRUE(m.manifests[1].platform);
    EXPECT_EQ(m.manifests[1].platform->architecture, "arm");
    EXPECT_EQ(m.manifests[1].platform->variant, "v7");
}

TEST(ManifestDescriptors, ChildWithoutPlatform) {
    Manifest m = parse_manifest(oci_index_bare, "", what);
    ASSERT_EQ(m.manifests.size(), 1u);
    EXPECT_TRUE(m.manifests[0].platform);
    Manifest no_platform = parse_manifest(replace(oci_index_bare, R"("platform")", R"("x-platform")"), "", what);
    ASSERT_EQ(no_platform.manifests.size(), 1u);
    EXPECT_FALSE(no_platform.manifests[0].platform);
}

TEST(ManifestDescriptors, ReferrerSubjectAndArtifactType) {
    Manifest m = parse_manifest(sbom_referrer, oci_m, what);
    ASSERT_TRUE(m.subject);
    EXPECT_EQ(m.subject->media_type, mt::oci_manifest);
    EXPECT_EQ(m.subject->size, 1049);
    ASSERT_TRUE(m.config);
    EXPECT_EQ(m.config->media_type, "application/vnd.oci.empty.v1+json");
    EXPECT_EQ(m.config->size, 2);
    ASSERT_EQ(m.layers.size(), 1u);
    EXPECT_EQ(m.layers[0].media_type, "application/spdx+json");
}

TEST(ManifestDescriptors, ChildArtifactTypeKept) {
    Manifest m = parse_manifest(
        replace(oci_index, R"("size": 566,)", R"("size": 566, "artifactType": "application/vnd.in-toto+json",)"),
        oci_i, what);
    ASSERT_EQ(m.manifests.size(), 3u);
    EXPECT_EQ(m.manifests[2].artifact_type, "application/vnd.in-toto+json");
    EXPECT_EQ(m.manifests[0].artifact_type, "");
}

TEST(ManifestMediaType, BodyWinsWhenHeaderAgreesWithParameters) {
    // The stored type never carries the header's parameters.
    Manifest m = parse_manifest(oci_image_bare, oci_m + "; charset=utf-8", what);
    EXPECT_EQ(m.media_type, oci_m);
}

TEST(ManifestMediaType, ErrorsUseTheGivenName) {
    try {
        parse_manifest("{}", oci_m, "localhost:5000/other@" + amd64_digest);
        FAIL() << "accepted an empty image manifest";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("localhost:5000/other@" + amd64_digest, 0), 0u) << e.what();
    }
}

}  // namespace
}  // namespace digestflow

namespace digestflow {
namespace {

// What a registry serves is parsed by the same strict rules as any input: a deep or ambiguous manifest is
// refused as invalid, never crashes the tool or lets two readers see two different documents.
TEST(ManifestStrictJson, DeepAndAmbiguousManifestsAreRefused) {
    std::string deep = R"({"schemaVersion":2,"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    EXPECT_THROW(parse_manifest(deep, "", "deep"), Error);
    std::string twice = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[],"manifests":[]})";
    try {
        parse_manifest(twice, "", "twice");
        FAIL() << "a manifest with a key given twice was accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_NE(std::string(e.what()).find("manifests"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace digestflow
