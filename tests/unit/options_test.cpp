// Flag parsing shared by the tools: both value spellings, every refusal with its --help hint, the common-flag
// accessors, --timeout validation and the --help text.
#include "digestflow/cli/options.hpp"

#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/error.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>
#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <ostream>
#include <string>
#include <vector>

namespace digestflow::cli {
namespace {

DIGESTFLOW_LABELLED_CASES()

// A tool shaped like capture-digest: a single value flag, a repeatable one and a switch.
ToolSpec sample_tool() {
    return {
        "capture-digest",
        "--image REF [options]",
        "Resolves an image reference to its digest and records it.",
        {
            {"image", "REF", "the image to capture"},
            {"tag", "TAG", "also record this tag", true},
            {"all-platforms", "", "record every platform of an index"},
            {"a-rather-long-flag-name-for-wrapping", "VALUE", "wraps onto its own help line"},
        },
        "  capture-digest --image registry.example.com/team/app:1.0\n",
    };
}

// argv as main() gets it, with the tool name first.
class Argv {
public:
    explicit Argv(std::vector<std::string> args) : m_storage(std::move(args)) {
        m_storage.insert(m_storage.begin(), "capture-digest");
        for (auto& s : m_storage) m_pointers.push_back(s.data());
        m_pointers.push_back(nullptr);
    }
    int argc() const { return static_cast<int>(m_storage.size()); }
    char** argv() { return m_pointers.data(); }

private:
    std::vector<std::string> m_storage;
    std::vector<char*> m_pointers;
};

ParsedArgs parse(std::vector<std::string> args) {
    Argv argv(std::move(args));
    return parse_args(sample_tool(), argv.argc(), argv.argv());
}

// ---- parse_args ----

using Values = std::map<std::string, std::vector<std::string>>;

struct ParseCase {
    std::string label;
    std::vector<std::string> args;
    std::string error;  // substring of the Usage message; empty = must parse to `values`
    Values values;
};

ParseCase ok(std::string label, std::vector<std::string> args, Values values) {
    return {std::move(label), std::move(args), "", std::move(values)};
}

ParseCase bad(std::string label, std::vector<std::string> args, std::string error) {
    return {std::move(label), std::move(args), std::move(error), {}};
}

class ParseArgs : public testing::TestWithParam<ParseCase> {};

TEST_P(ParseArgs, Parses) {
    const auto& c = GetParam();
    if (c.error.empty()) {
        EXPECT_EQ(parse(c.args).m_values, c.values);
        return;
    }
    try {
        ParsedArgs parsed = parse(c.args);
        FAIL() << "accepted; " << parsed.m_values.size() << " flags";
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::Usage) << message;
        EXPECT_NE(message.find(c.error), std::string::npos) << message;
        // Every refusal says how to find out more.
        EXPECT_NE(message.find("(run capture-digest --help)"), std::string::npos) << message;
    }
}

const std::vector<ParseCase> parse_cases = {
    ok("nothing", {}, {}),
    ok("separate_value", {"--image", "r.example.com/a:1"}, {{"image", {"r.example.com/a:1"}}}),
    ok("inline_value", {"--image=r.example.com/a:1"}, {{"image", {"r.example.com/a:1"}}}),
    // Only the first '=' splits; digests and query strings may contain more.
    ok("inline_value_with_equals", {"--image=a=b=c"}, {{"image", {"a=b=c"}}}),
    ok("inline_empty_value", {"--image="}, {{"image", {""}}}),
    ok("separate_empty_value", {"--image", ""}, {{"image", {""}}}),
    ok("value_looking_like_a_dash", {"--out", "-"}, {{"out", {"-"}}}),
    ok("value_with_spaces", {"--artifact", "my dir/image-digest.json"}, {{"artifact", {"my dir/image-digest.json"}}}),
    ok("switch", {"--all-platforms"}, {{"all-platforms", {""}}}),
    ok("common_switches", {"--json", "--quiet"}, {{"json", {""}}, {"quiet", {""}}}),
    ok("repeatable_tool_flag", {"--tag", "1.0", "--tag=latest", "--tag", "stable"},
       {{"tag", {"1.0", "latest", "stable"}}}),
    ok("repeatable_common_flag", {"--insecure-registry", "a:5000", "--insecure-registry=b"},
       {{"insecure-registry", {"a:5000", "b"}}}),
    ok("mixed", {"--image", "a", "--json", "--timeout=10", "--tag", "x", "--artifact", "f.json"},
       {{"image", {"a"}}, {"json", {""}}, {"timeout", {"10"}}, {"tag", {"x"}}, {"artifact", {"f.json"}}}),
    ok("help", {"--help"}, {{"help", {""}}}),
    ok("version", {"--version"}, {{"version", {""}}}),
    ok("help_with_other_flags", {"--image", "a", "--help"}, {{"image", {"a"}}, {"help", {""}}}),

    bad("unknown_flag", {"--imgae", "a"}, "unknown flag \"--imgae\""),
    bad("unknown_flag_inline", {"--imgae=a"}, "unknown flag \"--imgae\""),
    bad("flag_name_case_matters", {"--Image", "a"}, "unknown flag \"--Image\""),
    bad("empty_flag_name_inline", {"--=a"}, "unknown flag \"--\""),
    // Issue 6 #23: a control character from the command line is escaped, never printed raw.
    bad("control_character_in_unknown_flag", {"--a\x01" "b"}, "unknown flag \"--a\\x01b\""),
    bad("control_character_in_stray_argument", {"a\x1b[2Jb"}, "unexpected argument \"a\\x1b[2Jb\""),
    // Issue 6 #22: flags are taken as given; whitespace around a value is refused, naming the flag.
    bad("leading_space", {"--image", " r.example.com/a:1"}, "--image \" r.example.com/a:1\": the value starts or ends with whitespace"),
    bad("trailing_newline", {"--tag", "1.0\n"}, "--tag \"1.0\\x0a\": the value starts or ends with whitespace"),
    bad("trailing_tab_inline", {"--out=a.json\t"}, "--out \"a.json\\x09\": the value starts or ends"),
    bad("empty_registry_config", {"--registry-config", ""}, "--registry-config is empty"),
    // A host that can never match used to be accepted silently (the registry stayed secure-only).
    bad("empty_insecure_registry", {"--insecure-registry", ""}, "--insecure-registry \"\": expected HOST[:PORT]"),
    bad("insecure_registry_url", {"--insecure-registry=http://127.0.0.1:5000"}, "--insecure-registry \"http://127.0.0.1:5000\": expected HOST[:PORT]"),
    bad("insecure_registry_control", {"--insecure-registry", "h\x01"}, "--insecure-registry \"h\\x01\": expected HOST[:PORT]"),
    bad("missing_value_at_end", {"--image"}, "--image needs a value: REF"),
    bad("missing_value_after_others", {"--json", "--timeout"}, "--timeout needs a value: SECONDS"),
    bad("repeated_single_flag", {"--image", "a", "--image", "b"}, "--image was given more than once"),
    bad("repeated_single_flag_mixed_spelling", {"--image=a", "--image", "b"}, "--image was given more than once"),
    bad("repeated_common_flag", {"--artifact", "a", "--artifact=b"}, "--artifact was given more than once"),
    bad("repeated_switch", {"--json", "--json"}, "--json was given more than once"),
    bad("stray_argument", {"r.example.com/a:1"}, "unexpected argument \"r.example.com/a:1\""),
    bad("stray_after_flag_value", {"--image", "a", "b"}, "unexpected argument \"b\""),
    bad("single_dash_flag", {"-h"}, "unexpected argument \"-h\""),
    bad("lone_dash", {"-"}, "unexpected argument \"-\""),
    bad("double_dash_separator", {"--image", "a", "--"}, "unexpected argument \"--\""),
    bad("switch_with_value", {"--json=true"}, "--json takes no value"),
    bad("switch_with_empty_value", {"--quiet="}, "--quiet takes no value"),
    bad("tool_switch_with_value", {"--all-platforms=yes"}, "--all-platforms takes no value"),
    bad("help_with_value", {"--help=full"}, "--help takes no value"),
    bad("version_with_value", {"--version=1"}, "--version takes no value"),
};

INSTANTIATE_TEST_SUITE_P(Cases, ParseArgs, testing::ValuesIn(parse_cases), label_of<ParseCase>);

TEST(ParseArgsOrder, FirstProblemIsReported) {
    // Parsing stops at the first bad argument; later ones are not looked at.
    try {
        parse({"stray", "--unknown"});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("unexpected argument \"stray\""), std::string::npos) << e.what();
    }
}

