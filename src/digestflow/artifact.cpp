#include "digestflow/artifact.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"
#include "digestflow/reference.hpp"

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace digestflow {

namespace {

const char* const fix_hint = " (fix the file or capture again with capture-digest)";

// A JSON value for an error message: a string through quote(); anything else as ASCII-only JSON (control
// characters and non-ASCII escaped), always one line, never huge.
std::string show(const nlohmann::ordered_json& value) {
    if (value.is_string())
        return quote(value.get_ref<const std::string&>(), 80);
    std::string text = value.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace);
    const std::size_t limit = 80;
    if (text.size() > limit)
        text = text.substr(0, limit) + "...";
    return text;
}

std::string type_name(const nlohmann::ordered_json& value) {
    if (value.is_number_integer())
        return "integer";
    if (value.is_number_float())
        return "number";
    return value.type_name();
}

// JSON Schema's "integer" accepts 2.0 as well as 2; nlohmann keeps them apart, so accept both here to
// make validate() and the schema agree.
std::optional<std::int64_t> as_integer(const nlohmann::ordered_json& value) {
    if (value.is_number_unsigned()) {
        auto v = value.get<std::uint64_t>();
        if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            return std::nullopt;
        return static_cast<std::int64_t>(v);
    }
    if (value.is_number_integer())
        return value.get<std::int64_t>();
    if (value.is_number_float()) {
        double v = value.get<double>();
        // 2^63 is the first double outside int64; compare before converting.
        if (v < 9223372036854775808.0 && v >= -9223372036854775808.0 &&
            v == static_cast<double>(static_cast<std::int64_t>(v)))
            return static_cast<std::int64_t>(v);
    }
    return std::nullopt;
}

std::string string_or_empty(const nlohmann::ordered_json& obj, const char* key) {
    auto it = obj.find(key);
    return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// -1 when absent or not an integer.
std::int64_t size_or_unknown(const nlohmann::ordered_json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end())
        return -1;
    return as_integer(*it).value_or(-1);
}



void check_digest(const nlohmann::ordered_json& parent, const std::string& key, const std::string& where,
                  std::vector<std::string>& problems) {
    auto it = parent.find(key);
    if (it == parent.end()) {
        problems.push_back(where + ": missing (expected a digest like sha256:<64 hex>)");
        return;
    }
    if (!it->is_string()) {
        problems.push_back(where + ": expected a digest string, got " + type_name(*it));
        return;
    }
    if (auto reason = detail::digest_problem(it->get<std::string>()))
        problems.push_back(where + ": " + show(*it) + " is not a valid digest: " + *reason);
}

void check_optional_string(const nlohmann::ordered_json& parent, const std::string& key,
                           const std::string& where, std::vector<std::string>& problems) {
    auto it = parent.find(key);
    if (it == parent.end())
        return;
    if (!it->is_string())
        problems.push_back(where + ": expected a string, got " + type_name(*it));
    else if (it->get_ref<const std::string&>().empty())
        problems.push_back(where + ": must not be empty (leave the field out when unknown)");
}

void check_required_string(const nlohmann::ordered_json& parent, const std::string& key,
                           const std::string& where, std::vector<std::string>& problems,
                           bool allow_empty = false) {
    auto it = parent.find(key);
    if (it == parent.end())
        problems.push_back(where + ": missing");
    else if (!it->is_string())
        problems.push_back(where + ": expected a string, got " + type_name(*it));
    else if (!allow_empty && it->get_ref<const std::string&>().empty())
        problems.push_back(where + ": must not be empty");
}

void check_optional_size(const nlohmann::ordered_json& parent, const std::string& key,
                         const std::string& where, std::vector<std::string>& problems) {
    auto it = parent.find(key);
    if (it == parent.end())
        return;
    auto value = as_integer(*it);
    if (!value || *value < 0)
        problems.push_back(where + ": expected a size in bytes (an integer >= 0), got " + show(*it));
}

void check_repository(const nlohmann::ordered_json& image, std::vector<std::string>& problems) {
    auto it = image.find("repository");
    if (it == image.end()) {
        problems.push_back("image.repository: missing (expected e.g. \"registry.example.com/team/app\")");
        return;
    }
    if (!it->is_string()) {
        problems.push_back("image.repository: expected a string, got " + type_name(*it));
        return;
    }
    const auto& text = it->get_ref<const std::string&>();
    Reference ref;
    try {
        ref = Reference::parse(text);
    } catch (const Error& e) {
        problems.push_back("image.repository: " + show(*it) + " is not a valid repository: " + e.what());
        return;
    }
    if (ref.tag || ref.digest) {
        problems.push_back("image.repository: " + show(*it) + " must not carry a tag or digest (write \"" +
                           ref.repository() + "\")");
    } else if (ref.repository() != text) {
        problems.push_back("image.repository: " + show(*it) + " is not normalised (write \"" +
                           ref.repository() + "\")");
    }
}

void check_platforms(const nlohmann::ordered_json& image, std::vector<std::string>& problems) {
    auto it = image.find("platforms");
    if (it == image.end())
        return;
    if (!it->is_array()) {
        problems.push_back("image.platforms: expected an array, got " + type_name(*it));
        return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& entry = (*it)[i];
        const std::string where = "image.platforms[" + std::to_string(i) + "]";
        if (!entry.is_object()) {
            problems.push_back(where + ": expected an object, got " + type_name(entry));
            continue;
        }
        // os/architecture may be empty: an index child without a platform is still recorded.
        check_required_string(entry, "os", where + ".os", problems, true);
        check_required_string(entry, "architecture", where + ".architecture", problems, true);
        check_optional_string(entry, "variant", where + ".variant", problems);
        check_digest(entry, "digest", where + ".digest", problems);
        check_optional_string(entry, "mediaType", where + ".mediaType", problems);
        check_optional_size(entry, "size", where + ".size", problems);
    }
}

void check_image(const nlohmann::ordered_json& document, std::vector<std::string>& problems) {
    auto it = document.find("image");
    if (it == document.end()) {
        problems.push_back("image: missing (expected {\"repository\": ..., \"digest\": ...})");
        return;
    }
    if (!it->is_object()) {
        problems.push_back("image: expected an object, got " + type_name(*it));
        return;
    }
    const auto& image = *it;
    check_repository(image, problems);
    check_digest(image, "digest", "image.digest", problems);
    check_optional_string(image, "mediaType", "image.mediaType", problems);
    check_optional_size(image, "size", "image.size", problems);
    if (auto tag = image.find("tag"); tag != image.end()) {
        if (!tag->is_string())
            problems.push_back("image.tag: expected a string, got " + type_name(*tag));
        else if (!is_valid_tag(tag->get<std::string>()))
            problems.push_back("image.tag: " + show(*tag) + " is not a valid tag");
    }
    check_platforms(image, problems);
    if (auto verified = image.find("verified"); verified != image.end() && !verified->is_boolean())
        problems.push_back("image.verified: expected true or false, got " + show(*verified));
}

void check_schema_version(const nlohmann::ordered_json& document, std::vector<std::string>& problems) {
    auto it = document.find("schemaVersion");
    if (it == document.end()) {
        problems.push_back("schemaVersion: missing (expected 1)");
        return;
    }
    auto version = as_integer(*it);
    if (!version) {
        problems.push_back("schemaVersion: expected the integer 1, got " + show(*it));
    } else if (*version > 1) {
        problems.push_back("schemaVersion: " + std::to_string(*version) +
                           " was written by a newer digestflow (this one reads 1); upgrade digestflow");
    } else if (*version < 1) {
        problems.push_back("schemaVersion: expected 1, got " + std::to_string(*version));
    }
}

void check_history(const nlohmann::ordered_json& document, std::vector<std::string>& problems) {
    auto it = document.find("history");
    if (it == document.end()) {
        problems.push_back("history: missing (every artifact starts with a \"capture\" entry)");
        return;
    }
    if (!it->is_array()) {
        problems.push_back("history: expected an array, got " + type_name(*it));
        return;
    }
    for (std::size_t i = 0; i < it->size(); ++i) {
        const auto& entry = (*it)[i];
        const std::string where = "history[" + std::to_string(i) + "]";
        if (!entry.is_object()) {
            problems.push_back(where + ": expected an object, got " + type_name(entry));
            continue;
        }
        check_required_string(entry, "step", where + ".step", problems);
        check_optional_string(entry, "at", where + ".at", problems);
    }
}

std::string read_artifact_file(const std::string& path) {
    InputFileOptions options;
    options.max_bytes = max_artifact_bytes;
    options.allow_stdin = true;
    options.hint = " (check the path passed as --artifact)";
    options.missing_hint = " (run capture-digest first or pass --artifact PATH)";
    return read_text_file(path, "", options);
}

std::string parent_directory(const std::string& path) {
    auto slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

std::string errno_text(int err) {
    return std::strerror(err);
}

// Returns 0 or the errno of the failed write (short writes are continued).
int write_all(int fd, const std::string& content) {
    const char* data = content.data();
    std::size_t left = content.size();
    while (left > 0) {
        ssize_t n = ::write(fd, data, left);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        data += n;
        left -= static_cast<std::size_t>(n);
    }
    return 0;
}

void write_stdout(const std::string& content) {
    if (std::fwrite(content.data(), 1, content.size(), stdout) != content.size() || std::fflush(stdout) != 0)
        throw_usage(std::string("stdout: cannot write the artifact: ") + std::strerror(errno) +
                    " (check the output pipe or pass --out PATH)");
}

} // namespace

nlohmann::ordered_json platforms_to_json(const std::vector<PlatformEntry>& platforms) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& p : platforms) {
        nlohmann::ordered_json entry = nlohmann::ordered_json::object();
        entry["os"] = p.os;
        entry["architecture"] = p.architecture;
        if (!p.variant.empty())
            entry["variant"] = p.variant;
        entry["digest"] = p.digest;
        if (!p.media_type.empty())
            entry["mediaType"] = p.media_type;
        if (p.size >= 0)
            entry["size"] = p.size;
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<PlatformEntry> platforms_from_json(const nlohmann::ordered_json& platforms) {
    std::vector<PlatformEntry> out;
    for (const auto& p : platforms) {
        if (!p.is_object())
            continue;
        out.push_back(PlatformEntry{.os = string_or_empty(p, "os"),
                                    .architecture = string_or_empty(p, "architecture"),
                                    .variant = string_or_empty(p, "variant"),
                                    .digest = string_or_empty(p, "digest"),
                                    .media_type = string_or_empty(p, "mediaType"),
                                    .size = size_or_unknown(p, "size")});
    }
    return out;
}

Artifact Artifact::create(const ImageInfo& image, const nlohmann::ordered_json& build,
                          nlohmann::ordered_json first_history) {
    nlohmann::ordered_json img = nlohmann::ordered_json::object();
    img["repository"] = image.repository;
    img["digest"] = image.digest.str();
    if (!image.media_type.empty())
        img["mediaType"] = image.media_type;
    if (image.size >= 0)
        img["size"] = image.size;
    if (!image.tag.empty())
        img["tag"] = image.tag;
    if (!image.platforms.empty())
        img["platforms"] = platforms_to_json(image.platforms);
    // Written only when false: absence means the registry confirmed the digest.
    if (!image.verified)
        img["verified"] = false;

    const std::string now = utc_now_rfc3339();
    const std::string actor = current_actor();

    nlohmann::ordered_json build_block = build.is_null() ? nlohmann::ordered_json::object() : build;
    if (!build_block.is_object())
        throw_usage("image-digest.json: the build block must be a JSON object, got " +
                    type_name(build_block));
    if (!build_block.contains("at"))
        build_block["at"] = now;
    if (!build_block.contains("by"))
        build_block["by"] = actor;

    nlohmann::ordered_json doc = nlohmann::ordered_json::object();
    doc["schemaVersion"] = 1;
    doc["image"] = std::move(img);
    doc["build"] = std::move(build_block);
    if (first_history.is_null()) first_history = {{"step", "capture"}};
    nlohmann::ordered_json first = {{"step", first_history.value("step", "capture")}, {"at", now}, {"by", actor}};
    for (auto& [key, value] : first_history.items()) first[key] = value;
    doc["history"] = nlohmann::ordered_json::array({std::move(first)});

    auto problems = validate(doc);
    if (!problems.empty())
        throw_usage("image-digest.json: cannot create the artifact: " + problems.front() +
                    " (check --image and the captured digest)");
    return Artifact(std::move(doc));
}

Artifact Artifact::load(const std::string& path) {
    const std::string origin = path == "-" ? "stdin" : path;
    const std::string content = read_artifact_file(path);
    return from_json(parse_json_input(content, JsonInput{origin, fix_hint, false}), origin);
}

Artifact Artifact::from_json(const nlohmann::ordered_json& document, const std::string& origin) {
    auto problems = validate(document);
    if (!problems.empty())
        throw_usage(origin + ": " + problems.front() + fix_hint);
    return Artifact(document);
}

std::vector<std::string> Artifact::validate(const nlohmann::ordered_json& document) {
    std::vector<std::string> problems;
    if (!document.is_object()) {
        problems.push_back("document: expected a JSON object, got " + type_name(document));
        return problems;
    }
    check_schema_version(document, problems);
    check_image(document, problems);
    if (auto build = document.find("build"); build != document.end() && !build->is_object())
        problems.push_back("build: expected an object, got " + type_name(*build));
    check_history(document, problems);
    if (auto sig = document.find("signature"); sig != document.end() && !sig->is_object())
        problems.push_back("signature: expected an object, got " + type_name(*sig));
    return problems;
}

ImageInfo Artifact::image() const {
    const auto& img = m_doc.at("image");
    ImageInfo info{.repository = img.at("repository").get<std::string>(),
                   .digest = Digest::parse(img.at("digest").get<std::string>()),
                   .media_type = string_or_empty(img, "mediaType"),
                   .size = size_or_unknown(img, "size"),
                   .tag = string_or_empty(img, "tag"),
                   .platforms = {},
                   .verified = true};
    if (auto platforms = img.find("platforms"); platforms != img.end() && platforms->is_array())
        info.platforms = platforms_from_json(*platforms);
    auto verified = img.find("verified");
    info.verified = verified == img.end() || !verified->is_boolean() || verified->get<bool>();
    return info;
}

void Artifact::append_history(nlohmann::ordered_json entry) {
    if (!entry.is_object() || !entry.contains("step") || !entry["step"].is_string())
        throw_usage("history entry: expected an object with a string \"step\", got " + show(entry));
    if (!entry.contains("at")) {
        // Keep "step" first and "at" second so entries read the same as the capture entry.
        nlohmann::ordered_json ordered = nlohmann::ordered_json::object();
        ordered["step"] = entry["step"];
        ordered["at"] = utc_now_rfc3339();
        for (auto& [key, value] : entry.items())
            if (key != "step")
                ordered[key] = value;
        entry = std::move(ordered);
    }
    auto& history = m_doc["history"];
    if (!history.is_array())
        history = nlohmann::ordered_json::array();
    history.push_back(std::move(entry));
}

void Artifact::save(const std::string& path) const {
    std::string content = m_doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    content += '\n';
    if (path == "-") {
        write_stdout(content);
        return;
    }
    write_file_atomically(path, content);
}

std::string utc_now_rfc3339() {
    std::time_t now = std::time(nullptr);
    std::tm parts{};
    ::gmtime_r(&now, &parts);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
    return buffer;
}

std::string current_actor() {
    for (const char* name : {"GITLAB_USER_LOGIN", "GITHUB_ACTOR", "USER"}) {
        const char* value = std::getenv(name);
        if (value != nullptr && *value != '\0')
            return value;
    }
    return "uid:" + std::to_string(::getuid());
}

void write_file_atomically(const std::string& named, const std::string& content) {
    if (named.empty())
        throw_usage("output path is empty (pass --out PATH)");
    // A symbolic link is written through: the temp file goes beside the link's target and is renamed over
    // the target, so the link (and whatever else points at the target) sees the update.
    std::string path = named;
    struct stat link {};
    if (::lstat(named.c_str(), &link) == 0 && S_ISLNK(link.st_mode)) {
        char* resolved = ::realpath(named.c_str(), nullptr);
        if (resolved == nullptr)
            throw_usage(named + ": is a symbolic link whose target cannot be reached: " + errno_text(errno) +
                        " (fix the link, or pass --out a regular file)");
        path = resolved;
        std::free(resolved);
    }
    const std::string dir = parent_directory(path);
    const std::string base = path.substr(path.find_last_of('/') + 1);
    if (base.empty())
        throw_usage(path + ": names a directory, not a file (pass --out DIR/image-digest.json)");

    // Keep the target's permissions on rewrite; new files get 0644 so later CI jobs (other users) can read.
    mode_t mode = 0644;
    struct stat st {};
    const bool exists = ::stat(path.c_str(), &st) == 0;
    if (exists && S_ISREG(st.st_mode))
        mode = st.st_mode & 07777;
    // The rename would replace the node itself: `--out /dev/null` as root would leave a regular file at
    // /dev/null for every later job. (A directory fails at the rename, harmlessly.)
    if (exists && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) || S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)))
        throw_usage(path + ": is " +
                    (S_ISFIFO(st.st_mode) ? "a FIFO" : S_ISSOCK(st.st_mode) ? "a socket" : "a device") +
                    ", not a regular file, and writing the artifact would replace it (pass --out a regular file, "
                    "or --out - for stdout)");

    std::string temp = (dir == "/" ? std::string() : dir) + "/." + base + ".tmp.XXXXXX";
    int fd = ::mkstemp(temp.data());
    if (fd < 0)
        throw_usage(path + ": cannot create a temporary file in " + dir + ": " + errno_text(errno) +
                    " (check that the folder exists and is writable)");

    auto fail = [&](const std::string& what, int err) {
        if (fd >= 0)
            ::close(fd);
        ::unlink(temp.c_str());
        throw_usage(path + ": " + what + ": " + errno_text(err) +
                    " (the previous file, if any, is unchanged)");
    };

    if (int err = write_all(fd, content); err != 0)
        fail("cannot write", err);
    if (::fchmod(fd, mode) != 0)
        fail("cannot set permissions", errno);
    // Keep the owner too: a file of another user (a checkout pinned with sudo) must not become root's.
    if (exists && S_ISREG(st.st_mode) && (st.st_uid != ::geteuid() || st.st_gid != ::getegid()) &&
        ::fchown(fd, st.st_uid, st.st_gid) != 0)
        fail("cannot keep its owner " + std::to_string(st.st_uid) + ":" + std::to_string(st.st_gid), errno);
    if (::fsync(fd) != 0)
        fail("cannot flush to disk", errno);
    int closed = ::close(fd);
    fd = -1;
    if (closed != 0)
        fail("cannot close", errno);
    if (::rename(temp.c_str(), path.c_str()) != 0)
        fail("cannot replace", errno);

    // The rename is only durable once the directory entry is on disk.
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        int synced = ::fsync(dir_fd);
        int err = errno;
        ::close(dir_fd);
        // Some file systems cannot fsync a directory (EINVAL); the file itself is complete either way.
        if (synced != 0 && err != EINVAL && err != EROFS)
            throw_usage(path + ": written, but flushing its folder failed: " + errno_text(err) +
                        " (check the disk)");
    }
}

} // namespace digestflow
