#include "digestflow/ci/dotenv.hpp"
#include "digestflow/ci/github.hpp"
#include "digestflow/ci/markdown.hpp"
#include "digestflow/error.hpp"

#include <gtest/gtest.h>

namespace digestflow::ci {
namespace {

TEST(GithubOutput, SingleLineValuesAreNameEqualsValue) {
    const Outputs outputs = image_outputs("reg.example/team/app", "sha256:abc");
    EXPECT_EQ(github_output_text(outputs, "D"),
              "digest=sha256:abc\nrepository=reg.example/team/app\nreference=reg.example/team/app@sha256:abc\n");
}

TEST(GithubOutput, MultiLineValuesUseADelimiterThatIsNotALineOfTheValue) {
    const Outputs outputs{{"list", "", "a\nDELIM\nb"}, {"crlf", "", "x\r\ny\r\n"}};
    EXPECT_EQ(github_output_text(outputs, "DELIM"), "list<<DELIM_\na\nDELIM\nb\nDELIM_\ncrlf<<DELIM\nx\r\ny\r\nDELIM\n");
}

TEST(GithubOutput, RandomDelimitersDiffer) {
    const std::string a = random_delimiter();
    EXPECT_EQ(a.rfind("ghadelimiter_", 0), 0u);
    EXPECT_EQ(a.size(), 13u + 32u);
    EXPECT_NE(a, random_delimiter());
}

TEST(WorkflowCommands, DataAndPropertiesAreEscaped) {
    EXPECT_EQ(annotation("error", "gate-check: prod, eu", "100% no\r\nnext: line"),
              "::error title=gate-check%3A prod%2C eu::100%25 no%0D%0Anext: line\n");
    EXPECT_EQ(mask_command("p%ss\nword"), "::add-mask::p%25ss%0Aword\n");
}

TEST(Dotenv, WritesKeyValueLinesAndSkipsGithubOnlyOutputs) {
    Outputs outputs = image_outputs("reg.example/team/app", "sha256:abc");
    outputs.push_back({"artifact", "", "/path with spaces/image-digest.json"});
    EXPECT_EQ(dotenv_text(outputs), "IMAGE_DIGEST=sha256:abc\nIMAGE_REPOSITORY=reg.example/team/app\n"
                                    "IMAGE_REFERENCE=reg.example/team/app@sha256:abc\n");
}

TEST(Dotenv, RefusesWhatGitlabWouldMangle) {
    for (const std::string bad : {"two words", "line\nbreak", "\"quoted\"", "tab\there", "hash#tag"}) {
        try {
            dotenv_text({{"x", "GATE_ENVIRONMENT", bad}});
            ADD_FAILURE() << "accepted " << bad;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            EXPECT_NE(std::string(e.what()).find("GATE_ENVIRONMENT"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(dotenv_text({{"x", "BAD-KEY", "v"}}), Error);
    Outputs many;
    for (int i = 0; i < 21; ++i) many.push_back({"x", "K" + std::to_string(i), "v"});
    EXPECT_THROW(dotenv_text(many), Error);
    EXPECT_THROW(dotenv_text({{"x", "BIG", std::string(6000, 'a')}}), Error);
    EXPECT_EQ(dotenv_text({{"x", "EMPTY", ""}}), "EMPTY=\n");
}

TEST(Markdown, CellsCannotBreakTheTable) {
    EXPECT_EQ(markdown_cell("a|b\nc\td"), "a\\|b c d");
}

}  // namespace
}  // namespace digestflow::ci
