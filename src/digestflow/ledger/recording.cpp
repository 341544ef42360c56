#include "digestflow/ledger/recording.hpp"

#include "digestflow/ci_facts.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/queries.hpp"
#include "digestflow/quote.hpp"

namespace digestflow::ledger {
namespace {

std::string fact(const nlohmann::ordered_json& facts, const char* key) {
    auto it = facts.find(key);
    return it != facts.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void fill_context(Entry& entry, const RecordContext& context) {
    entry.by = context.by.empty() ? current_actor() : context.by;
    entry.note = context.note;
    nlohmann::ordered_json facts = build_facts_from_environment();
    entry.pipeline = !context.pipeline.empty() ? context.pipeline : fact(facts, "pipeline");
    entry.commit = !context.commit.empty() ? context.commit : fact(facts, "commit");
}

// The digest the artifact's last rollback-target step for `environment` rolled back from, if any.
std::string rolled_back_from(const Artifact& artifact, const std::string& environment) {
    const auto& history = artifact.json().value("history", nlohmann::ordered_json::array());
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
        if (!it->is_object() || it->value("step", "") != "rollback-target") continue;
        if (it->value("environment", "") != environment) return {};
        std::string from = it->value("from", "");
        return Digest::is_valid(from) ? from : std::string();
    }
    return {};
}

std::string short_digest(const std::string& digest) { return digest.substr(0, std::min<std::size_t>(digest.size(), 19)) + "…"; }

}  // namespace

Entry deployment_entry(const Artifact& artifact, const std::string& environment, const RecordContext& context) {
    ImageInfo image = artifact.image();
    Entry entry;
    entry.kind = EntryKind::Deploy;
    entry.environment = environment;
    entry.repository = image.repository;
    entry.digest = image.digest.str();
    entry.media_type = image.media_type;
    entry.size = image.size;
    entry.platforms = image.platforms;
    entry.tag = image.tag;
    fill_context(entry, context);
    const auto& build = artifact.json().value("build", nlohmann::ordered_json::object());
    if (entry.pipeline.empty()) entry.pipeline = fact(build, "pipeline");
    if (entry.commit.empty()) entry.commit = fact(build, "commit");
    entry.captured_at = fact(build, "at");
    if (entry.captured_at.empty()) {
        const auto& history = artifact.json().value("history", nlohmann::ordered_json::array());
        if (!history.empty() && history.front().is_object()) entry.captured_at = history.front().value("at", "");
    }
    entry.rollback_of = rolled_back_from(artifact, environment);
    if (entry.rollback_of == entry.digest) entry.rollback_of.clear();
    return entry;
}

Entry environment_entry(EntryKind kind, const std::string& environment, const RecordContext& context,
                        const std::string& digest) {
    Entry entry;
    entry.kind = kind;
    entry.environment = environment;
    entry.digest = digest;
    fill_context(entry, context);
    return entry;
}

std::string next_line(const Tip& tip, Entry entry, const SigningKey* key, const std::string& ledger_name) {
    Holds holds;
    if (!tip.last_line.empty()) holds = parse_line(tip.last_line, ledger_name + ", its last line").holds;
    const std::string& environment = entry.environment;
    auto held = holds.find(environment);

    if (entry.kind == EntryKind::Deploy && held != holds.end() && held->second.digest != entry.digest)
        throw_check_failed(environment + " is held at " + held->second.digest + " since " + held->second.at +
                           " (ledger " + ledger_name + "): " + short_digest(entry.digest) +
                           " was not recorded; release the hold first with record release --environment " +
                           environment);
    if (entry.kind == EntryKind::Hold && held != holds.end())
        throw AlreadyRecorded{environment + " is already held at " + held->second.digest + " since " + held->second.at};
    if (entry.kind == EntryKind::Release && held == holds.end())
        throw AlreadyRecorded{environment + " is not held; nothing to release"};

    if (entry.kind == EntryKind::Incident || entry.kind == EntryKind::Hold) {
        // The image these name is what runs there now, or for an incident on --digest, its last deployment.
        const std::string wanted_digest = entry.digest;
        auto found = tip.find_last([&](std::string_view line) {
            return is_deploy_to(line, environment) &&
                   (wanted_digest.empty() || line.find("\"digest\":\"" + wanted_digest + "\"") != std::string_view::npos);
        });
        if (!found)
            throw_usage(wanted_digest.empty()
                            ? "nothing has been deployed to " + environment + " in ledger " + ledger_name +
                                  ": check --environment"
                            : wanted_digest + " was never deployed to " + environment + " in ledger " + ledger_name +
                                  ": check --digest and --environment");
        Entry deployed = parse_line(*found, ledger_name);
        entry.digest = deployed.digest;
        entry.repository = deployed.repository;
    }

    entry.prev = tip.prev;
    entry.at = utc_now_rfc3339();
    entry.holds = holds_after(holds, entry);
    std::string line = serialize_line(entry);
    return key ? key->sign_line(line) : line;
}

std::string describe(const Entry& entry) {
    std::string image = entry.repository + "@" + entry.digest;
    switch (entry.kind) {
    case EntryKind::Deploy:
        return entry.environment + " <- " + image + (entry.tag.empty() ? "" : " (" + entry.tag + ")") +
               (entry.rollback_of.empty() ? "" : ", a rollback from " + short_digest(entry.rollback_of));
    case EntryKind::Incident: return "incident in " + entry.environment + " against " + image;
    case EntryKind::Hold: return entry.environment + " held at " + image;
    case EntryKind::Release: return entry.environment + " released";
    }
    return entry.environment;
}

}  // namespace digestflow::ledger
