// Ed25519 signatures of ledger lines: keys made by the openssl command line in a temp folder, the signed
// bytes checked independently with `openssl pkeyutl -verify -rawin`, then every way a line or a key can be
// wrong.
#include "digestflow/ledger/signing.hpp"

#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/line_scanner.hpp"

#include "labelled_cases.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

namespace digestflow::ledger {
namespace {

DIGESTFLOW_LABELLED_CASES()

namespace fs = std::filesystem;

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_file(const fs::path& path, std::string_view bytes) {
    std::ofstream out(path, std::ios::binary);
    out << bytes;
}

void run(const std::string& command) {
    ASSERT_EQ(std::system((command + " 2>/dev/null").c_str()), 0) << command;
}

// Keys for the whole suite: a and b (Ed25519), an encrypted Ed25519 key, an RSA key pair, a non-key.
class Keys {
  public:
    fs::path dir;

    Keys() {
        char pattern[] = "/tmp/digestflow-signing-XXXXXX";
        dir = ::mkdtemp(pattern);
        for (const char* name : {"a", "b"}) {
            run("openssl genpkey -algorithm ed25519 -out " + path(std::string(name) + ".pem"));
            run("openssl pkey -in " + path(std::string(name) + ".pem") + " -pubout -out " +
                path(std::string(name) + ".pub"));
        }
        run("openssl genpkey -algorithm ed25519 -aes-256-cbc -pass pass:secret -out " +
            path("encrypted.pem"));
        run("openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:1024 -out " + path("rsa.pem"));
        run("openssl pkey -in " + path("rsa.pem") + " -pubout -out " + path("rsa.pub"));
        write_file(dir / "garbage.pem", "not a key\n");
    }
    ~Keys() { fs::remove_all(dir); }
    std::string path(const std::string& name) const { return (dir / name).string(); }

