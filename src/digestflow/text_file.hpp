// Reading input files (build-tool outputs, artifacts, lists, credential files): one bounded reader that takes
// regular files only and decodes them to UTF-8, with clear errors.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace digestflow {

inline constexpr std::size_t max_input_bytes = 16 * 1024 * 1024;

struct InputFileOptions {
    std::size_t max_bytes = max_input_bytes;
    bool allow_stdin = false; // "-" reads standard input (only where documented: --artifact -)
    std::string hint;         // ends every message, e.g. " (check the path passed as --artifact)"
    std::string missing_hint; // replaces `hint` when the file does not exist
    bool decode = true;       // false: the bytes as they are (a file we rewrite in place keeps its BOM)
};

// Reads the whole file and decodes it (decode_text). `what` names the input in messages
// ("--from-digest-file"); with an empty `what` messages start with the path. Only a regular file is read: a
// FIFO, device, socket or directory is refused without waiting on it (the open never blocks). Throws
// Error(Usage) when the file is missing, not a regular file, unreadable, larger than max_bytes or not
// decodable.
std::string read_text_file(const std::string& path, const std::string& what, const InputFileOptions& options);
std::string read_text_file(const std::string& path, const std::string& what,
                           std::size_t max_bytes = max_input_bytes);

// The one decoding step for text inputs: a UTF-8 byte order mark is dropped; UTF-16LE or UTF-16BE with a byte
// order mark (Windows PowerShell 5.1's `>` writes UTF-16LE) is converted to UTF-8. Anything else is returned
// unchanged. Throws Error(Usage) naming `origin` for UTF-16 that does not decode.
std::string decode_text(std::string bytes, const std::string& origin);

} // namespace digestflow
