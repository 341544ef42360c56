#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/operations/promote_list.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace digestflow::operations {
namespace {

const std::string digest = "sha256:" + std::string(64, 'a');
const std::string source = "registry.example.com/team/app@" + digest;

TEST(PromotionList, ReadsSourcesTagsAndDestinations) {
    std::string text = "# release 7\n\n"
                       R"({"source": ")" + source + R"(", "tags": ["1.0", "stable"], "to": "mirror.example.com/app:1.0"})" "\n"
                       R"({"source": ")" + source + R"(", "tag": "edge", "to": ["a.example.com/x", "b.example.com/y:2"], "allowMove": true, "referrers": true})" "\n";
    auto items = parse_promotion_list(text, "list.jsonl");
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].line, 3);
    EXPECT_EQ(items[0].request.source.str(), source);
    ASSERT_EQ(items[0].request.destinations.size(), 3u);
    EXPECT_EQ(items[0].request.destinations[0].str(), "registry.example.com/team/app:1.0");
    EXPECT_EQ(items[0].request.destinations[2].str(), "mirror.example.com/app:1.0");
    EXPECT_FALSE(items[0].request.allow_move);
    EXPECT_EQ(items[1].line, 4);
    EXPECT_TRUE(items[1].request.allow_move);
    EXPECT_TRUE(items[1].request.referrers);
    EXPECT_FALSE(items[1].request.destinations[1].tag.has_value()) << "a bare repository keeps the digest only";
}

TEST(PromotionList, ArtifactLinesTakeTheSourceFromTheArtifact) {
    auto dir = std::filesystem::temp_directory_path() / ("promote-list-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::string path = (dir / "image-digest.json").string();
    Artifact::create(ImageInfo{"registry.example.com/team/app", Digest::parse(digest)}, {}).save(path);
    auto items = parse_promotion_list(R"({"artifact": ")" + path + R"(", "tags": "1.0"})", "l");
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].artifact_path, path);
    EXPECT_EQ(items[0].request.source.str(), source);
    EXPECT_THROW(parse_promotion_list(R"({"artifact": ")" + path + R"(", "tags": "1"})" "\n" R"({"artifact": ")" + path +
                                          R"(", "tags": "2"})", "l"),
                 Error) << "one item per artifact: two would race on the same file";
    std::filesystem::remove_all(dir);
}

struct BadLine {
    std::string label;
    std::string text;
    std::string expected;  // part of the message
};

class PromotionListErrors : public ::testing::TestWithParam<BadLine> {};

