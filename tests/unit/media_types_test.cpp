// Media type classification, Content-Type parameter stripping and the manifest Accept header.
#include "digestflow/media_types.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace digestflow::media_types {
namespace {

DIGESTFLOW_LABELLED_CASES()

// ---- classification ----

struct ClassifyCase {
    std::string label;
    std::string type;
    bool index;
    bool image;
    bool schema1;
};

class Classify : public testing::TestWithParam<ClassifyCase> {};

TEST_P(Classify, EachPredicate) {
    const auto& c = GetParam();
    EXPECT_EQ(is_index(c.type), c.index);
    EXPECT_EQ(is_image_manifest(c.type), c.image);
    EXPECT_EQ(is_schema1(c.type), c.schema1);
    // A known manifest is exactly an index or an image manifest; schema1 never is.
    EXPECT_EQ(is_known_manifest(c.type), c.index || c.image);
}

const std::vector<ClassifyCase> classify_cases = {
    {"oci_index", std::string(oci_index), true, false, false},
    {"docker_list", std::string(docker_list), true, false, false},
    {"oci_manifest", std::string(oci_manifest), false, true, false},
    {"docker_manifest", std::string(docker_manifest), false, true, false},
    {"docker_schema1", std::string(docker_schema1), false, false, true},
    {"docker_schema1_signed", std::string(docker_schema1_signed), false, false, true},
    // Old registries serve schema1 as plain JSON.
    {"plain_json_is_schema1", "application/json", false, false, true},
    // Configs and layers are blobs, not manifests.
    {"oci_config", std::string(oci_config), false, false, false},
    {"docker_config", std::string(docker_config), false, false, false},
    {"oci_layer", "application/vnd.oci.image.layer.v1.tar+gzip", false, false, false},
    {"artifact_manifest_v1_dropped", "application/vnd.oci.artifact.manifest.v1+json", false, false, false},
    {"empty", "", false, false, false},
    // Callers strip parameters first; the predicates compare exactly.
    {"with_parameters_not_stripped", std::string(oci_manifest) + "; charset=utf-8", false, false, false},
    {"trailing_space_not_stripped", std::string(oci_index) + " ", false, false, false},
    {"text_plain", "text/plain", false, false, false},
};

INSTANTIATE_TEST_SUITE_P(Cases, Classify, testing::ValuesIn(classify_cases), label_of<ClassifyCase>);

TEST(MediaTypeConstants, HaveTheSpecValues) {
    // Pinned literally: a typo here would make every registry answer look unknown.
    EXPECT_EQ(oci_manifest, "application/vnd.oci.image.manifest.v1+json");
    EXPECT_EQ(oci_index, "application/vnd.oci.image.index.v1+json");
    EXPECT_EQ(docker_manifest, "application/vnd.docker.distribution.manifest.v2+json");
    EXPECT_EQ(docker_list, "application/vnd.docker.distribution.manifest.list.v2+json");
    EXPECT_EQ(docker_schema1, "application/vnd.docker.distribution.manifest.v1+json");
    EXPECT_EQ(docker_schema1_signed, "application/vnd.docker.distribution.manifest.v1+prettyjws");
    EXPECT_EQ(oci_config, "application/vnd.oci.image.config.v1+json");
    EXPECT_EQ(docker_config, "application/vnd.docker.container.image.v1+json");
}

// ---- strip_parameters ----

struct StripCase {
    std::string label;
    std::string input;
    std::string want;
};

class Strip : public testing::TestWithParam<StripCase> {};

TEST_P(Strip, RemovesParametersAndSpaces) { EXPECT_EQ(strip_parameters(GetParam().input), GetParam().want); }

const std::string oci_m(oci_manifest);

const std::vector<StripCase> strip_cases = {
    {"bare", oci_m, oci_m},
    {"charset", oci_m + "; charset=utf-8", oci_m},
    {"no_space_before_parameter", oci_m + ";charset=utf-8", oci_m},
    {"several_parameters", oci_m + "; charset=utf-8; profile=x", oci_m},
    {"space_before_semicolon", oci_m + " ; charset=utf-8", oci_m},
    {"leading_and_trailing_spaces", "  " + oci_m + "  ", oci_m},
    {"tabs", "\t" + oci_m + "\t; q=1", oci_m},
    {"empty", "", ""},
    {"only_spaces", "   ", ""},
    {"only_parameters", "; charset=utf-8", ""},
    {"space_then_parameters", "  ;x=y", ""},
    {"case_kept", "Application/JSON; charset=UTF-8", "Application/JSON"},
    {"inner_space_kept", "text/ plain", "text/ plain"},
};

INSTANTIATE_TEST_SUITE_P(Cases, Strip, testing::ValuesIn(strip_cases), label_of<StripCase>);

// ---- non-distributable layers ----

struct LayerCase {
    std::string label;
    std::string type;
    bool non_distributable;
};

class NonDistributable : public testing::TestWithParam<LayerCase> {};

TEST_P(NonDistributable, OnlyForeignAndNondistributableTypes) {
    EXPECT_EQ(is_non_distributable_layer(GetParam().type), GetParam().non_distributable);
}

const std::vector<LayerCase> layer_cases = {
    {"docker_foreign", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip", true},
    {"oci_nondistributable_tar", "application/vnd.oci.image.layer.nondistributable.v1.tar", true},
    {"oci_nondistributable_gzip", "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", true},
    {"oci_nondistributable_zstd", "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd", true},
    {"docker_layer", "application/vnd.docker.image.rootfs.diff.tar.gzip", false},
    {"oci_layer", "application/vnd.oci.image.layer.v1.tar+gzip", false},
    {"oci_config", std::string(oci_config), false},
    {"empty", "", false},
    {"prefix_only", "application/vnd.oci.image.layer.nondistributable", false},
};

INSTANTIATE_TEST_SUITE_P(Cases, NonDistributable, testing::ValuesIn(layer_cases), label_of<LayerCase>);

// ---- Accept header ----

std::vector<std::string> split_accept(const std::string& header) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        auto comma = header.find(", ", start);
        out.push_back(header.substr(start, comma - start));
        if (comma == std::string::npos) break;
        start = comma + 2;
    }
    return out;
}

TEST(AcceptHeader, ListsTheFourManifestTypesInOrder) {
    // Index types first so a registry that picks the first match hands back the whole list.
    std::vector<std::string> want = {std::string(oci_index), std::string(oci_manifest), std::string(docker_list),
                                     std::string(docker_manifest)};
    EXPECT_EQ(split_accept(manifest_accept_header()), want);
}

TEST(AcceptHeader, NeverAsksForSchema1) {
    const std::string header = manifest_accept_header();
    EXPECT_EQ(header.find(docker_schema1), std::string::npos) << header;
    EXPECT_EQ(header.find(docker_schema1_signed), std::string::npos) << header;
    EXPECT_EQ(header.find("application/json"), std::string::npos) << header;
}

TEST(AcceptHeader, EveryEntryIsAKnownManifestType) {
    for (const auto& type : split_accept(manifest_accept_header())) {
        EXPECT_TRUE(is_known_manifest(type)) << type;
    }
}

TEST(AcceptHeader, FitsOnOneHeaderLine) {
    const std::string header = manifest_accept_header();
    EXPECT_EQ(header.find_first_of("\r\n"), std::string::npos);
    EXPECT_NE(header.front(), ' ');
    EXPECT_NE(header.back(), ' ');
}

}  // namespace
}  // namespace digestflow::media_types