TEST(ParseArgsOrder, ValueIsTakenVerbatimEvenIfItLooksLikeAFlag) {
    // --out - must work, so the next argument is always the value.
    ParsedArgs parsed = parse({"--image", "--json"});
    EXPECT_EQ(parsed.value("image"), std::optional<std::string>("--json"));
    EXPECT_FALSE(parsed.json());
}

// ---- ParsedArgs accessors ----

TEST(ParsedArgsAccess, Defaults) {
    ParsedArgs parsed = parse({});
    EXPECT_FALSE(parsed.has("image"));
    EXPECT_FALSE(parsed.value("image"));
    EXPECT_TRUE(parsed.values("tag").empty());
    EXPECT_EQ(parsed.value_or("image", "fallback"), "fallback");
    EXPECT_EQ(parsed.artifact_path(), "image-digest.json");
    EXPECT_EQ(parsed.out_path(), "image-digest.json");
    EXPECT_FALSE(parsed.json());
    EXPECT_FALSE(parsed.quiet());
}

TEST(ParsedArgsAccess, OutFollowsArtifactUnlessGiven) {
    EXPECT_EQ(parse({"--artifact", "build/a.json"}).out_path(), "build/a.json");
    ParsedArgs both = parse({"--artifact", "build/a.json", "--out", "-"});
    EXPECT_EQ(both.artifact_path(), "build/a.json");
    EXPECT_EQ(both.out_path(), "-");
}

