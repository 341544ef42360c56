#include "digestflow/registry/registry_errors.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"

#include <nlohmann/json.hpp>

namespace digestflow::registry {

std::vector<RegistryErrorEntry> parse_registry_errors(const std::string& body) {
    std::vector<RegistryErrorEntry> entries;
    auto parsed = try_parse_json(body);
    if (!parsed) return entries;
    const nlohmann::json& doc = *parsed;
    if (!doc.is_object() || !doc.contains("errors") || !doc["errors"].is_array())
        return entries;
    for (const auto& item : doc["errors"]) {
        if (!item.is_object()) continue;
        RegistryErrorEntry entry;
        if (item.contains("code") && item["code"].is_string()) entry.code = item["code"].get<std::string>();
        if (item.contains("message") && item["message"].is_string())
            entry.message = item["message"].get<std::string>();
        if (item.contains("detail") && !item["detail"].is_null()) {
            entry.detail = item["detail"].is_string() ? item["detail"].get<std::string>() : item["detail"].dump();
            if (entry.detail.size() > 300) {
                // Cut on a UTF-8 character boundary: a split character makes the --json output unserialisable.
                std::size_t cut = 300;
                while (cut > 0 && (static_cast<unsigned char>(entry.detail[cut]) & 0xC0) == 0x80) --cut;
                entry.detail = entry.detail.substr(0, cut) + "...";
            }
        }
        entries.push_back(std::move(entry));
    }
    return entries;
}

std::string describe_registry_answer(const HttpResponse& response) {
    std::string text;
    for (const auto& entry : parse_registry_errors(response.body)) {
        if (!text.empty()) text += "; ";
        text += entry.code.empty() ? "error" : entry.code;
        if (!entry.message.empty()) text += ": " + entry.message;
        if (!entry.detail.empty()) text += " (" + entry.detail + ")";
    }
    // Messages stay on one line, whatever the registry put in its text.
    for (char& c : text)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    std::string status = "HTTP " + std::to_string(response.status) +
                         (response.reason.empty() ? "" : " " + response.reason);
    return text.empty() ? status : status + ", " + text;
}

void throw_for_response(const HttpResponse& response, const std::string& action) {
    std::string message = action + " failed: the registry answered " + describe_registry_answer(response);
    if (response.status == 401 || response.status == 403) throw_auth(message);
    for (const auto& entry : parse_registry_errors(response.body))
        if (entry.code == "NAME_INVALID" || entry.code == "TAG_INVALID") throw_usage(message);
    throw_registry(message);
}

}  // namespace digestflow::registry