    // What the header promises keyId is: `openssl pkey -pubin -in key.pub -outform DER | sha256sum`.
    std::string openssl_key_id(const std::string& pub) const {
        run("openssl pkey -pubin -in " + path(pub) + " -outform DER | sha256sum > " + path(pub + ".id"));
        return "sha256:" + read_file(dir / (pub + ".id")).substr(0, 64);
    }
};

const Keys& keys() {
    static const Keys instance;
    return instance;
}

Entry sample_entry() {
    Entry entry;
    entry.prev = std::string(genesis_prev);
    entry.at = "2026-12-02T05:43:32Z";
    entry.environment = "production";
    entry.repository = "registry.example.com/team/app";
    entry.digest = "sha256:" + std::string(64, 'b');
    entry.media_type = "application/vnd.oci.image.manifest.v1+json";
    entry.size = 1043;
    entry.tag = "v1.4.2";
    entry.by = "ci@example.com";
    entry.note = "caf\xC3\xA9 \"quoted\"";
    return entry;
}

// An unsigned line whose "holds" has an environment named "sig" last: `,"sig":{` occurs in it.
std::string line_with_sig_environment() {
    Entry entry = sample_entry();
    entry.holds = {{"alpha", {"sha256:" + std::string(64, 'c'), "2026-12-01T00:00:00Z"}},
                   {"sig", {"sha256:" + std::string(64, 'd'), "2026-12-01T00:00:00Z"}}};
    return serialize_line(entry);
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos)
        text.replace(at, from.size(), to);
    return text;
}

std::string sig_value(const std::string& signed_line) {
    const std::size_t at = signed_line.find("\"value\":\"") + 9;
    return signed_line.substr(at, signed_line.find('"', at) - at);
}

TEST(Signing, KeyIdIsTheSha256OfTheDerPublicKey) {
    const auto signing = SigningKey::load(keys().path("a.pem"));
    const auto verify = VerifyKey::load(keys().path("a.pub"));
    EXPECT_EQ(signing.key_id(), keys().openssl_key_id("a.pub"));
    EXPECT_EQ(verify.key_id(), signing.key_id());
    EXPECT_EQ(verify.path(), keys().path("a.pub"));
    EXPECT_NE(VerifyKey::load(keys().path("b.pub")).key_id(), signing.key_id());
}

TEST(Signing, SignedLineAddsTheSigMemberLastAndVerifies) {
    const auto signing = SigningKey::load(keys().path("a.pem"));
    const std::string line = serialize_line(sample_entry());
    const std::string signed_line = signing.sign_line(line);

    const std::string prefix = line.substr(0, line.size() - 2) +
                               ",\"sig\":{\"alg\":\"ed25519\",\"keyId\":\"" + signing.key_id() +
                               "\",\"value\":\"";
    ASSERT_EQ(signed_line.rfind(prefix, 0), 0u) << signed_line;
    EXPECT_EQ(signed_line.substr(signed_line.size() - 4), "\"}}\n");
    EXPECT_EQ(sig_value(signed_line).size(), 88u);
    EXPECT_TRUE(has_signature(signed_line));
    EXPECT_FALSE(has_signature(line));
    ScannedLine scanned;
    EXPECT_FALSE(scan_object_line(signed_line, scanned));
    EXPECT_EQ(parse_line(signed_line, "line 1").note, sample_entry().note); // readers ignore "sig"

    std::vector<VerifyKey> verify;
    verify.push_back(VerifyKey::load(keys().path("b.pub")));
    verify.push_back(VerifyKey::load(keys().path("a.pub")));
    const auto check = check_line_signature(signed_line, verify);
    EXPECT_EQ(check.state, SignatureState::Valid) << check.why;
    EXPECT_EQ(check.key_id, signing.key_id());
    EXPECT_EQ(check.why, "");
}

// The signed bytes, checked by openssl itself: domain prefix + the line without "sig" and "\n".
TEST(Signing, OpensslVerifiesTheDocumentedMessage) {
    const auto signing = SigningKey::load(keys().path("a.pem"));
    const std::string line = serialize_line(sample_entry());
    const std::string signed_line = signing.sign_line(line);
    write_file(keys().dir / "message", "digestflow-ledger-v1\n" + line.substr(0, line.size() - 1));
    write_file(keys().dir / "sig.b64", sig_value(signed_line) + "\n");
    run("openssl base64 -d -in " + keys().path("sig.b64") + " -out " + keys().path("sig.bin"));
    run("openssl pkeyutl -verify -pubin -inkey " + keys().path("a.pub") + " -rawin -in " +
        keys().path("message") + " -sigfile " + keys().path("sig.bin") + " >/dev/null");
}

TEST(Signing, ALineWithASigEnvironmentIsUnsignedUntilSigned) {
    const std::string line = line_with_sig_environment();
    ASSERT_NE(line.find(",\"sig\":{"), std::string::npos);
    EXPECT_FALSE(has_signature(line));
    std::vector<VerifyKey> verify;
    verify.push_back(VerifyKey::load(keys().path("a.pub")));
    EXPECT_EQ(check_line_signature(line, verify).state, SignatureState::Unsigned);
    const std::string signed_line = SigningKey::load(keys().path("a.pem")).sign_line(line);
    EXPECT_TRUE(has_signature(signed_line));
    const auto check = check_line_signature(signed_line, verify);
    EXPECT_EQ(check.state, SignatureState::Valid) << check.why;
}

TEST(Signing, SignLineRefusesASignedOrUnterminatedLine) {
    const auto signing = SigningKey::load(keys().path("a.pem"));
    const std::string line = serialize_line(sample_entry());
    EXPECT_THROW(signing.sign_line(signing.sign_line(line)), std::logic_error);
    EXPECT_THROW(signing.sign_line(line.substr(0, line.size() - 1)), std::logic_error);
}

struct CheckCase {
    std::string label;
    // The line to check, from a line signed with key a (its keyId `a_id`) and key b's id.
    std::function<std::string(const std::string& signed_line, const std::string& a_id,
                              const std::string& b_id)>
        line;
    std::vector<std::string> verify_keys; // public key files
    SignatureState state;
    bool names_key;  // check.key_id is the line's keyId
    std::string why; // substring
};

class CheckLineSignature : public testing::TestWithParam<CheckCase> {};

TEST_P(CheckLineSignature, SaysWhatIsWrong) {
    const auto& c = GetParam();
    const auto a = SigningKey::load(keys().path("a.pem"));
    const std::string b_id = VerifyKey::load(keys().path("b.pub")).key_id();
    const std::string line = c.line(a.sign_line(serialize_line(sample_entry())), a.key_id(), b_id);
    std::vector<VerifyKey> verify;
    for (const auto& name : c.verify_keys)
        verify.push_back(VerifyKey::load(keys().path(name)));
    const auto check = check_line_signature(line, verify);
    EXPECT_EQ(static_cast<int>(check.state), static_cast<int>(c.state)) << check.why;
    EXPECT_NE(check.why.find(c.why), std::string::npos) << check.why;
    if (c.names_key)
        EXPECT_NE(check.key_id, "");
    else
        EXPECT_EQ(check.key_id, "");
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL's error queue was left with an error";
}

using S = std::string;
const std::vector<CheckCase> check_cases = {
    {"unsigned",
     [](S, S, S) { return serialize_line(sample_entry()); },
     {"a.pub"},
     SignatureState::Unsigned,
     false,
     ""},
    {"valid_without_newline",
     [](S l, S, S) { return l.substr(0, l.size() - 1); },
     {"a.pub"},
     SignatureState::Valid,
     true,
     ""},
    {"unknown_key",
     [](S l, S, S) { return l; },
     {"b.pub"},
     SignatureState::UnknownKey,
     true,
     "no key given has keyId sha256:"},
    {"no_keys", [](S l, S, S) { return l; }, {}, SignatureState::UnknownKey, true, "no key given has keyId"},
    {"forged_key_id",
     [](S l, S a, S b) { return replace(l, a, b); },
     {"b.pub"},
     SignatureState::Invalid,
     true,
     "the signature does not verify with key sha256:"},
    {"flipped_byte_in_line",
     [](S l, S, S) { return replace(l, "production", "productiom"); },
     {"a.pub"},
     SignatureState::Invalid,
     true,
     "a.pub)"},
    {"flipped_prev",
     [](S l, S, S) { return replace(l, "\"prev\":\"sha256:0", "\"prev\":\"sha256:1"); },
     {"a.pub"},
     SignatureState::Invalid,
     true,
     "does not verify"},
    {"other_signature_bytes",
     [](S l, S, S) {
         const S v = sig_value(l);
         return replace(l, v, S(1, v[0] == 'A' ? 'B' : 'A') + v.substr(1));
     },
     {"a.pub"},
     SignatureState::Invalid,
     true,
     "does not verify"},
    {"sig_not_last",
     [](S l, S, S) { return l.substr(0, l.size() - 2) + ",\"x\":1}\n"; },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not the last member"},
    {"sig_first",
     [](S l, S, S) {
         const std::size_t at = l.rfind(",\"sig\":{");
         return "{" + l.substr(at + 1, l.size() - 2 - at - 1) + "," + l.substr(1, at - 1) + "}\n";
     },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not the last member"},
    {"space_before_sig",
     [](S l, S, S) { return replace(l, ",\"sig\":{", ", \"sig\":{"); },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not written as"},
    {"space_after_sig",
     [](S l, S, S) { return l.substr(0, l.size() - 2) + " }\n"; },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not written as"},
    {"sig_string",
     [](S, S, S) {
         S l = serialize_line(sample_entry());
         return l.substr(0, l.size() - 2) + ",\"sig\":\"x\"}\n";
     },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not written as"},
    {"other_alg",
     [](S l, S, S) { return replace(l, "\"ed25519\"", "\"rsa\""); },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "is not {\"alg\":\"ed25519\""},
    {"extra_member",
     [](S l, S, S) { return replace(l, "{\"alg\"", "{\"x\":\"y\",\"alg\""); },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "is not {\"alg\":\"ed25519\""},
    {"missing_value",
     [](S l, S, S) { return replace(l, "\"value\":", "\"valeu\":"); },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not the base64"},
    {"members_reordered",
     [](S l, S a, S) {
         return replace(l, "\"alg\":\"ed25519\",\"keyId\":\"" + a + "\"",
                        "\"keyId\":\"" + a + "\",\"alg\":\"ed25519\"");
     },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not in the form digestflow writes"},
    {"key_id_not_digest",
     [](S l, S a, S) { return replace(l, a, "a"); },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "keyId is not a sha256 digest"},
    {"key_id_sha512",
     [](S l, S a, S) { return replace(l, a, "sha512:" + S(128, 'a')); },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "keyId is not a sha256 digest"},
    {"value_63_bytes",
     [](S l, S, S) {
         const S v = sig_value(l);
         return replace(l, v, v.substr(0, 84));
     },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not the base64 of a 64-byte"},
    {"value_bad_char",
     [](S l, S, S) {
         const S v = sig_value(l);
         return replace(l, v, "*" + v.substr(1));
     },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not the base64"},
    {"value_bits_under_padding",
     [](S l, S, S) {
         const S v =
             sig_value(l); // the 86th character only carries 2 bits: a non-zero low nibble is a 2nd spelling
         const char last = v[85];
         const char other = last == 'A' ? 'B' : static_cast<char>(last + 1);
         return replace(l, v, v.substr(0, 85) + other + "==");
     },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "not the base64"},
    {"not_json",
     [](S l, S, S) { return replace(l, "{\"v\"", "{v\""); },
     {"a.pub"},
     SignatureState::Malformed,
     false,
     "the line is not a JSON object: unexpected 'v' at byte 1"},
    {"not_json_unsigned",
     [](S, S, S) { return S("{broken\n"); },
     {"a.pub"},
     SignatureState::Unsigned,
     false,
     ""},
};

INSTANTIATE_TEST_SUITE_P(Cases, CheckLineSignature, testing::ValuesIn(check_cases), label_of<CheckCase>);

struct LoadCase {
    std::string label;
    bool signing;     // SigningKey::load, else VerifyKey::load
    std::string file; // in the keys folder
    std::string why;  // substring, after the path
};

class KeyLoad : public testing::TestWithParam<LoadCase> {};

TEST_P(KeyLoad, RefusesNamingThePathNotTheKey) {
    const auto& c = GetParam();
    const std::string path = keys().path(c.file);
    try {
        if (c.signing)
            SigningKey::load(path);
        else
            VerifyKey::load(path);
        FAIL() << "loaded " << c.file;
    } catch (const Error& e) {
        const std::string message = e.what();
        EXPECT_EQ(e.kind(), ErrorKind::Usage);
        EXPECT_EQ(message.rfind(path, 0), 0u) << message;
        EXPECT_NE(message.find(c.why), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        // No line of the key file's base64 body appears in the message.
        std::istringstream pem(fs::exists(path) ? read_file(path) : "");
        for (std::string line; std::getline(pem, line);)
            if (line.size() > 16 && line.find("-----") == std::string::npos) {
                EXPECT_EQ(message.find(line), std::string::npos) << message;
            }
    }
    EXPECT_EQ(ERR_peek_error(), 0u) << "OpenSSL's error queue was left with an error";
}

const std::vector<LoadCase> load_cases = {
    {"signing_missing", true, "absent.pem", ": cannot open: No such file or directory"},
    {"signing_encrypted", true, "encrypted.pem",
     " is encrypted; digestflow needs an unencrypted Ed25519 key"},
    {"signing_rsa", true, "rsa.pem", ": RSA key; digestflow signs ledger lines with Ed25519 keys"},
    {"signing_public_key", true, "a.pub", " holds a public key; signing needs the private key"},
    {"signing_garbage", true, "garbage.pem", " is not a PEM private key"},
    {"signing_folder", true, "", "not a regular file"},
    {"verify_missing", false, "absent.pub", ": cannot open: No such file or directory"},
    {"verify_private_key", false, "a.pem", " holds a private key; pass its public key instead"},
    {"verify_encrypted_private_key", false, "encrypted.pem", " holds a private key"},
    {"verify_rsa", false, "rsa.pub", ": RSA public key; digestflow signs ledger lines with Ed25519 keys"},
    {"verify_garbage", false, "garbage.pem", " is not a PEM public key"},
};

INSTANTIATE_TEST_SUITE_P(Cases, KeyLoad, testing::ValuesIn(load_cases), label_of<LoadCase>);

TEST(Signing, KeysMove) {
    auto key = SigningKey::load(keys().path("a.pem"));
    const std::string id = key.key_id();
    SigningKey moved = std::move(key);
    EXPECT_EQ(moved.key_id(), id);
    std::vector<VerifyKey> verify;
    verify.push_back(VerifyKey::load(keys().path("b.pub")));
    verify.push_back(VerifyKey::load(keys().path("a.pub"))); // the vector grows: VerifyKeys move
    EXPECT_EQ(check_line_signature(moved.sign_line(serialize_line(sample_entry())), verify).state,
              SignatureState::Valid);
}

} // namespace
} // namespace digestflow::ledger
