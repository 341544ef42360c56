#include "digestflow/referrers.hpp"

#include "digestflow/json_input.hpp"

#include <algorithm>

#include "digestflow/error.hpp"

#include <nlohmann/json.hpp>

#include <cctype>

namespace digestflow {
namespace {

std::string tag_safe(std::string text, std::size_t limit) {
    text = text.substr(0, limit);
    for (char& c : text)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) c = '-';
    return text;
}

nlohmann::ordered_json parse_index(const std::string& bytes, const char* which) {
    auto doc = try_parse_ordered_json(bytes);
    if (!doc || !doc->is_object() || !doc->contains("manifests") || !(*doc)["manifests"].is_array())
        throw_usage(std::string("the ") + which + " referrers index is not an image index");
    return *doc;
}

}  // namespace

std::string referrers_fallback_tag(const Digest& subject) {
    return tag_safe(subject.algorithm(), 32) + "-" + tag_safe(subject.encoded(), 64);
}

std::string merge_referrers_index(const std::string& existing, const std::string& incoming) {
    auto add = parse_index(incoming, "incoming");
    if (existing.empty()) return incoming;
    auto merged = parse_index(existing, "existing");
    bool changed = false;
    for (const auto& descriptor : add["manifests"]) {
        bool present = false;
        for (const auto& have : merged["manifests"])
            present = present || (have.value("digest", "") == descriptor.value("digest", "x"));
        if (!present) {
            merged["manifests"].push_back(descriptor);
            changed = true;
        }
    }
    return changed ? merged.dump() : existing;
}

bool refers_to(const Manifest& referrer, const Digest& subject) {
    return referrer.subject && referrer.subject->digest == subject;
}

bool refers_to(std::string_view referrer_bytes, const Digest& subject) {
    auto doc = try_parse_json(referrer_bytes);
    if (!doc || !doc->is_object()) return false;
    auto named = doc->find("subject");
    if (named == doc->end() || !named->is_object()) return false;
    auto digest = named->find("digest");
    if (digest == named->end() || !digest->is_string() || !Digest::is_valid(digest->get<std::string>()))
        return false;
    return Digest::parse(digest->get<std::string>()) == subject;
}

std::string referrers_index_without(const std::string& index, const std::vector<Digest>& dropped) {
    if (dropped.empty()) return index;
    nlohmann::ordered_json doc = parse_index(index, "source's");
    auto& manifests = doc["manifests"];
    for (auto it = manifests.begin(); it != manifests.end();) {
        bool drop = it->is_object() && it->contains("digest") && (*it)["digest"].is_string() &&
                    std::any_of(dropped.begin(), dropped.end(),
                                [&](const Digest& d) { return d.str() == (*it)["digest"].get<std::string>(); });
        it = drop ? manifests.erase(it) : it + 1;
    }
    return doc.dump();
}

}  // namespace digestflow
