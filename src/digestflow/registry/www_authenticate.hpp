// Parsing of WWW-Authenticate challenges (RFC 7235 / RFC 6750 as the distribution client reads them).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace digestflow::registry {

struct Challenge {
    std::string scheme;                         // lower-cased: "bearer", "basic"
    std::map<std::string, std::string> params;  // names lower-cased, values unquoted and unescaped
};

// One header value -> at most one challenge (like distribution's parser). An empty or unparsable value
// yields a challenge with an empty scheme.
Challenge parse_www_authenticate(std::string_view header_value);

// All header values of a response -> the challenges with a non-empty scheme, in order.
std::vector<Challenge> parse_challenges(const std::vector<std::string>& header_values);

}  // namespace digestflow::registry
