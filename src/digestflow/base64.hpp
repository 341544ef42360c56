// Standard base64 (RFC 4648 §4, "=" padded) over OpenSSL's EVP block coder.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace digestflow {

std::string base64_encode(std::string_view bytes);

// The bytes of a canonical base64 text: only the alphabet, padded to a multiple of 4, "=" only at the end and
// no stray bits under it, so each byte string has one spelling. nullopt for anything else (EVP_DecodeBlock
// alone skips spaces, accepts misplaced "=" and keeps the padding's zero bytes).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace digestflow