TEST_P(PromotionListErrors, NameTheFileAndLine) {
    try {
        parse_promotion_list("\n" + GetParam().text, "list.jsonl");
        FAIL() << "accepted: " << GetParam().text;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        std::string message = e.what();
        EXPECT_EQ(message.rfind("list.jsonl:2: ", 0), 0u) << message;
        EXPECT_NE(message.find(GetParam().expected), std::string::npos) << message;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, PromotionListErrors,
    ::testing::Values(
        BadLine{"not_json", "{oops", "not valid JSON"},
        BadLine{"array", "[]", "not a JSON object"},
        BadLine{"unknown_key", R"({"source": ")" + source + R"(", "tags": "1", "force": true})", "unknown key \"force\""},
        BadLine{"both_sources", R"({"source": ")" + source + R"(", "artifact": "a.json", "tags": "1"})", "exactly one"},
        BadLine{"no_source", R"({"tags": "1"})", "exactly one"},
        BadLine{"tag_source", R"({"source": "registry.example.com/team/app:1.0", "tags": "1"})", "never resolved"},
        BadLine{"no_destination", R"({"source": ")" + source + R"("})", "at least one destination"},
        BadLine{"bad_tag", R"({"source": ")" + source + R"(", "tags": "-bad"})", "not valid"},
        BadLine{"digest_destination", R"({"source": ")" + source + R"(", "to": "x.example.com/a@)" + digest + R"("})", "carries a digest"},
        BadLine{"tags_wrong_type", R"({"source": ")" + source + R"(", "tags": [1]})", "array of strings"},
        BadLine{"flag_wrong_type", R"({"source": ")" + source + R"(", "tags": "1", "allowMove": "yes"})", "true or false"},
        BadLine{"stdin_artifact", R"({"artifact": "-", "tags": "1"})", "never on standard input"},
        BadLine{"missing_artifact", R"({"artifact": "/nonexistent/image-digest.json", "tags": "1"})", "/nonexistent/image-digest.json"}),
    [](const testing::TestParamInfo<BadLine>& param_info) { return param_info.param.label; });

// Two lines naming one destination tag would race in a -j N run: refused before anything runs, naming both
// lines. Destinations are compared normalised; a bare repository (digest only) is never a conflict.
struct DestinationCase {
    std::string label;
    std::string first_line;   // line 2 of the file
    std::string second_line;  // line 4 (line 3 is a comment)
    bool conflict;
};

std::string line_with(const std::string& fields) { return R"({"source": ")" + source + R"(", )" + fields + "}"; }

class DistinctDestinations : public ::testing::TestWithParam<DestinationCase> {};

TEST_P(DistinctDestinations, RefuseATagNamedOnTwoLines) {
    const auto& c = GetParam();
    std::string text = "# promotions\n" + c.first_line + "\n# more\n" + c.second_line + "\n";
    if (!c.conflict) {
        EXPECT_EQ(parse_promotion_list(text, "list.jsonl").size(), 2u);
        return;
    }
    try {
        parse_promotion_list(text, "list.jsonl");
        FAIL() << "accepted two lines for one destination";
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        std::string message = e.what();
        EXPECT_EQ(message.rfind("list.jsonl:4: ", 0), 0u) << message;
        EXPECT_NE(message.find("list.jsonl:2"), std::string::npos) << message;
    }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DistinctDestinations,
    ::testing::Values(
        DestinationCase{"same_tag", line_with(R"("tags": "1.0")"), line_with(R"("tags": ["2.0", "1.0"])"), true},
        DestinationCase{"tag_and_to", line_with(R"("tags": "1.0")"), line_with(R"("to": "registry.example.com/team/app:1.0")"), true},
        DestinationCase{"docker_hub_normalised", line_with(R"("to": "docker.io/library/x:1")"), line_with(R"("to": "x:1")"), true},
        DestinationCase{"index_docker_io", line_with(R"("to": "index.docker.io/library/x:1")"), line_with(R"("to": "docker.io/x:1")"), true},
        DestinationCase{"other_digest_same_tag",
                        line_with(R"("to": "m.example.com/app:1")"),
                        R"({"source": "registry.example.com/team/app@sha256:)" + std::string(64, 'b') + R"(", "to": "m.example.com/app:1"})",
                        true},
        DestinationCase{"bare_repository_twice", line_with(R"("to": "m.example.com/app")"), line_with(R"("to": "m.example.com/app")"), false},
        DestinationCase{"bare_and_tagged", line_with(R"("to": "m.example.com/app")"), line_with(R"("to": "m.example.com/app:1")"), false},
        DestinationCase{"other_tags", line_with(R"("tags": "1.0")"), line_with(R"("tags": "1.1")"), false},
        DestinationCase{"other_registry", line_with(R"("to": "a.example.com/app:1")"), line_with(R"("to": "b.example.com/app:1")"), false},
        DestinationCase{"twice_on_one_line", line_with(R"("tags": ["1.0", "1.0"])"), line_with(R"("tags": "2.0")"), false}),
    [](const testing::TestParamInfo<DestinationCase>& param_info) { return param_info.param.label; });

TEST(PromotionList, AnEmptyListIsAnError) {
    EXPECT_THROW(parse_promotion_list("# nothing\n\n", "list.jsonl"), Error);
}

}  // namespace
}  // namespace digestflow::operations
