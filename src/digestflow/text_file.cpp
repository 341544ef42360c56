#include "digestflow/text_file.hpp"

#include "digestflow/error.hpp"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace digestflow {
namespace {

std::string size_text(std::size_t bytes) {
    if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0)
        return std::to_string(bytes / (1024 * 1024)) + " MiB";
    return std::to_string(bytes) + " bytes";
}

// Closes the descriptor on every path out, so a throw never leaks it.
struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd > STDERR_FILENO)
            ::close(fd);
    }
};

std::string read_all(int fd, const std::string& name, const InputFileOptions& options) {
    std::string content;
    char buffer[65536];
    for (;;) {
        ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw_usage(name + ": cannot read: " + std::strerror(errno) + options.hint);
        }
        if (n == 0)
            break;
        content.append(buffer, static_cast<std::size_t>(n));
        if (content.size() > options.max_bytes)
            throw_usage(name + ": larger than " + size_text(options.max_bytes) + "; is it the right file?" +
                        options.hint);
    }
    return content;
}

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO (named pipe)";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string utf16_to_utf8(const std::string& bytes, bool little_endian, const std::string& origin) {
    const std::string fix = " (save the file as UTF-8 or UTF-16 from the tool's own output)";
    if (bytes.size() % 2 != 0)
        throw_usage(origin + ": UTF-16 text with an odd number of bytes: cut off?" + fix);
    auto unit = [&](std::size_t i) -> std::uint32_t {
        auto a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]);
        return little_endian ? (b << 8 | a) : (a << 8 | b);
    };
    std::string out;
    out.reserve(bytes.size() / 2);
    for (std::size_t i = 2; i < bytes.size(); i += 2) {
        std::uint32_t cp = unit(i);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            std::uint32_t low = i + 2 < bytes.size() ? unit(i + 2) : 0;
            if (low < 0xDC00 || low > 0xDFFF)
                throw_usage(origin + ": UTF-16 text with an unpaired surrogate at byte " + std::to_string(i) +
                            fix);
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 2;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            throw_usage(origin + ": UTF-16 text with an unpaired surrogate at byte " + std::to_string(i) +
                        fix);
        }
        append_utf8(out, cp);
    }
    return out;
}

} // namespace

std::string decode_text(std::string bytes, const std::string& origin) {
    if (bytes.rfind("\xEF\xBB\xBF", 0) == 0)
        return bytes.substr(3);
    if (bytes.rfind("\xFF\xFE", 0) == 0)
        return utf16_to_utf8(bytes, true, origin);
    if (bytes.rfind("\xFE\xFF", 0) == 0)
        return utf16_to_utf8(bytes, false, origin);
    return bytes;
}

std::string read_text_file(const std::string& path, const std::string& what,
                           const InputFileOptions& options) {
    const std::string origin = path == "-" && options.allow_stdin ? "stdin" : path;
    const std::string name = what.empty() ? origin : what + " " + origin;
    if (path.empty())
        throw_usage((what.empty() ? std::string("a file path") : what) + " is empty: name a file" +
                    options.hint);
    if (path == "-" && options.allow_stdin) {
        auto bytes = read_all(STDIN_FILENO, name, options);
        return options.decode ? decode_text(std::move(bytes), name) : bytes;
    }

    // O_NONBLOCK: opening a FIFO with no writer would otherwise wait forever; fstat then refuses it.
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        int err = errno;
        throw_usage(name + ": cannot open: " + std::strerror(err) +
                    (err == ENOENT && !options.missing_hint.empty() ? options.missing_hint : options.hint));
    }
    FdCloser closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0)
        throw_usage(name + ": cannot read: " + std::strerror(errno) + options.hint);
    if (!S_ISREG(st.st_mode))
        throw_usage(
            name + ": is " + kind_of(st.st_mode) + ", not a regular file" +
            (S_ISDIR(st.st_mode) ? " (name the file inside it)" : " (save the output to a file first)") +
            options.hint);
    int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    auto bytes = read_all(fd, name, options);
    return options.decode ? decode_text(std::move(bytes), name) : bytes;
}

std::string read_text_file(const std::string& path, const std::string& what, std::size_t max_bytes) {
    InputFileOptions options;
    options.max_bytes = max_bytes;
    return read_text_file(path, what, options);
}

} // namespace digestflow