TEST(ParsedArgsAccess, SwitchesAndValues) {
    ParsedArgs parsed = parse({"--json", "--quiet", "--tag", "a", "--tag", "b", "--image", "x"});
    EXPECT_TRUE(parsed.json());
    EXPECT_TRUE(parsed.quiet());
    EXPECT_EQ(parsed.values("tag"), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(parsed.value("tag"), std::optional<std::string>("b"));  // the last of a repeatable flag
    EXPECT_EQ(parsed.value("image"), std::optional<std::string>("x"));
    EXPECT_TRUE(parsed.has("json"));
    EXPECT_EQ(parsed.value("json"), std::optional<std::string>(""));
}

// ---- client_options ----

TEST(ClientOptionsFromFlags, Defaults) {
    auto options = parse({}).client_options();
    EXPECT_FALSE(options.registry_config);
    EXPECT_EQ(options.transport.ca_file, "");
    EXPECT_TRUE(options.transport.insecure_hosts.empty());
    EXPECT_EQ(options.transport.timeout, std::chrono::seconds(30));
}

TEST(ClientOptionsFromFlags, Copied) {
    const std::string config = testing::TempDir() + "options-test-config.json";
    std::ofstream(config) << "{}";
    const std::string ca = testing::TempDir() + "options-test-ca.pem";
    std::ofstream(ca) << "-----BEGIN CERTIFICATE-----\n";
    auto options = parse({"--registry-config", config, "--ca-file=" + ca,
                          "--insecure-registry", "127.0.0.1:5000", "--insecure-registry", "[::1]:5000",
                          "--insecure-registry", "127.0.0.1:5000"})
                       .client_options();
    EXPECT_EQ(options.registry_config, std::optional<std::string>(config));
    EXPECT_EQ(options.transport.ca_file, ca);
    EXPECT_EQ(options.transport.insecure_hosts, (std::set<std::string>{"127.0.0.1:5000", "[::1]:5000"}));
}

struct TimeoutCase {
    std::string label;
    std::string value;
    int seconds;  // 0 = refused
};

class Timeout : public testing::TestWithParam<TimeoutCase> {};

TEST_P(Timeout, ValidatedWhenParsed) {
    const auto& c = GetParam();
    if (c.seconds > 0) {
        EXPECT_EQ(parse({"--timeout", c.value}).client_options().transport.timeout, std::chrono::seconds(c.seconds));
        return;
    }
    // Issue 6 #22: refused by parsing itself, so a tool that makes no request (--offline) refuses it too.
    try {
        parse({"--timeout", c.value});
        FAIL() << "accepted --timeout " << c.value;
    } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_NE(std::string(e.what()).find("whole number of seconds, 1 or more"), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("--timeout ", 0), 0u) << e.what();
    }
}

