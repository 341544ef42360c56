#include "digestflow/manifest.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/media_types.hpp"
#include "digestflow/quote.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>

namespace digestflow {
namespace {

using json = nlohmann::json;

// A string member, "" when absent or null. json::value() would throw nlohmann's type_error for another type,
// which escapes as an unexpected failure instead of bad input naming the field.
std::string string_field(const json& node, const char* key, const std::string& where, const std::string& what) {
    auto found = node.find(key);
    if (found == node.end() || found->is_null()) return {};
    std::string field = where.empty() ? key : where + "." + key;
    if (!found->is_string()) throw_usage(what + ": manifest field " + field + " is not a string");
    return found->get<std::string>();
}

// A descriptor's size: required, an integer from 0 to the int64 maximum. Reads are bounded by it, so a
// negative or missing size must never stand for "unknown"; nlohmann stores integers above the int64 range
// as unsigned and anything with a fraction or exponent as a float.
std::int64_t size_field(const json& node, const std::string& where, const std::string& what) {
    auto found = node.find("size");
    const std::string field = where + ".size";
    if (found == node.end() || found->is_null())
        throw_usage(what + ": manifest field " + field +
                    " is missing; every descriptor needs its size in bytes");
    if (found->is_number_unsigned() &&
        found->get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return static_cast<std::int64_t>(found->get<std::uint64_t>());
    if (found->is_number_integer() && !found->is_number_unsigned() && found->get<std::int64_t>() >= 0)
        return found->get<std::int64_t>();
    throw_usage(what + ": manifest field " + field + " is " + quote(found->dump(), 40) +
                "; a size must be a whole number of bytes from 0 to 9223372036854775807");
}

Descriptor parse_descriptor(const json& node, const std::string& where, const std::string& what) {
    if (!node.is_object()) throw_usage(what + ": manifest field " + where + " is not an object");
    auto digest_text = string_field(node, "digest", where, what);
    auto problem = Digest::validation_error(digest_text);
    if (problem) throw_usage(what + ": manifest field " + where + ".digest: " + *problem);
    Descriptor d{string_field(node, "mediaType", where, what), Digest::parse(digest_text),
                 size_field(node, where, what), std::nullopt,
                 string_field(node, "artifactType", where, what)};
    if (node.contains("platform") && node["platform"].is_object()) {
        const auto& p = node["platform"];
        const std::string at = where + ".platform";
        d.platform = Platform{string_field(p, "os", at, what), string_field(p, "architecture", at, what),
                              string_field(p, "variant", at, what)};
    }
    return d;
}

std::vector<Descriptor> parse_list(const json& doc, const char* key, const std::string& what) {
    std::vector<Descriptor> out;
    if (!doc.contains(key)) return out;
    if (!doc[key].is_array()) throw_usage(what + ": manifest field " + key + " is not an array");
    for (std::size_t i = 0; i < doc[key].size(); ++i)
        out.push_back(parse_descriptor(doc[key][i], std::string(key) + "[" + std::to_string(i) + "]", what));
    return out;
}

}  // namespace

bool Manifest::is_index() const { return media_types::is_index(media_type); }

std::vector<Descriptor> Manifest::blobs() const {
    std::vector<Descriptor> out;
    if (config) out.push_back(*config);
    out.insert(out.end(), layers.begin(), layers.end());
    return out;
}

Manifest parse_manifest(std::string_view bytes, std::string_view content_type, const std::string& what) {
    std::string header_type = media_types::strip_parameters(content_type);
    if (media_types::is_schema1(header_type))
        throw_usage(what + " is a Docker schema1 manifest (" + header_type +
                    "), which is deprecated and not supported: push the image again with a current client");
    // Registries serve what was pushed to them: the same strict rules as for any input (depth, duplicate keys).
    json doc;
    try {
        doc = parse_json_input_unordered(bytes, JsonInput{what, ""});
    } catch (const Error& e) {
        std::string detail = e.what();
        if (detail.rfind(what + ": ", 0) == 0) detail.erase(0, what.size() + 2);
        throw_usage(what + ": the manifest is not a JSON object: " + detail);
    }
    if (!doc.is_object()) throw_usage(what + ": the manifest is not a JSON object");
    if (doc.contains("schemaVersion") && doc["schemaVersion"] == 1)
        throw_usage(what + " is a Docker schema1 manifest, which is deprecated and not supported: push the image "
                           "again with a current client");

    Manifest m;
    std::string body_type = string_field(doc, "mediaType", "", what);
    // The spec asks clients to reject a body whose mediaType contradicts the Content-Type.
    if (!body_type.empty() && !header_type.empty() && body_type != header_type)
        throw_usage(what + ": the registry sent Content-Type " + header_type + " for a manifest whose mediaType is " +
                    body_type);
    m.media_type = !body_type.empty() ? body_type : header_type;
    if (m.media_type.empty()) {
        // OCI allows mediaType to be absent; the shape tells an index from a manifest.
        m.media_type = doc.contains("manifests") ? std::string(media_types::oci_index)
                                                 : std::string(media_types::oci_manifest);
    }
    if (!media_types::is_known_manifest(m.media_type))
        throw_usage(what + ": unsupported manifest media type " + m.media_type);

    if (m.is_index()) {
        m.manifests = parse_list(doc, "manifests", what);
    } else {
        if (!doc.contains("config")) throw_usage(what + ": the image manifest has no config descriptor");
        m.config = parse_descriptor(doc["config"], "config", what);
        m.layers = parse_list(doc, "layers", what);
    }
    if (doc.contains("subject")) m.subject = parse_descriptor(doc["subject"], "subject", what);
    return m;
}

}  // namespace digestflow
