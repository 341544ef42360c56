#include "support/skopeo.hpp"

#include "support/temp_dir.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace digestflow::testsupport {
namespace {

std::vector<std::string> auth_flags(const RemoteOptions& remote, const std::string& prefix) {
    std::vector<std::string> flags = remote_flags(remote, prefix);
    if (remote.creds.empty()) {
        flags.push_back("--" + prefix + "no-creds");
    }
    return flags;
}

RunOptions skopeo_run_options() {
    RunOptions options;
    options.timeout_seconds = 60;
    return options;
}

} // namespace

RunResult skopeo_inspect_raw(const std::string& reference, const RemoteOptions& remote) {
    std::vector<std::string> argv{"skopeo", "inspect", "--raw"};
    for (auto& flag : auth_flags(remote, "")) {
        argv.push_back(flag);
    }
    argv.push_back(docker_transport(reference));
    return run_command(argv, skopeo_run_options());
}

std::string raw_manifest(const std::string& reference, const RemoteOptions& remote) {
    RunResult result = skopeo_inspect_raw(reference, remote);
    if (!result.ok()) {
        throw std::runtime_error("skopeo inspect --raw " + reference + " failed: " + result.describe());
    }
    return result.stdout_text; // skopeo prints the bytes without adding a newline
}

std::string digest_of_raw(const std::string& bytes) {
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(bytes.data(), bytes.size(), hash, &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest(sha256) failed");
    }
    static const char* digits = "0123456789abcdef";
    std::string digest = "sha256:";
    for (unsigned int i = 0; i < length; ++i) {
        digest += digits[hash[i] >> 4];
        digest += digits[hash[i] & 0xf];
    }
    return digest;
}

std::string served_digest(const std::string& reference, const RemoteOptions& remote) {
    return digest_of_raw(raw_manifest(reference, remote));
}

std::string skopeo_copy(const std::string& source, const std::string& destination,
                        const RemoteOptions& source_remote, const RemoteOptions& destination_remote,
                        bool all) {
    TempDir scratch("digestflow-skopeo");
    std::vector<std::string> argv{"skopeo", "copy", "--digestfile", scratch.file("digest")};
    if (all) {
        argv.push_back("--all");
    }
    for (auto& flag : auth_flags(source_remote, "src-")) {
        argv.push_back(flag);
    }
    for (auto& flag : auth_flags(destination_remote, "dest-")) {
        argv.push_back(flag);
    }
    argv.push_back(docker_transport(source));
    argv.push_back(docker_transport(destination));
    run_checked(argv, skopeo_run_options());
    std::string digest = read_text_file(scratch.file("digest"));
    if (digest.rfind("sha256:", 0) != 0) {
        throw std::runtime_error("skopeo copy wrote no digest: '" + digest + "'");
    }
    return digest;
}

} // namespace digestflow::testsupport