const std::vector<TimeoutCase> timeout_cases = {
    {"one", "1", 1},
    {"thirty", "30", 30},
    {"leading_zeros", "00030", 30},
    {"five_digits", "99999", 99999},
    {"zero", "0", 0},
    {"zeros", "00000", 0},
    {"empty", "", 0},
    {"negative", "-5", 0},
    {"plus_sign", "+5", 0},
    {"fraction", "1.5", 0},
    {"unit_suffix", "30s", 0},
    {"leading_space", " 30", 0},
    {"six_digits", "100000", 0},
    {"huge", "99999999999999999999", 0},
    {"word", "forever", 0},
};

INSTANTIATE_TEST_SUITE_P(Values, Timeout, testing::ValuesIn(timeout_cases), label_of<TimeoutCase>);

TEST(ClientOptionsFromFlags, InlineEmptyTimeoutRefused) {
    EXPECT_THROW(parse({"--timeout="}), Error);
}

// Issue 6 #22: a --registry-config that is not there, not a file or not valid is a usage error at the start,
// not at the first 401 (and #16: a number overflow in it is exit 2, not "unexpected failure").
TEST(ClientOptionsFromFlags, RegistryConfigIsCheckedWhenParsed) {
    const std::string dir = testing::TempDir();
    const std::string missing = dir + "options-test-no-such-config.json";
    const std::string overflow = dir + "options-test-overflow.json";
    std::ofstream(overflow) << R"({"auths": {}, "n": 1e400})";
    const std::string duplicate = dir + "options-test-duplicate.json";
    std::ofstream(duplicate) << R"({"auths": {}, "auths": {}})";
    const std::string empty = dir + "options-test-empty.json";
    std::ofstream(empty) << "\n";
    EXPECT_NO_THROW(parse({"--registry-config", empty})) << "docker accepts an empty config file";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {missing, "does not exist"}, {dir, "is a directory"}, {"/dev/zero", "is a device"},
        {overflow, "number overflow"}, {duplicate, "duplicate key \"auths\""}};
    for (const auto& [path, expected] : cases) {
        try {
            parse({"--registry-config", path});
            FAIL() << "accepted --registry-config " << path;
        } catch (const Error& e) {
            const std::string message = e.what();
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            EXPECT_TRUE(message.rfind("--registry-config ", 0) == 0 || message.rfind("registry credentials file ", 0) == 0)
                << message;
            EXPECT_NE(message.find(path), std::string::npos) << message;
            EXPECT_NE(message.find(expected), std::string::npos) << message;
        }
    }
}

// Issue 6 #18: OpenSSL would block opening a FIFO, so --ca-file must name a regular file.
TEST(ClientOptionsFromFlags, CaFileMustBeARegularFile) {
    const std::string fifo = testing::TempDir() + "options-test-ca-fifo";
    ::unlink(fifo.c_str());
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    for (const auto& [path, expected] : std::vector<std::pair<std::string, std::string>>{
             {fifo, "not a regular file"}, {testing::TempDir(), "not a regular file"},
             {testing::TempDir() + "options-test-no-ca.pem", "the file does not exist"}}) {
        try {
            parse({"--ca-file", path});
            FAIL() << "accepted --ca-file " << path;
        } catch (const Error& e) {
            EXPECT_EQ(std::string(e.what()).rfind("--ca-file \"" + path + "\": " + expected, 0), 0u) << e.what();
        }
    }
    ::unlink(fifo.c_str());
}

// ---- help_text ----

TEST(HelpText, StartsWithUsageAndDescription) {
    const std::string help = help_text(sample_tool());
    EXPECT_EQ(help.rfind("Usage: capture-digest --image REF [options]\n\n", 0), 0u) << help;
    EXPECT_NE(help.find("Resolves an image reference to its digest and records it."), std::string::npos);
}

