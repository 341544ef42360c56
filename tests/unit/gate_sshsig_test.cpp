// SSHSIG parsing and checking, SSH key blobs and the allowed_signers rules, without ssh-keygen: the published
// vector (../shared/FORMATS.md §1.5), signatures this test makes with OpenSSL (Ed25519 and a FIDO-style
// sk-ssh-ed25519 key), and each way a signature or a signers line must be refused.
#include "digestflow/base64.hpp"
#include "digestflow/error.hpp"
#include "digestflow/gate/allowed_signers.hpp"
#include "digestflow/gate/ssh_wire.hpp"
#include "digestflow/gate/sshsig.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>

#include <memory>

using namespace digestflow;
using namespace digestflow::gate;

namespace {

const std::string vector_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk vector@example.com";
const std::string vector_message =
    R"({"digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000","environment":"production"})";
const std::string vector_namespace = "digestflow-approval@example.com";
const std::string vector_signature =
    "-----BEGIN SSH SIGNATURE-----\n"
    "U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgebVWLo/mVPlAeLES6KmLp5AfhT\n"
    "rmlb7X4OORC60ElmQAAAAfZGlnZXN0Zmxvdy1hcHByb3ZhbEBleGFtcGxlLmNvbQAAAAAA\n"
    "AAAGc2hhNTEyAAAAUwAAAAtzc2gtZWQyNTUxOQAAAECP+0EU4JXdc4gGF/T+B7C9xaUBwH\n"
    "V01p6cdB6h+5hl2ZDmEB5ioAidcuKvETddnmNoMxFFoQsCBrjP3vESBasK\n"
    "-----END SSH SIGNATURE-----\n";

// An Ed25519 key from a 32-byte seed, and signing with it: what ssh-keygen would do, made here.
struct Ed25519 {
    explicit Ed25519(unsigned char first) {
        unsigned char seed[32];
        for (int i = 0; i < 32; ++i) seed[i] = static_cast<unsigned char>(first + i);
        key.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, 32));
        std::size_t length = 32;
        pk.resize(32);
        EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(pk.data()), &length);
    }
    std::string sign(const std::string& data) const {
        std::string sig(64, '\0');
        std::size_t length = 64;
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key.get());
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &length,
                       reinterpret_cast<const unsigned char*>(data.data()), data.size());
        EVP_MD_CTX_free(ctx);
        return sig;
    }
    std::string blob(const std::string& type = "ssh-ed25519", const std::string& application = "") const {
        std::string out;
        put_string(out, type);
        put_string(out, pk);
        if (!application.empty()) put_string(out, application);
        return out;
    }
    struct Free {
        void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
    };
    std::unique_ptr<EVP_PKEY, Free> key;
    std::string pk;
};

std::string sha256(const std::string& bytes) {
    std::string out(32, '\0');
    EVP_Digest(bytes.data(), bytes.size(), reinterpret_cast<unsigned char*>(out.data()), nullptr, EVP_sha256(), nullptr);
    return out;
}

std::string sshsig_blob(const std::string& key_blob, const std::string& ns, const std::string& hash, const std::string& signature,
                        std::uint32_t version = 1) {
    std::string out = "SSHSIG";
    put_u32(out, version);
    put_string(out, key_blob);
    put_string(out, ns);
    put_string(out, "");
    put_string(out, hash);
    put_string(out, signature);
    return out;
}

std::string ed25519_signature_field(const Ed25519& key, const std::string& data) {
    std::string field;
    put_string(field, "ssh-ed25519");
    put_string(field, key.sign(data));
    return field;
}

TEST(SshSig, PublishedVectorVerifies) {
    const SshSignature sig = parse_ssh_signature(vector_signature);
    EXPECT_EQ(sig.key, SshPublicKey::from_line(vector_key));
    EXPECT_EQ(sig.key.fingerprint(), "SHA256:eVkCKHnc5RjanBduU2vmOecbFl3M9wOgHdk24INJytY");
    EXPECT_EQ(sig.sig_namespace, vector_namespace);
    EXPECT_EQ(sig.hash_algorithm, "sha512");
    EXPECT_TRUE(verify_ssh_signature(sig, vector_message, vector_namespace).valid);
    // One byte of the statement changed, another namespace: both refused, with the reason.
    std::string tampered = vector_message;
    tampered[tampered.size() - 3] = 'X';
    const SignatureCheck bad = verify_ssh_signature(sig, tampered, vector_namespace);
    EXPECT_FALSE(bad.valid);
    EXPECT_NE(bad.why.find("does not verify"), std::string::npos) << bad.why;
    const SignatureCheck other_ns = verify_ssh_signature(sig, vector_message, "git");
    EXPECT_FALSE(other_ns.valid);
    EXPECT_NE(other_ns.why.find("namespace"), std::string::npos) << other_ns.why;
}

