#include "digestflow/gitops/written_reference.hpp"

#include "digestflow/error.hpp"
#include "digestflow/reference.hpp"

namespace digestflow::gitops {

WrittenReference WrittenReference::split(std::string_view text) {
    WrittenReference ref;
    if (auto at = text.find('@'); at != std::string_view::npos) {
        ref.digest = std::string(text.substr(at + 1));
        text = text.substr(0, at);
    }
    // A ':' after the last '/' starts the tag; one before it is a registry port.
    const auto colon = text.rfind(':');
    const auto slash = text.rfind('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        ref.tag = std::string(text.substr(colon + 1));
        text = text.substr(0, colon);
    }
    ref.name = std::string(text);
    return ref;
}

std::string WrittenReference::str() const {
    std::string out = name;
    if (tag) out += ":" + *tag;
    if (digest) out += "@" + *digest;
    return out;
}

bool WrittenReference::names_registry(std::string_view name) {
    const auto slash = name.find('/');
    if (slash == std::string_view::npos) return false;
    const std::string_view first = name.substr(0, slash);
    return first == "localhost" || first.find_first_of(".:") != std::string_view::npos;
}

std::optional<std::string> normalised_repository(std::string_view written_name) {
    if (written_name.empty() || written_name.find_first_of(" \t{}$\"'") != std::string_view::npos)
        return std::nullopt;
    try {
        return Reference::parse(written_name).repository();
    } catch (const Error&) {
        return std::nullopt;
    }
}

}  // namespace digestflow::gitops
