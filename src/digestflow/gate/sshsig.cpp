#include "digestflow/gate/sshsig.hpp"

#include "digestflow/base64.hpp"
#include "digestflow/gate/ssh_wire.hpp"

#include <openssl/evp.h>

namespace digestflow::gate {

namespace {

constexpr std::string_view k_begin = "-----BEGIN SSH SIGNATURE-----";
constexpr std::string_view k_end = "-----END SSH SIGNATURE-----";
constexpr std::string_view k_magic = "SSHSIG";
constexpr std::uint32_t k_version = 1;
constexpr std::size_t k_wrap = 70;  // ssh-keygen's line length

std::string hash_of(std::string_view algorithm, std::string_view message) {
    const EVP_MD* md = algorithm == "sha256" ? EVP_sha256() : EVP_sha512();
    std::string out(static_cast<std::size_t>(EVP_MD_get_size(md)), '\0');
    EVP_Digest(message.data(), message.size(), reinterpret_cast<unsigned char*>(out.data()), nullptr, md, nullptr);
    return out;
}

std::string dearmor(std::string_view text) {
    // Lines, with CR LF read like LF; blank lines around the armor are tolerated, nothing else is.
    std::string body;
    enum { Before, Inside, After } state = Before;
    std::size_t at = 0;
    while (at <= text.size()) {
        const auto nl = text.find('\n', at);
        std::string_view line = text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
        at = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (state == Before) {
            if (line.empty()) continue;
            if (line != k_begin) throw SshFormatError("it does not start with " + std::string(k_begin));
            state = Inside;
        } else if (state == Inside) {
            if (line == k_end) {
                state = After;
                continue;
            }
            body.append(line);
        } else if (!line.empty()) {
            throw SshFormatError("text after " + std::string(k_end));
        }
    }
    if (state != After) throw SshFormatError("no " + std::string(k_end) + " line");
    std::optional<std::string> blob = base64_decode(body);
    if (!blob) throw SshFormatError("the armored body is not base64");
    return *blob;
}

}  // namespace

SshSignature parse_ssh_signature(std::string_view armored) {
    const std::string blob = dearmor(armored);
    SshReader reader(blob);
    if (reader.raw(k_magic.size(), "magic") != k_magic) throw SshFormatError("not an SSHSIG blob (no SSHSIG magic)");
    const std::uint32_t version = reader.u32("version");
    if (version != k_version) throw SshFormatError("SSHSIG version " + std::to_string(version) + " (only 1 is known)");
    SshSignature out{SshPublicKey::from_blob(reader.string("public key")), "", "", ""};
    out.sig_namespace = std::string(reader.string("namespace"));
    reader.string("reserved");
    out.hash_algorithm = std::string(reader.string("hash algorithm"));
    out.signature = std::string(reader.string("signature"));
    reader.expect_end("the signature");
    if (out.sig_namespace.empty()) throw SshFormatError("empty namespace");
    if (out.hash_algorithm != "sha256" && out.hash_algorithm != "sha512")
        throw SshFormatError("hash algorithm " + out.hash_algorithm + " (sha256 or sha512)");
    return out;
}

std::string sshsig_signed_data(std::string_view sig_namespace, std::string_view hash_algorithm, std::string_view message) {
    std::string out(k_magic);
    put_string(out, sig_namespace);
    put_string(out, "");
    put_string(out, hash_algorithm);
    put_string(out, hash_of(hash_algorithm, message));
    return out;
}

SignatureCheck verify_ssh_signature(const SshSignature& signature, std::string_view message,
                                    std::string_view expected_namespace) {
    if (signature.sig_namespace != expected_namespace)
        return {false, "signed for namespace \"" + signature.sig_namespace + "\", not \"" + std::string(expected_namespace) + "\""};
    return signature.key.verify(signature.signature,
                                sshsig_signed_data(signature.sig_namespace, signature.hash_algorithm, message));
}

std::string armor_ssh_signature(std::string_view blob) {
    const std::string encoded = base64_encode(blob);
    std::string out(k_begin);
    out += '\n';
    for (std::size_t at = 0; at < encoded.size(); at += k_wrap) out += encoded.substr(at, k_wrap) + '\n';
    out += k_end;
    out += '\n';
    return out;
}

}  // namespace digestflow::gate