TEST(SshSig, ArmorIsWhatSshKeygenWrites) {
    const SshSignature sig = parse_ssh_signature(vector_signature);
    const std::string blob = sshsig_blob(sig.key.blob(), sig.sig_namespace, sig.hash_algorithm, sig.signature);
    EXPECT_EQ(armor_ssh_signature(blob), vector_signature);
    // CR LF line ends (a file saved on Windows) read the same.
    std::string crlf;
    for (char c : vector_signature) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    EXPECT_TRUE(verify_ssh_signature(parse_ssh_signature(crlf), vector_message, vector_namespace).valid);
}

TEST(SshSig, MalformedSignaturesAreRefusedNamingTheProblem) {
    const Ed25519 key(1);
    const std::string data = sshsig_signed_data("ns", "sha512", "m");
    const std::string field = ed25519_signature_field(key, data);
    struct Case {
        std::string name, armored, expected;
    };
    const std::vector<Case> cases{
        {"no armor", "U1NIU0lH\n", "does not start with"},
        {"no end line", "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n", "no -----END"},
        {"not base64", "-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----\n", "not base64"},
        {"text after", armor_ssh_signature(sshsig_blob(key.blob(), "ns", "sha512", field)) + "more\n", "text after"},
        {"bad magic", armor_ssh_signature("SSHSIX" + sshsig_blob(key.blob(), "ns", "sha512", field).substr(6)), "magic"},
        {"version 2", armor_ssh_signature(sshsig_blob(key.blob(), "ns", "sha512", field, 2)), "version 2"},
        {"empty namespace", armor_ssh_signature(sshsig_blob(key.blob(), "", "sha512", field)), "empty namespace"},
        {"md5", armor_ssh_signature(sshsig_blob(key.blob(), "ns", "md5", field)), "md5"},
        {"trailing bytes", armor_ssh_signature(sshsig_blob(key.blob(), "ns", "sha512", field) + "x"), "trailing"},
        {"truncated", armor_ssh_signature(sshsig_blob(key.blob(), "ns", "sha512", field).substr(0, 40)), "truncated"},
        {"short key", armor_ssh_signature(sshsig_blob(key.blob().substr(0, key.blob().size() - 1) , "ns", "sha512", field)), "truncated"},
        {"dsa key", armor_ssh_signature(sshsig_blob(Ed25519(1).blob("ssh-dss"), "ns", "sha512", field)), "not supported"},
        {"certificate", armor_ssh_signature(sshsig_blob(Ed25519(1).blob("ssh-ed25519-cert-v01@openssh.com"), "ns", "sha512", field)),
         "certificates"},
    };
    for (const Case& c : cases) {
        try {
            parse_ssh_signature(c.armored);
            ADD_FAILURE() << c.name << ": parsed";
        } catch (const SshFormatError& e) {
            EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << c.name << ": " << e.what();
        }
    }
}

TEST(SshSig, SignatureFieldMustMatchTheKey) {
    const Ed25519 key(1), other(2);
    const std::string data = sshsig_signed_data("ns", "sha256", "m");
    auto check = [&](const std::string& field) {
        return verify_ssh_signature(parse_ssh_signature(armor_ssh_signature(sshsig_blob(key.blob(), "ns", "sha256", field))),
                                    "m", "ns");
    };
    EXPECT_TRUE(check(ed25519_signature_field(key, data)).valid);
    EXPECT_FALSE(check(ed25519_signature_field(other, data)).valid);  // another key's signature
    std::string wrong_type;
    put_string(wrong_type, "ssh-rsa");
    put_string(wrong_type, key.sign(data));
    EXPECT_NE(check(wrong_type).why.find("ssh-rsa"), std::string::npos);
    std::string short_sig;
    put_string(short_sig, "ssh-ed25519");
    put_string(short_sig, key.sign(data).substr(0, 63));
    EXPECT_FALSE(check(short_sig).valid);
    EXPECT_NE(check(ed25519_signature_field(key, data) + "x").why.find("malformed"), std::string::npos);
}

