#include "digestflow/text_file.hpp"

#include "digestflow/error.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace digestflow {

std::string read_text_file(const std::string& path, const std::string& what, std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw_usage(what + " " + path + ": cannot open (" + std::strerror(errno) + ")");
    std::string content;
    char buffer[65536];
    while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
        content.append(buffer, static_cast<std::size_t>(in.gcount()));
        if (content.size() > max_bytes)
            throw_usage(what + " " + path + ": larger than " + std::to_string(max_bytes) + " bytes; is it the right file?");
    }
    if (in.bad()) throw_usage(what + " " + path + ": read error");
    return content;
}

}  // namespace digestflow
