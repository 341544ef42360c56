#include "digestflow/ci/github.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <openssl/rand.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace digestflow::ci {
namespace {

bool has_line(const std::string& value, const std::string& line) {
    std::size_t start = 0;
    while (start <= value.size()) {
        std::size_t end = value.find('\n', start);
        if (end == std::string::npos) end = value.size();
        std::string_view piece(value.data() + start, end - start);
        if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
        if (piece == line) return true;
        start = end + 1;
    }
    return false;
}

std::string escape(std::string_view text, bool property) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '%': out += "%25"; break;
            case '\r': out += "%0D"; break;
            case '\n': out += "%0A"; break;
            case ':': out += property ? "%3A" : ":"; break;
            case ',': out += property ? "%2C" : ","; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace

bool on_github_actions() {
    const char* value = std::getenv("GITHUB_ACTIONS");
    return value && std::string_view(value) == "true";
}

std::string github_output_text(const Outputs& outputs, const std::string& delimiter_seed) {
    std::string text;
    for (const Output& output : outputs) {
        if (output.value.find_first_of("\r\n") == std::string::npos) {
            text += output.name + "=" + output.value + "\n";
            continue;
        }
        std::string delimiter = delimiter_seed;
        while (has_line(output.value, delimiter)) delimiter += "_";
        text += output.name + "<<" + delimiter + "\n" + output.value;
        if (output.value.back() != '\n') text += "\n";
        text += delimiter + "\n";
    }
    return text;
}

std::string escape_command_data(std::string_view text) { return escape(text, false); }
std::string escape_command_property(std::string_view text) { return escape(text, true); }

std::string annotation(std::string_view kind, std::string_view title, std::string_view message) {
    return "::" + std::string(kind) + " title=" + escape_command_property(title) + "::" +
           escape_command_data(message) + "\n";
}

std::string mask_command(std::string_view secret) { return "::add-mask::" + escape_command_data(secret) + "\n"; }

void append_to_variable_file(const char* variable, const std::string& text) {
    const char* path = std::getenv(variable);
    if (!path || !*path)
        throw_usage(std::string("GITHUB_ACTIONS=true but $") + variable +
                    " is not set; run inside a GitHub Actions step or unset GITHUB_ACTIONS");
    const int fd = ::open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw_usage(std::string("cannot append to $") + variable + " " + quote(path) + ": " + std::strerror(errno));
    std::size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            const int saved = errno;
            ::close(fd);
            throw_usage(std::string("cannot append to $") + variable + " " + quote(path) + ": " +
                        std::strerror(saved));
        }
        done += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0)
        throw_usage(std::string("cannot append to $") + variable + " " + quote(path) + ": " + std::strerror(errno));
}

std::string random_delimiter() {
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(ErrorKind::Usage, "no randomness for a $GITHUB_OUTPUT delimiter");
    static const char hex[] = "0123456789abcdef";
    std::string out = "ghadelimiter_";
    for (unsigned char b : bytes) {
        out += hex[b >> 4];
        out += hex[b & 15];
    }
    return out;
}

}  // namespace digestflow::ci
