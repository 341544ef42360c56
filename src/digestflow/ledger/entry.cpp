#include "digestflow/ledger/entry.hpp"

#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"


#include <array>

namespace digestflow::ledger {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::array<std::pair<EntryKind, std::string_view>, 4> kind_names{{
    {EntryKind::Deploy, "deploy"},
    {EntryKind::Incident, "incident"},
    {EntryKind::Hold, "hold"},
    {EntryKind::Release, "release"},
}};

void put_if(Json& line, const char* key, const std::string& value) {
    if (!value.empty()) line[key] = value;
}

std::string text_member(const Json& doc, const char* key, const std::string& origin, bool required) {
    auto it = doc.find(key);
    if (it == doc.end()) {
        if (required) throw_usage(origin + ": the entry has no \"" + std::string(key) + "\"");
        return {};
    }
    if (!it->is_string()) throw_usage(origin + ": \"" + std::string(key) + "\" must be a string");
    return it->get<std::string>();
}

void check_digest(const std::string& value, const char* key, const std::string& origin) {
    if (auto problem = Digest::validation_error(value))
        throw_usage(origin + ": \"" + std::string(key) + "\" is not a digest (" + *problem + ")");
}

Holds holds_from_json(const Json& doc, const std::string& origin) {
    Holds holds;
    auto it = doc.find("holds");
    if (it == doc.end()) return holds;
    if (!it->is_object() || it->empty()) throw_usage(origin + ": \"holds\" must be a non-empty object");
    for (const auto& [environment, hold] : it->items()) {
        if (!hold.is_object()) throw_usage(origin + ": \"holds\"." + environment + " must be an object");
        Hold value{text_member(hold, "digest", origin, true), text_member(hold, "at", origin, true)};
        check_digest(value.digest, "holds digest", origin);
        holds.emplace(environment, std::move(value));
    }
    return holds;
}

}  // namespace

std::string_view kind_name(EntryKind kind) {
    for (const auto& [value, name] : kind_names)
        if (value == kind) return name;
    return "deploy";
}

std::optional<EntryKind> kind_from_name(std::string_view name) {
    for (const auto& [value, known] : kind_names)
        if (known == name) return value;
    return std::nullopt;
}

std::string serialize_line(const Entry& entry) {
    if (entry.note.size() > max_note_bytes)
        throw_usage("the note is " + std::to_string(entry.note.size()) + " bytes; a ledger note holds at most " +
                    std::to_string(max_note_bytes) + ": shorten it and link to the details");
    // Member order is fixed: v, prev, at, kind and environment first, so fast readers find them at the front.
    Json line = Json::object();
    line["v"] = format_version;
    line["prev"] = entry.prev;
    line["at"] = entry.at;
    line["kind"] = std::string(kind_name(entry.kind));
    line["environment"] = entry.environment;
    put_if(line, "repository", entry.repository);
    put_if(line, "digest", entry.digest);
    put_if(line, "mediaType", entry.media_type);
    if (entry.size >= 0) line["size"] = entry.size;
    if (!entry.platforms.empty()) line["platforms"] = platforms_to_json(entry.platforms);
    put_if(line, "tag", entry.tag);
    put_if(line, "by", entry.by);
    put_if(line, "pipeline", entry.pipeline);
    put_if(line, "commit", entry.commit);
    put_if(line, "capturedAt", entry.captured_at);
    put_if(line, "rollbackOf", entry.rollback_of);
    put_if(line, "note", entry.note);
    if (!entry.holds.empty()) {
        Json holds = Json::object();
        for (const auto& [environment, hold] : entry.holds) holds[environment] = Json{{"digest", hold.digest}, {"at", hold.at}};
        line["holds"] = std::move(holds);
    }
    try {
        std::string text = line.dump() + "\n";
        if (text.size() > max_line_bytes)
            throw_usage("the ledger entry would be " + std::to_string(text.size()) + " bytes; a line holds at most " +
                        std::to_string(max_line_bytes) + ": shorten the pipeline URL, commit, tag or note");
        return text;
    } catch (const nlohmann::json::type_error&) {
        throw_usage("a value for the ledger entry is not UTF-8 text (environment, note, tag or a CI variable): "
                    "pass UTF-8");
    }
}

Entry parse_line(std::string_view line, const std::string& origin) {
    if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
    if (line.size() > max_line_bytes)
        throw_usage(origin + ": the line is " + std::to_string(line.size()) + " bytes, longer than any ledger entry");
    Json doc = parse_json_input(line, JsonInput{origin, "", false});
    if (!doc.is_object()) throw_usage(origin + ": not a JSON object");
    auto version = doc.find("v");
    if (version == doc.end() || !version->is_number_integer() || version->get<int>() != format_version)
        throw_usage(origin + ": not a ledger line of format v" + std::to_string(format_version) + " (\"v\" is missing or different)");

    Entry entry;
    std::string kind = text_member(doc, "kind", origin, true);
    auto parsed_kind = kind_from_name(kind);
    if (!parsed_kind) throw_usage(origin + ": unknown entry kind \"" + kind + "\"");
    entry.kind = *parsed_kind;
    entry.prev = text_member(doc, "prev", origin, true);
    check_digest(entry.prev, "prev", origin);
    entry.at = text_member(doc, "at", origin, true);
    entry.environment = text_member(doc, "environment", origin, true);
    if (entry.environment.empty()) throw_usage(origin + ": \"environment\" is empty");
    const bool names_image = entry.kind != EntryKind::Release;
    entry.repository = text_member(doc, "repository", origin, names_image);
    entry.digest = text_member(doc, "digest", origin, names_image);
    if (names_image) check_digest(entry.digest, "digest", origin);
    entry.media_type = text_member(doc, "mediaType", origin, false);
    if (auto size = doc.find("size"); size != doc.end()) {
        if (!size->is_number_integer() || size->get<std::int64_t>() < 0)
            throw_usage(origin + ": \"size\" must be a whole number");
        entry.size = size->get<std::int64_t>();
    }
    if (auto platforms = doc.find("platforms"); platforms != doc.end()) {
        if (!platforms->is_array()) throw_usage(origin + ": \"platforms\" must be an array");
        entry.platforms = platforms_from_json(*platforms);
    }
    entry.tag = text_member(doc, "tag", origin, false);
    entry.by = text_member(doc, "by", origin, false);
    entry.pipeline = text_member(doc, "pipeline", origin, false);
    entry.commit = text_member(doc, "commit", origin, false);
    entry.captured_at = text_member(doc, "capturedAt", origin, false);
    entry.rollback_of = text_member(doc, "rollbackOf", origin, false);
    if (!entry.rollback_of.empty()) check_digest(entry.rollback_of, "rollbackOf", origin);
    entry.note = text_member(doc, "note", origin, false);
    entry.holds = holds_from_json(doc, origin);
    return entry;
}

std::string line_hash(std::string_view line_with_newline) { return Digest::of(line_with_newline).str(); }

Holds holds_after(const Holds& before, const Entry& entry) {
    Holds after = before;
    if (entry.kind == EntryKind::Hold) after[entry.environment] = Hold{entry.digest, entry.at};
    if (entry.kind == EntryKind::Release) after.erase(entry.environment);
    return after;
}

}  // namespace digestflow::ledger