TEST(SshSig, SecurityKeySignatureNeedsTheTouchFlag) {
    const Ed25519 key(7);
    const std::string type = "sk-ssh-ed25519@openssh.com", application = "ssh:";
    const std::string data = sshsig_signed_data("ns", "sha512", "m");
    auto field_with = [&](std::uint8_t flags) {
        std::string signed_bytes = sha256(application);
        signed_bytes.push_back(static_cast<char>(flags));
        put_u32(signed_bytes, 42);
        signed_bytes += sha256(data);
        std::string field;
        put_string(field, type);
        put_string(field, key.sign(signed_bytes));
        field.push_back(static_cast<char>(flags));
        put_u32(field, 42);
        return field;
    };
    auto check = [&](const std::string& field) {
        return verify_ssh_signature(
            parse_ssh_signature(armor_ssh_signature(sshsig_blob(key.blob(type, application), "ns", "sha512", field))), "m", "ns");
    };
    EXPECT_TRUE(check(field_with(0x01)).valid) << check(field_with(0x01)).why;
    const SignatureCheck untouched = check(field_with(0x00));
    EXPECT_FALSE(untouched.valid);
    EXPECT_NE(untouched.why.find("not touched"), std::string::npos) << untouched.why;
    std::string flipped = field_with(0x01);
    flipped[flipped.size() - 1] ^= 1;  // the counter is signed too
    EXPECT_FALSE(check(flipped).valid);
}

TEST(Base64, OnlyCanonicalTextDecodes) {
    EXPECT_EQ(base64_decode("aGk="), std::optional<std::string>("hi"));
    EXPECT_EQ(base64_decode(""), std::optional<std::string>(""));
    for (const char* bad : {"aGk", "aG k=", "aGl=", "a=Gk", "aGk==", "====", "aGk=\n"})
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
    EXPECT_EQ(base64_encode("hi"), "aGk=");
}

TEST(AllowedSignersPatterns, OpenSshPatternLists) {
    EXPECT_TRUE(matches_pattern_list("alice@example.com", "alice@example.com"));
    EXPECT_TRUE(matches_pattern_list("alice@example.com", "bob@example.com,*@example.com"));
    EXPECT_FALSE(matches_pattern_list("eve@example.com", "*@example.com,!eve@example.com"));
    EXPECT_FALSE(matches_pattern_list("eve@example.com", "!eve@example.com"));  // a negation alone allows nobody
    EXPECT_TRUE(matches_pattern_list("a1@x", "a?@x"));
    EXPECT_FALSE(matches_pattern_list("a12@x", "a?@x"));
    EXPECT_FALSE(matches_pattern_list("Alice@example.com", "alice@example.com"));  // case-sensitive
    EXPECT_FALSE(matches_pattern_list("alice@example.com.evil", "*@example.com"));
    EXPECT_TRUE(matches_pattern_list(std::string(5000, 'a'), std::string(50, '*') + "a"));  // no blow-up
}