TEST(HelpText, ListsEveryFlagWithItsValueName) {
    const ToolSpec spec = sample_tool();
    const std::string help = help_text(spec);
    std::vector<FlagSpec> all = spec.flags;
    all.insert(all.end(), common_flags().begin(), common_flags().end());
    for (const auto& flag : all) {
        SCOPED_TRACE(flag.name);
        const std::string left = "  --" + flag.name + (flag.value_name.empty() ? "" : " " + flag.value_name);
        auto at = help.find(left);
        ASSERT_NE(at, std::string::npos) << help;
        // The flag's help follows on its line, or on the next for long names.
        auto help_at = help.find(flag.help, at);
        ASSERT_NE(help_at, std::string::npos);
        EXPECT_LE(std::count(help.begin() + static_cast<std::ptrdiff_t>(at),
                             help.begin() + static_cast<std::ptrdiff_t>(help_at), '\n'),
                  1);
        if (flag.repeatable) {
            EXPECT_EQ(help.find(flag.help + " (repeatable)", at), help_at);
        }
    }
}

TEST(HelpText, CommonFlagsAreTheDocumentedSet) {
    std::vector<std::string> names;
    for (const auto& flag : common_flags()) names.push_back(flag.name);
    EXPECT_EQ(names, (std::vector<std::string>{"artifact", "out", "json", "quiet", "registry-config",
                                               "insecure-registry", "ca-file", "timeout", "dotenv", "help",
                                               "version"}));
}

TEST(HelpText, ToolFlagsComeBeforeCommonOnes) {
    const std::string help = help_text(sample_tool());
    auto options = help.find("\nOptions:\n");
    auto common = help.find("\nCommon options:\n");
    ASSERT_NE(options, std::string::npos);
    ASSERT_NE(common, std::string::npos);
    EXPECT_LT(options, help.find("  --image REF"));
    EXPECT_LT(help.find("  --image REF"), common);
    EXPECT_LT(common, help.find("  --artifact PATH"));
}

TEST(HelpText, ListsEveryExitCode) {
    const std::string help = help_text(sample_tool());
    auto at = help.find("Exit codes:");
    ASSERT_NE(at, std::string::npos) << help;
    const std::string codes = help.substr(at);
    for (int code : {exit_success, exit_check_failed, exit_usage, exit_registry, exit_auth}) {
        EXPECT_NE(codes.find(std::to_string(code) + " "), std::string::npos) << code << " missing in " << codes;
    }
    // The text agrees with the mapping from ErrorKind.
    EXPECT_NE(codes.find(std::to_string(exit_code_for(ErrorKind::CheckFailed)) + " the check said no"),
              std::string::npos);
    EXPECT_NE(codes.find(std::to_string(exit_code_for(ErrorKind::Usage)) + " usage error"), std::string::npos);
    EXPECT_NE(codes.find(std::to_string(exit_code_for(ErrorKind::Registry)) + " registry or network failure"),
              std::string::npos);
    EXPECT_NE(codes.find(std::to_string(exit_code_for(ErrorKind::Auth)) + " authentication or authorization"),
              std::string::npos);
}

TEST(HelpText, ExamplesLastAndOnlyWhenGiven) {
    ToolSpec spec = sample_tool();
    const std::string help = help_text(spec);
    auto at = help.find("\nExamples:\n");
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(help.substr(at), "\nExamples:\n" + spec.examples);
    spec.examples.clear();
    EXPECT_EQ(help_text(spec).find("Examples:"), std::string::npos);
}

TEST(HelpText, HelpColumnAligned) {
    // Short flags pad to column 32; long ones put the help on the next line at the same column.
    const std::string help = help_text(sample_tool());
    const std::string image = "  --image REF";
    EXPECT_NE(help.find(image + std::string(32 - image.size(), ' ') + "the image to capture\n"), std::string::npos)
        << help;
    EXPECT_NE(help.find("  --a-rather-long-flag-name-for-wrapping VALUE\n" + std::string(32, ' ') +
                        "wraps onto its own help line\n"),
              std::string::npos)
        << help;
}

TEST(ExitCodes, MappedFromEveryKind) {
    EXPECT_EQ(exit_code_for(ErrorKind::Usage), 2);
    EXPECT_EQ(exit_code_for(ErrorKind::CheckFailed), 1);
    EXPECT_EQ(exit_code_for(ErrorKind::Registry), 3);
    EXPECT_EQ(exit_code_for(ErrorKind::Auth), 4);
}

}  // namespace
}  // namespace digestflow::cli
