#include "support/buildah.hpp"

#include <filesystem>
#include <stdexcept>

namespace digestflow::testsupport {
namespace {

std::string trimmed(std::string text) {
    text.erase(text.find_last_not_of(" \t\r\n") + 1);
    return text;
}

std::string format_flag(ImageFormat format, bool for_push) {
    if (format == ImageFormat::Oci) {
        return "oci";
    }
    return for_push ? "v2s2" : "docker";
}

std::string read_digest_file(const std::string& path, const std::string& what) {
    std::string digest = std::filesystem::exists(path) ? trimmed(read_text_file(path)) : "";
    // `manifest push` without --all exits 0 and writes an empty file: never trust the exit code alone.
    if (digest.rfind("sha256:", 0) != 0) {
        throw std::runtime_error(what + " wrote no digest to " + path + ": '" + digest + "'");
    }
    return digest;
}

} // namespace

Buildah::Buildah() {
    std::filesystem::create_directory(m_dir.file("tmp"));
}

RunResult Buildah::run(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{
        "buildah",          "--root", m_dir.file("root"), "--runroot", m_dir.file("runroot"),
        "--storage-driver", "vfs"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunOptions options;
    options.env = {{"TMPDIR", m_dir.file("tmp")}, {"BUILDAH_ISOLATION", "chroot"}};
    options.timeout_seconds = 120;
    return run_command(argv, options);
}

RunResult Buildah::run_checked_buildah(const std::vector<std::string>& args) const {
    RunResult result = run(args);
    if (!result.ok()) {
        throw std::runtime_error("buildah failed: " + describe_command(args) + "\n" + result.describe());
    }
    return result;
}

std::string Buildah::make_context(const ScratchImage& image) const {
    std::string context = m_dir.file("context-" + std::to_string(++m_contexts));
    std::filesystem::create_directories(context + "/payload");
    for (const auto& [path, content] : image.files) {
        std::filesystem::path target = std::filesystem::path(context) / "payload" / path;
        std::filesystem::create_directories(target.parent_path());
        write_text_file(target.string(), content);
    }
    for (const auto& [path, host_file] : image.programs) {
        std::filesystem::path target = std::filesystem::path(context) / "payload" / path;
        std::filesystem::create_directories(target.parent_path());
        std::filesystem::copy_file(host_file, target);  // keeps the mode: a program stays executable
    }
    if (!image.salt.empty()) {
        write_text_file(context + "/payload/salt.txt", image.salt);
    }
    write_text_file(context + "/Containerfile", "FROM scratch\nCOPY payload/ /\n");
    return context;
}

std::string Buildah::build_scratch_image(const std::string& name, const ScratchImage& image) {
    std::string context = make_context(image);
    std::string iid_file = context + ".iid";
    run_checked_buildah({"bud", "--isolation", "chroot", "--timestamp", "0", "--format",
                         format_flag(image.format, false), "--iidfile", iid_file, "-t", name, context});
    std::string id = trimmed(read_text_file(iid_file));
    if (id.rfind("sha256:", 0) != 0) {
        id = "sha256:" + id;
    }
    return id;
}

std::string Buildah::push(const std::string& image, const std::string& destination,
                          const RemoteOptions& remote, std::optional<ImageFormat> format) {
    std::string digest_file = m_dir.file("push-" + std::to_string(++m_contexts) + ".digest");
    std::vector<std::string> args{"push", "--digestfile", digest_file};
    if (format) {
        args.push_back("--format");
        args.push_back(format_flag(*format, true));
    }
    for (auto& flag : remote_flags(remote)) {
        args.push_back(flag);
    }
    args.push_back(image);
    args.push_back(docker_transport(destination));
    run_checked_buildah(args);
    return read_digest_file(digest_file, "buildah push");
}

void Buildah::build_index(const std::string& list, const ScratchImage& image,
                          const std::vector<std::string>& platforms) {
    run({"manifest", "rm", list}); // --manifest adds to an existing list: start from an empty one
    std::string platform_list;
    for (const auto& platform : platforms) {
        platform_list += (platform_list.empty() ? "" : ",") + platform;
    }
    std::string context = make_context(image);
    run_checked_buildah({"bud", "--isolation", "chroot", "--timestamp", "0", "--format",
                         format_flag(image.format, false), "--platform", platform_list, "--manifest", list,
                         context});
}

std::string Buildah::push_index(const std::string& list, const std::string& destination,
                                const RemoteOptions& remote, ImageFormat format) {
    std::string digest_file = m_dir.file("push-" + std::to_string(++m_contexts) + ".digest");
    std::vector<std::string> args{"manifest",     "push",     "--all", "--format", format_flag(format, true),
                                  "--digestfile", digest_file};
    for (auto& flag : remote_flags(remote)) {
        args.push_back(flag);
    }
    args.push_back(list);
    args.push_back(docker_transport(destination));
    run_checked_buildah(args);
    return read_digest_file(digest_file, "buildah manifest push");
}

} // namespace digestflow::testsupport