TEST(AllowedSignersFile, OptionsWindowsAndReasons) {
    const Ed25519 alice(1), bob(2), carol(3);
    auto line = [](const Ed25519& k) { return "ssh-ed25519 " + base64_encode(k.blob()); };
    const std::string text = "# release signers\n\n"
                             "alice@example.com " + line(alice) + " alice's laptop\r\n"
                             "  bob@example.com,robert@example.com namespaces=\"digestflow-*\" " + line(bob) + "\n"
                             "carol@example.com valid-after=\"20260101Z\",valid-before=\"20261231235959Z\" " + line(carol) + "\n"
                             "*@example.com cert-authority " + line(carol) + "\n"
                             "dave@example.com ssh-dss " + base64_encode(Ed25519(4).blob("ssh-dss")) + "\n";  // kept, never matches
    const AllowedSigners signers = AllowedSigners::parse(text, "allowed_signers");
    const SshPublicKey a = SshPublicKey::from_blob(alice.blob()), b = SshPublicKey::from_blob(bob.blob()),
                       c = SshPublicKey::from_blob(carol.blob());
    const std::time_t mid_2026 = *parse_ssh_timestamp("20260701Z");
    EXPECT_TRUE(signers.check("alice@example.com", a, "digestflow-approval", mid_2026).allowed);
    EXPECT_EQ(signers.check("alice@example.com", a, "digestflow-approval", mid_2026).line, 3u);
    const SignerDecision alice_as_bob = signers.check("bob@example.com", a, "digestflow-approval", mid_2026);
    EXPECT_FALSE(alice_as_bob.allowed);
    EXPECT_NE(alice_as_bob.why.find("for alice@example.com, not for \"bob@example.com\""), std::string::npos) << alice_as_bob.why;
    EXPECT_TRUE(signers.check("robert@example.com", b, "digestflow-approval", mid_2026).allowed);
    const SignerDecision git_ns = signers.check("bob@example.com", b, "git", mid_2026);
    EXPECT_FALSE(git_ns.allowed);
    EXPECT_NE(git_ns.why.find("allowed_signers:4: namespaces="), std::string::npos) << git_ns.why;
    EXPECT_TRUE(signers.check("carol@example.com", c, "x", *parse_ssh_timestamp("20260101Z")).allowed);  // inclusive
    EXPECT_TRUE(signers.check("carol@example.com", c, "x", *parse_ssh_timestamp("20261231235959Z")).allowed);
    EXPECT_NE(signers.check("carol@example.com", c, "x", *parse_ssh_timestamp("20270101Z")).why.find("expired"), std::string::npos);
    EXPECT_NE(signers.check("carol@example.com", c, "x", *parse_ssh_timestamp("20251231235959Z")).why.find("valid only from"),
              std::string::npos);
    // The CA line never matches a plain key; an unknown key is named by fingerprint.
    EXPECT_FALSE(signers.check("zed@example.com", c, "x", mid_2026).allowed);
    const SignerDecision stranger = signers.check("alice@example.com", SshPublicKey::from_blob(Ed25519(9).blob()), "x", mid_2026);
    EXPECT_NE(stranger.why.find("is not in allowed_signers"), std::string::npos) << stranger.why;
    EXPECT_EQ(signers.principals_of(b), std::vector<std::string>{"bob@example.com,robert@example.com"});
}

TEST(AllowedSignersFile, BadLinesNameFileAndLine) {
    const std::string key = "ssh-ed25519 " + base64_encode(Ed25519(1).blob());
    struct Case {
        std::string text, expected;
    };
    const std::vector<Case> cases{
        {"alice@example.com\n", "signers:1: expected"},
        {"a@x " + key + "\nb@x ssh-ed25519 not-base64!\n", "signers:2: bad key"},
        {"a@x foo=\"1\" " + key + "\n", "unknown option"},
        {"a@x namespaces=\"a\",namespaces=\"b\" " + key + "\n", "namespaces= given twice"},
        {"a@x valid-before=\"2020\" " + key + "\n", "is not YYYYMMDD"},
        {"a@x namespaces=digestflow-approval " + key + "\n", "needs its value in double quotes"},  // as ssh-keygen refuses it
        {"a@x valid-after=\"20260201\",valid-before=\"20260101\" " + key + "\n", "earlier than valid-after"},
        {"a@x ssh-rsa " + base64_encode(Ed25519(1).blob()) + "\n", "says ssh-rsa"},
    };
    for (const Case& c : cases) {
        try {
            AllowedSigners::parse(c.text, "signers");
            ADD_FAILURE() << c.text << " parsed";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(c.expected), std::string::npos) << c.text << " -> " << e.what();
        }
    }
}

TEST(AllowedSignersFile, TimestampForms) {
    EXPECT_EQ(parse_ssh_timestamp("20260101Z"), std::optional<std::time_t>(1767225600));
    EXPECT_EQ(parse_ssh_timestamp("202601010000Z"), std::optional<std::time_t>(1767225600));
    EXPECT_EQ(parse_ssh_timestamp("20260101000001Z"), std::optional<std::time_t>(1767225601));
    for (const char* bad : {"", "2026", "20261301Z", "20260101T0000Z", "2026010100Z", "20260132Z"})
        EXPECT_FALSE(parse_ssh_timestamp(bad).has_value()) << bad;
}

}  // namespace
