#include "digestflow/reference.hpp"

#include "digestflow/error.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace digestflow {
namespace {

const std::string hex64 = "e669ea1fb42c4b7fa2d4ba8b6e2e4fb1f7b4ad6e7e7c04d2a3ec1b5c1a1e0b5d";
const std::string sha = "sha256:" + hex64;

std::string upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

struct ParseCase {
    std::string label;
    std::string input;
    std::string error;  // substring of the message; empty = must parse to the fields below
    std::string domain;
    std::string path;
    std::optional<std::string> tag;
    std::optional<std::string> digest;
};

ParseCase ok(std::string label, std::string input, std::string domain, std::string path,
             std::optional<std::string> tag = std::nullopt,
             std::optional<std::string> digest = std::nullopt) {
    return {std::move(label), std::move(input), "", std::move(domain), std::move(path), std::move(tag),
            std::move(digest)};
}

ParseCase bad(std::string label, std::string input, std::string error) {
    return {std::move(label), std::move(input), std::move(error), "", "", std::nullopt, std::nullopt};
}

DIGESTFLOW_LABELLED_CASES()

void check(const ParseCase& c, Reference (*parse)(std::string_view), bool exact_round_trip) {
    if (c.error.empty()) {
        Reference r = parse(c.input);
        EXPECT_EQ(r.domain, c.domain);
        EXPECT_EQ(r.path, c.path);
        EXPECT_EQ(r.tag, c.tag);
        ASSERT_EQ(r.digest.has_value(), c.digest.has_value());
        if (c.digest) {
            EXPECT_EQ(r.digest->str(), *c.digest);
        }
        // A strict parse of a valid reference prints back exactly what was read.
        if (exact_round_trip) {
            EXPECT_EQ(r.str(), c.input);
        }
        EXPECT_EQ(parse(r.str()).str(), r.str());
        return;
    }
    try {
        Reference r = parse(c.input);
        FAIL() << "accepted " << c.input << " as " << r.str();
    } catch (const Error& e) {
        std::string message = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_NE(message.find(c.error), std::string::npos) << message;
        EXPECT_EQ(message.rfind("invalid reference \"", 0), 0u) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

// ---- parse_strict: distribution's Parse, no normalisation ----

class StrictParse : public testing::TestWithParam<ParseCase> {};

TEST_P(StrictParse, MatchesGrammar) { check(GetParam(), &Reference::parse_strict, true); }

const std::vector<ParseCase> strict_cases = {
    // Leftmost domain capture: the first component is the domain whenever it can be one.
    ok("leftmost_domain_capture", "foo/foo_bar.com:8080", "foo", "foo_bar.com", "8080"),
    ok("plain_word_is_domain", "library/ubuntu", "library", "ubuntu"),
    ok("single_component_has_no_domain", "test_com", "", "test_com"),
    ok("dotted_single_component_is_path", "test.com:tag", "", "test.com", "tag"),
    ok("host_port_alone_is_path_and_tag", "test.com:5000", "", "test.com", "5000"),
    ok("domain_and_tag", "test.com/repo:tag", "test.com", "repo", "tag"),
    ok("domain_with_port", "test:5000/repo", "test:5000", "repo"),
    ok("domain_port_tag", "test:5000/repo:tag", "test:5000", "repo", "tag"),
    ok("domain_port_digest", "test:5000/repo@" + sha, "test:5000", "repo", std::nullopt, sha),
    ok("tag_and_digest_both_kept", "test:5000/repo:tag@" + sha, "test:5000", "repo", "tag", sha),
    ok("deep_path", "registry.example.com/a/b/c/d", "registry.example.com", "a/b/c/d"),
    ok("localhost", "localhost/app", "localhost", "app"),
    ok("localhost_port", "localhost:5000/app:1", "localhost:5000", "app", "1"),
    ok("uppercase_domain", "Example.COM/repo", "Example.COM", "repo"),
    ok("uppercase_tag", "lowercase:Uppercase", "", "lowercase", "Uppercase"),
    ok("ipv4_domain", "192.168.0.1:80/app", "192.168.0.1:80", "app"),
    ok("ipv6_domain", "[2001:db8::1]/repo", "[2001:db8::1]", "repo"),
    ok("ipv6_domain_port", "[2001:db8::1]:5000/repo", "[2001:db8::1]:5000", "repo"),
    ok("ipv6_loopback", "[::1]:5000/app", "[::1]:5000", "app"),
    ok("hyphen_in_domain", "my-registry.example-1.com/app", "my-registry.example-1.com", "app"),
    ok("numeric_port_any_length", "host:0000123456/app", "host:0000123456", "app"),

    // Separators inside path components.
    ok("sep_dot", "a.b", "", "a.b"),
    ok("sep_underscore", "a_b", "", "a_b"),
    ok("sep_double_underscore", "a__b", "", "a__b"),
    ok("sep_dash", "a-b", "", "a-b"),
    ok("sep_many_dashes", "a---b", "", "a---b"),
    ok("sep_mixed_in_sequence", "a.b_c__d-e---f", "", "a.b_c__d-e---f"),
    bad("sep_triple_underscore", "a___b", "path component \"a___b\""),
    bad("sep_trailing_dash", "a-", "path component \"a-\""),
    bad("sep_leading_dash", "-a", "path component \"-a\""),
    bad("sep_double_dot", "a..b", "path component \"a..b\""),
    bad("sep_dot_underscore", "a._b", "path component"),
    bad("sep_dash_underscore", "a-_b", "path component"),
    bad("sep_leading_underscore", "_a", "path component"),
    bad("sep_trailing_dot", "repo/a.", "path component \"a.\""),
    bad("empty_component", "a//b", "empty path component"),
    bad("trailing_slash", "example.com/a/", "empty path component"),
    bad("leading_slash", "/a", "empty path component"),
    bad("bad_characters", "aa/asdf$$^/aa", "path component \"asdf$$^\""),
    bad("space", "foo bar", "path component"),

    // Uppercase: only the domain may have it.
    bad("uppercase_path", "Uppercase:tag", "must be lowercase"),
    bad("uppercase_after_domain", "test:5000/Uppercase/lowercase:tag", "must be lowercase"),
    bad("uppercase_second_path_component", "example.com/team/App", "must be lowercase"),

    // Tags.
    ok("tag_128", "repo:" + std::string(128, 't'), "", "repo", std::string(128, 't')),
    bad("tag_129", "repo:" + std::string(129, 't'), "tag \""),
    ok("tag_underscore_first", "repo:_x", "", "repo", "_x"),
    ok("tag_dots_and_dashes", "repo:1.0-rc.1_b", "", "repo", "1.0-rc.1_b"),
    bad("tag_dot_first", "repo:.x", "tag \".x\""),
    bad("tag_dash_first", "repo:-x", "tag \"-x\""),
    bad("tag_empty", "repo:", "tag \"\""),
    bad("tag_plus", "repo:1+2", "tag \"1+2\""),
    bad("two_tags", "repo:a:b", "path component \"repo:a\""),

    // Digests: the grammar first (>= 32 hex, any case), then the go-digest rules.
    bad("digest_uppercase_hex", "repo@sha256:" + upper(hex64), "invalid checksum digest format"),
    bad("digest_uppercase_algorithm", "repo@SHA256:" + hex64, "invalid checksum digest format"),
    bad("digest_63_hex", "repo@sha256:" + hex64.substr(0, 63), "invalid checksum digest length"),
    bad("digest_65_hex", "repo@sha256:" + hex64 + "0", "invalid checksum digest length"),
    bad("digest_31_hex_fails_grammar", "repo@sha256:" + hex64.substr(0, 31), "digest \"sha256:"),
    bad("digest_non_hex_fails_grammar", "repo@sha256:d41d8cd98f00b204e9800m98ecf8427e", "digest \"sha256:"),
    bad("digest_md5_unsupported", "repo@md5:d41d8cd98f00b204e9800998ecf8427e",
        "unsupported digest algorithm"),
    bad("digest_sha384_unsupported", "repo@sha384:" + std::string(96, 'a'), "unsupported digest algorithm"),
    bad("digest_unknown_algorithm", "validname@invaliddigest:" + hex64, "unsupported digest algorithm"),
    ok("digest_sha512", "repo@sha512:" + std::string(128, 'b'), "", "repo", std::nullopt,
       "sha512:" + std::string(128, 'b')),
    bad("digest_empty", "repo@", "digest \"\""),
    bad("digest_twice", "repo@" + sha + "@" + sha, "digest \""),
    bad("digest_only", "@" + sha, "repository name is missing"),
    bad("tag_only", ":justtag", "repository name is missing"),

    // Domain shapes.
    bad("ipv6_without_path", "[2001:db8::1]:5000", "path component \"[2001:db8::1]\""),
    bad("ipv6_zone", "[fe80::1%eth0]:5000/repo", "neither a registry host"),
    bad("ipv6_unbracketed", "2001:db8::1/repo", "neither a registry host"),
    bad("empty_port", "foo:/bar", "neither a registry host"),
    bad("domain_component_dash_first", "-a.com/x", "neither a registry host"),
    bad("domain_component_dash_last", "a-.com/x", "neither a registry host"),

    // Length: only the path counts.
    bad("path_256_after_domain", "domain/" + std::string(256, 'a'), "256 characters"),
    ok("path_255_after_domain", "example.com/" + std::string(255, 'a'), "example.com", std::string(255, 'a')),
    ok("long_domain_not_counted", std::string(200, 'd') + ".com/" + std::string(255, 'a'),
       std::string(200, 'd') + ".com", std::string(255, 'a')),
    bad("path_256_no_domain", std::string(256, 'a'), "256 characters"),
    bad("empty", "", "at least one component"),
};

INSTANTIATE_TEST_SUITE_P(Cases, StrictParse, testing::ValuesIn(strict_cases), label_of<ParseCase>);

// ---- parse: ParseNormalizedNamed ----

class NormalizedParse : public testing::TestWithParam<ParseCase> {};

TEST_P(NormalizedParse, Normalises) { check(GetParam(), &Reference::parse, false); }

const std::vector<ParseCase> normalized_cases = {
    ok("official_image", "ubuntu", "docker.io", "library/ubuntu"),
    ok("official_image_tag", "ubuntu:22.04", "docker.io", "library/ubuntu", "22.04"),
    ok("library_prefix_given", "library/ubuntu", "docker.io", "library/ubuntu"),
    ok("docker_io_single", "docker.io/ubuntu", "docker.io", "library/ubuntu"),
    ok("docker_io_library", "docker.io/library/ubuntu:latest", "docker.io", "library/ubuntu", "latest"),
    ok("index_docker_io_rewritten", "index.docker.io/ubuntu", "docker.io", "library/ubuntu"),
    ok("index_docker_io_namespace", "index.docker.io/team/app:1", "docker.io", "team/app", "1"),
    ok("hub_namespace", "team/app", "docker.io", "team/app"),
    ok("hub_deep_path", "team/sub/app", "docker.io", "team/sub/app"),
    ok("first_component_without_dot_is_path", "foo/foo_bar.com:8080", "docker.io", "foo/foo_bar.com", "8080"),
    ok("localhost_is_domain", "localhost/app", "localhost", "app"),
    ok("localhost_port", "localhost:5000/team/app:1", "localhost:5000", "team/app", "1"),
    ok("bare_localhost_port_is_tag", "localhost:5000", "docker.io", "library/localhost", "5000"),
    ok("port_makes_domain", "registry:5000/app", "registry:5000", "app"),
    ok("dot_makes_domain", "registry.example.com/app", "registry.example.com", "app"),
    ok("other_registry_no_library", "gcr.io/app", "gcr.io", "app"),
    ok("uppercase_makes_domain", "LOCALDOMAIN/library/debian", "LOCALDOMAIN", "library/debian"),
    ok("uppercase_domain_single_path", "Foo/bar", "Foo", "bar"),
    ok("capitalised_docker_io_not_rewritten", "Docker.io/foo", "Docker.io", "foo"),
    ok("ipv4_without_slash_is_name_and_tag", "192.168.0.1:80", "docker.io", "library/192.168.0.1", "80"),
    ok("ipv4_domain", "192.168.0.1:80/app", "192.168.0.1:80", "app"),
    ok("ipv6_loopback_port", "[::1]:5000/app", "[::1]:5000", "app"),
    ok("ipv6_domain", "[2001:db8::1]/repo", "[2001:db8::1]", "repo"),
    ok("docker_io_bare_name", "docker.io", "docker.io", "library/docker.io"),
    ok("tag_and_digest_kept", "docker.io/library/busybox:latest@" + sha, "docker.io", "library/busybox",
       "latest", sha),
    ok("other_registry_tag_and_digest", "gcr.io/library/busybox:latest@" + sha, "gcr.io", "library/busybox",
       "latest", sha),
    ok("official_digest", "ubuntu@" + sha, "docker.io", "library/ubuntu", std::nullopt, sha),
    ok("hex_path_under_docker_io", "docker.io/" + hex64, "docker.io", "library/" + hex64),
    ok("hex_63_is_a_name", hex64.substr(0, 63), "docker.io", "library/" + hex64.substr(0, 63)),
    ok("path_255_after_domain", "example.com/" + std::string(255, 'a'), "example.com", std::string(255, 'a')),

    bad("hex_64_refused", hex64, "64-character hex"),
    bad("empty", "", "at least one component"),
    bad("uppercase_official", "UPPERCASE", "\"library/UPPERCASE\" must be lowercase"),
    bad("uppercase_hub_path", "foo/Bar", "must be lowercase"),
    bad("uppercase_after_domain", "example.com/Foo", "\"Foo\" must be lowercase"),
    bad("uppercase_hex_name", upper(hex64), "must be lowercase"),
    bad("uppercase_digest_hex", "ubuntu@sha256:" + upper(hex64), "invalid checksum digest format"),
    bad("digest_unsupported", "ubuntu@md5:d41d8cd98f00b204e9800998ecf8427e", "unsupported digest algorithm"),
    bad("digest_length", "ubuntu@sha256:" + hex64.substr(0, 40), "invalid checksum digest length"),
    bad("ipv6_without_path", "[fc00::1]:5000", "path component"),
    bad("ipv6_unbracketed", "fc00::1:5000/debian", "neither a registry host"),
    bad("ipv6_zone", "[fe80::1%eth0]:5000/debian", "neither a registry host"),
    bad("ipv6_zone_escaped", "[fe80::1%25eth0]:5000/debian", "neither a registry host"),
    // "domain" has no dot, so it stays in the Docker Hub path: 7 + 256 characters.
    bad("path_256_after_undotted_domain", "domain/" + std::string(256, 'a'), "263 characters"),
    bad("path_256_after_dotted_domain", "example.com/" + std::string(256, 'a'), "256 characters"),
    // The library/ prefix counts towards the limit.
    bad("official_prefix_counts", std::string(250, 'a'), "258 characters"),
    bad("underscore_host", "my_registry.local/app", "\"my_registry.local\" is not a valid registry host"),
    bad("separator_triple_underscore", "a___b", "path component \"a___b\""),
    bad("tag_129", "repo:" + std::string(129, 't'), "tag \""),
};

INSTANTIATE_TEST_SUITE_P(Cases, NormalizedParse, testing::ValuesIn(normalized_cases), label_of<ParseCase>);

TEST(StrictVersusNormalized, OnlyNormalizedAddsDockerHub) {
    EXPECT_EQ(Reference::parse_strict(std::string(250, 'a')).path, std::string(250, 'a'));
    EXPECT_EQ(Reference::parse_strict("ubuntu").str(), "ubuntu");
    EXPECT_EQ(Reference::parse("ubuntu").str(), "docker.io/library/ubuntu");
    EXPECT_EQ(Reference::parse_strict("foo/bar").domain, "foo");
    EXPECT_EQ(Reference::parse("foo/bar").domain, "docker.io");
}

TEST(ErrorMessages, NameTheOriginalInput) {
    try {
        Reference::parse("Foo/bar/Baz");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("invalid reference \"Foo/bar/Baz\": ", 0), 0u) << e.what();
    }
    try {
        Reference::parse("ubuntu\n");
        FAIL();
    } catch (const Error& e) {
        std::string message = e.what();
        EXPECT_NE(message.find("\"ubuntu\\x0a\""), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

// ---- printing ----

struct PrintCase {
    std::string label;
    std::string input;
    std::string full;
    std::string familiar;
};

class Printing : public testing::TestWithParam<PrintCase> {};

TEST_P(Printing, StrAndFamiliarRoundTrip) {
    const auto& c = GetParam();
    Reference r = Reference::parse(c.input);
    EXPECT_EQ(r.str(), c.full);
    EXPECT_EQ(r.familiar(), c.familiar);
    EXPECT_EQ(Reference::parse(r.familiar()).str(), c.full);
    EXPECT_EQ(Reference::parse(r.str()).familiar(), c.familiar);
}

const PrintCase print_cases[] = {
    {"official", "ubuntu", "docker.io/library/ubuntu", "ubuntu"},
    {"official_with_library", "library/ubuntu:22.04", "docker.io/library/ubuntu:22.04", "ubuntu:22.04"},
    {"official_canonical", "docker.io/library/ubuntu", "docker.io/library/ubuntu", "ubuntu"},
    {"nested_library_keeps_prefix", "docker.io/library/a/b", "docker.io/library/a/b", "library/a/b"},
    {"hub_namespace", "team/app:1", "docker.io/team/app:1", "team/app:1"},
    {"legacy_index", "index.docker.io/team/app", "docker.io/team/app", "team/app"},
    {"official_tag_digest", "ubuntu:latest@" + sha, "docker.io/library/ubuntu:latest@" + sha,
     "ubuntu:latest@" + sha},
    {"other_registry", "registry.example.com:5000/team/app:1@" + sha,
     "registry.example.com:5000/team/app:1@" + sha, "registry.example.com:5000/team/app:1@" + sha},
    {"other_registry_library", "gcr.io/library/busybox", "gcr.io/library/busybox", "gcr.io/library/busybox"},
    {"localhost", "localhost/app", "localhost/app", "localhost/app"},
    {"ipv6", "[::1]:5000/app@" + sha, "[::1]:5000/app@" + sha, "[::1]:5000/app@" + sha},
};

INSTANTIATE_TEST_SUITE_P(Cases, Printing, testing::ValuesIn(print_cases), label_of<PrintCase>);

TEST(Printing, RepositoryIsDomainAndPath) {
    EXPECT_EQ(Reference::parse("ubuntu:22.04").repository(), "docker.io/library/ubuntu");
    EXPECT_EQ(Reference::parse("ghcr.io/o/r@" + sha).repository(), "ghcr.io/o/r");
}

// ---- hosts ----

struct HostCase {
    std::string input;
    std::string api_host;
    bool loopback;
};

class Hosts : public testing::TestWithParam<HostCase> {};

TEST_P(Hosts, ApiHostAndLoopback) {
    const auto& c = GetParam();
    Reference r = Reference::parse(c.input);
    EXPECT_EQ(r.api_host(), c.api_host);
    EXPECT_EQ(r.is_loopback(), c.loopback) << r.domain;
}

const HostCase host_cases[] = {
    {"ubuntu", "registry-1.docker.io", false},
    {"index.docker.io/team/app", "registry-1.docker.io", false},
    {"registry.example.com:5000/app", "registry.example.com:5000", false},
    {"localhost/app", "localhost", true},
    {"localhost:5000/app", "localhost:5000", true},
    {"LOCALHOST:5000/app", "LOCALHOST:5000", true},
    {"127.0.0.1/app", "127.0.0.1", true},
    {"127.0.0.1:5000/app", "127.0.0.1:5000", true},
    {"127.1.2.3:80/app", "127.1.2.3:80", true},
    {"127.255.255.254/app", "127.255.255.254", true},
    {"[::1]/app", "[::1]", true},
    {"[::1]:5000/app", "[::1]:5000", true},
    {"[0:0:0:0:0:0:0:1]:5000/app", "[0:0:0:0:0:0:0:1]:5000", true},
    {"[::2]:5000/app", "[::2]:5000", false},
    {"[fe80::1]/app", "[fe80::1]", false},
    {"128.0.0.1/app", "128.0.0.1", false},
    {"10.0.0.1:5000/app", "10.0.0.1:5000", false},
    {"0.0.0.0:5000/app", "0.0.0.0:5000", false},
    {"126.255.255.255/app", "126.255.255.255", false},
    {"127.0.0.256/app", "127.0.0.256", false},
    {"127.1/app", "127.1", false},
    {"127.0.0.1.nip.io/app", "127.0.0.1.nip.io", false},
    {"localhost.example.com/app", "localhost.example.com", false},
    {"localhostx:5000/app", "localhostx:5000", false},
};

INSTANTIATE_TEST_SUITE_P(Cases, Hosts, testing::ValuesIn(host_cases));

// ---- derived references ----

TEST(Derived, WithDigestDropsTag) {
    auto d = Digest::parse(sha);
    Reference r = Reference::parse("example.com/app:1").with_digest(d);
    EXPECT_FALSE(r.tag);
    ASSERT_TRUE(r.digest);
    EXPECT_EQ(*r.digest, d);
    EXPECT_EQ(r.str(), "example.com/app@" + sha);
}

TEST(Derived, WithTagDropsDigest) {
    Reference r = Reference::parse("example.com/app:1@" + sha).with_tag("2.0");
    EXPECT_EQ(r.tag, "2.0");
    EXPECT_FALSE(r.digest);
    EXPECT_EQ(r.str(), "example.com/app:2.0");
}

TEST(Derived, WithTagRejectsInvalidTag) {
    Reference r = Reference::parse("example.com/app");
    for (const std::string& tag :
         std::vector<std::string>{"", "-x", ".x", std::string(129, 'a'), "a/b", "a:b"}) {
        try {
            r.with_tag(tag);
            FAIL() << "accepted tag " << tag;
        } catch (const Error& e) {
            EXPECT_EQ(e.kind(), ErrorKind::Usage);
            EXPECT_EQ(std::string(e.what()).rfind("invalid tag \"", 0), 0u) << e.what();
        }
    }
}

TEST(Derived, WithoutTagKeepsDigest) {
    Reference r = Reference::parse("gcr.io/library/busybox:latest@" + sha).without_tag();
    EXPECT_EQ(r.str(), "gcr.io/library/busybox@" + sha);
}

// ---- tags ----

struct TagCase {
    std::string tag;
    bool valid;
};

class Tags : public testing::TestWithParam<TagCase> {};

TEST_P(Tags, FollowGrammar) { EXPECT_EQ(is_valid_tag(GetParam().tag), GetParam().valid) << GetParam().tag; }

const TagCase tag_cases[] = {
    {"latest", true},
    {"1.0", true},
    {"v1.2.3-rc.1", true},
    {"Latest", true},
    {"_private", true},
    {"0", true},
    {"a__b--c..d", true},
    {std::string(128, 'x'), true},
    {std::string(129, 'x'), false},
    {"", false},
    {".hidden", false},
    {"-dash", false},
    {"a+b", false},
    {"a:b", false},
    {"a/b", false},
    {"a@b", false},
    {"a b", false},
    {"caf\xc3\xa9", false},
};

INSTANTIATE_TEST_SUITE_P(Cases, Tags, testing::ValuesIn(tag_cases));

}  // namespace
}  // namespace digestflow
