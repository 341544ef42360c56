#include "digestflow/registry/system_trust.hpp"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include <dirent.h>

namespace digestflow::registry {
namespace {

std::string environment(const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "";
}

// OpenSSL's hash-link names: 8 hex digits, a dot, a decimal sequence number.
bool is_hash_link_name(const std::string& name) {
    if (name.size() < 10 || name[8] != '.') return false;
    for (std::size_t i = 0; i < 8; ++i)
        if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
    for (std::size_t i = 9; i < name.size(); ++i)
        if (!std::isdigit(static_cast<unsigned char>(name[i]))) return false;
    return true;
}

void load(SSL_CTX* context, const std::string& file, const std::string& directory) {
    if (SSL_CTX_load_verify_locations(context, file.empty() ? nullptr : file.c_str(),
                                      directory.empty() ? nullptr : directory.c_str()) != 1)
        throw std::runtime_error("cannot load the system CA certificates from " + (file.empty() ? directory : file));
}

bool is_existing(const std::string& path, bool directory) {
    std::error_code error;
    return directory ? std::filesystem::is_directory(path, error) : std::filesystem::exists(path, error);
}

// Both name the same file or directory once symbolic links are followed (/usr/lib/ssl/certs -> /etc/ssl/certs).
bool same_path(const std::string& a, const std::string& b) {
    std::error_code error_a, error_b;
    auto real_a = std::filesystem::canonical(a, error_a);
    auto real_b = std::filesystem::canonical(b, error_b);
    return !error_a && !error_b && real_a == real_b;
}

}  // namespace

// readdir, not std::filesystem: a few hundred entries without an allocation each.
std::size_t count_hash_links(const std::string& directory, std::size_t enough = SIZE_MAX) {
    DIR* listing = ::opendir(directory.c_str());
    if (!listing) return 0;
    std::size_t links = 0;
    while (const dirent* entry = ::readdir(listing))
        if (is_hash_link_name(entry->d_name) && ++links >= enough) break;
    ::closedir(listing);
    return links;
}

bool has_hashed_certificates(const std::string& directory) { return count_hash_links(directory, 1) > 0; }

bool bundle_covered_by_hash_links(const std::string& bundle, const std::string& directory) {
    // One read and a memmem scan: counting must stay far cheaper than the parse it saves.
    std::ifstream in(bundle, std::ios::binary | std::ios::ate);
    if (!in) return false;
    std::string all(static_cast<std::size_t>(std::max<std::streamoff>(in.tellg(), 0)), '\0');
    in.seekg(0);
    if (!in.read(all.data(), static_cast<std::streamsize>(all.size()))) return false;
    static constexpr char marker[] = "-----BEGIN CERTIFICATE-----";
    constexpr std::size_t marker_size = sizeof marker - 1;
    std::size_t certificates = 0;
    for (const char *at = all.data(), *end = all.data() + all.size();
         (at = static_cast<const char*>(::memmem(at, static_cast<std::size_t>(end - at), marker, marker_size)));
         at += marker_size)
        ++certificates;
    std::size_t links = count_hash_links(directory);
    return links > 0 && links >= certificates;
}

std::string add_system_trust(SSL_CTX* context) {
    // The same two locations OpenSSL's default paths name (a file and a directory, each overridable from the
    // environment); only the way the system bundle is read differs.
    const std::string file_override = environment(X509_get_default_cert_file_env());
    const std::string directory_override = environment(X509_get_default_cert_dir_env());
    const std::string directory = directory_override.empty() ? X509_get_default_cert_dir() : directory_override;
    const std::string file = file_override.empty() ? X509_get_default_cert_file() : file_override;
    std::string added;
    if (!directory_override.empty() || is_existing(directory, true)) {
        load(context, "", directory);  // lazily: nothing is read until a handshake asks for an issuer
        added = directory;
    }
    // update-ca-certificates writes the system bundle and the system hash links from the same certificates:
    // with a link for each, parsing the bundle adds nothing but start-up time. A CA appended to the bundle by
    // hand (a common image build step) has no link: then the bundle is loaded. Any other file is loaded.
    const bool bundle_is_in_directory = same_path(file, X509_get_default_cert_file()) &&
                                        same_path(directory, X509_get_default_cert_dir()) &&
                                        bundle_covered_by_hash_links(file, directory);
    // A bundle that does not exist is passed over, as OpenSSL's default paths do.
    if (!bundle_is_in_directory && is_existing(file, false)) {
        load(context, file, "");
        added += (added.empty() ? "" : ", ") + file;
    }
    return added;
}

}  // namespace digestflow::registry
