// The commands that read: history (what ran where and when), verify (the chain), rollback-target.
#include "commands.hpp"
#include "ledger_flags.hpp"
#include "registry_commands.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/chain_check.hpp"
#include "digestflow/ledger/queries.hpp"
#include "digestflow/ledger/rollback_artifact.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/quote.hpp"

#include <filesystem>
#include <iostream>

namespace digestflow::record_tool {
namespace {

std::string short_hex(const std::string& digest) { return digest.substr(0, std::min<std::size_t>(digest.size(), 19)); }

std::string history_line(const ledger::LedgerRecord& record) {
    const ledger::Entry& e = record.entry;
    std::string line = e.at + "  " + printable(e.environment) + "  " + std::string(ledger::kind_name(e.kind));
    if (e.kind != ledger::EntryKind::Release) line += "  " + printable(e.repository) + "@" + printable(e.digest);
    if (!e.tag.empty()) line += "  (" + printable(e.tag) + ")";
    if (!e.rollback_of.empty()) line += "  rollback from " + short_hex(printable(e.rollback_of));
    if (!e.by.empty()) line += "  by " + printable(e.by);
    if (!e.note.empty()) line += "  " + quote(e.note, 4096);
    return line + "  [line " + std::to_string(record.line) + "]";
}

const cli::ToolSpec history_spec{
    "record history",
    "--ledger FILE [--environment ENV] [--digest DIGEST] [--at TIME | --since TIME --until TIME] [--json]\n"
    "       record history --registry REPO@DIGEST [--environment ENV] [--json]",
    "Lists what ran where and when, oldest first. --at answers \"what was running in ENV at that instant\": the\n"
    "last deployment recorded at or before TIME (the ledger's order decides within one second). Times are RFC\n"
    "3339. history reads; record verify proves the chain. --registry lists instead the entries record --attach\n"
    "pushed beside an image, read back from the registry alone (each checked against the image's digest).",
    {ledger_flag, environment_flag,
     {"digest", "DIGEST", "only entries about this digest (an index, one of its platforms, or a rollback from it)"},
     {"at", "TIME", "what was running in --environment at TIME"},
     {"since", "TIME", "only entries at or after TIME"},
     {"until", "TIME", "only entries at or before TIME"}, registry_flag},
    "  record history --ledger deployments.jsonl --environment production --since 2026-03-01T00:00:00Z\n"
    "  record history --registry registry.example.com/team/app@sha256:... --environment production\n"
    "  record history --ledger deployments.jsonl --environment production --at 2026-03-03T12:00:00Z\n"};

cli::ToolResult running_at(const ledger::LedgerView& view, const std::string& env, std::int64_t at, cli::ToolResult tool) {
    auto running = ledger::running_at(view, env, at);
    tool.json["environment"] = env;
    tool.json["at"] = ledger::format_rfc3339(at);
    if (!running) {
        tool.exit_code = cli::exit_check_failed;
        tool.json["running"] = nullptr;
        tool.text = "nothing had been deployed to " + env + " by " + ledger::format_rfc3339(at) + " (ledger " +
                    view.path() + ")";
        return tool;
    }
    const auto& record = running->deployment;
    tool.json["running"] = entry_json(record.line, record.hash, record.text);
    if (running->hold) tool.json["hold"] = {{"digest", running->hold->digest}, {"since", running->hold->at}};
    tool.text = printable(record.entry.repository) + "@" + printable(record.entry.digest) + " was running in " + env + " at " +
                ledger::format_rfc3339(at) + ", deployed " + record.entry.at +
                (record.entry.tag.empty() ? "" : " (" + printable(record.entry.tag) + ")") + " [line " + std::to_string(record.line) + "]" +
                (running->hold ? "; held since " + running->hold->at : "");
    return tool;
}

cli::ToolResult history(const cli::ParsedArgs& args) {
    if (args.has("registry")) return registry_history(args);
    // Every flag is checked before the ledger is read.
    ledger::HistoryQuery query{environment(args, true), digest_flag(args, "digest"), std::nullopt, std::nullopt};
    if (auto since = args.value("since")) query.since = ledger::parse_time_flag("--since", *since);
    if (auto until = args.value("until")) query.until = ledger::parse_time_flag("--until", *until);
    std::optional<std::int64_t> at;
    if (auto text = args.value("at")) {
        if (args.has("since") || args.has("until") || args.has("digest"))
            throw_usage("--at gives one instant: use it without --since, --until and --digest");
        if (query.environment.empty()) throw_usage("--at needs --environment: what was running where");
        at = ledger::parse_time_flag("--at", *text);
    }
    ledger::LedgerView view(ledger_path(args));
    cli::ToolResult tool;
    tool.json["ledger"] = view.path();
    report_torn(view, tool);
    if (at) return running_at(view, query.environment, *at, std::move(tool));
    auto found = ledger::history(view, query);
    tool.json["entries"] = nlohmann::ordered_json::array();
    for (const auto& record : found) {
        tool.json["entries"].push_back(entry_json(record.line, record.hash, record.text));
        tool.text += history_line(record) + "\n";
    }
    if (found.empty()) tool.text = "no entries match in " + view.path();
    return tool;
}

const cli::ToolSpec verify_spec{
    "record verify",
    "--ledger FILE [--verify-key PUB...] [--json]",
    "Proves the ledger: every line a well-formed entry, chained by sha256 to the line before it from the genesis\n"
    "value, holds that follow from the hold and release lines, no deployment into a held environment, no torn\n"
    "tail. With --verify-key every line must carry a signature one of the keys verifies. Exit 1 names the first\n"
    "bad line and why.",
    {ledger_flag, {"verify-key", "PUB", "an Ed25519 public key (PEM) whose signatures are accepted", true},
     {"entry", "HASH", "an entry hash kept elsewhere (an artifact's record step) that must be in the chain", true},
     {"artifact-entries", "", "also require the record entries --artifact's history names for this ledger"}},
    "  record verify --ledger deployments.jsonl --verify-key release-bot.pub\n"
    "  record verify --ledger deployments.jsonl --artifact image-digest.json --artifact-entries\n"};

// The artifact keeps the ledger path as record was given it; compared here as absolute, normalised paths.
bool same_file_name(const std::string& recorded, const std::string& given) {
    std::error_code ignored;
    return !recorded.empty() &&
           std::filesystem::weakly_canonical(recorded, ignored) == std::filesystem::weakly_canonical(given, ignored);
}

// --entry values, plus the artifact's record entries for this ledger with --artifact-entries.
std::vector<std::string> anchors(const cli::ParsedArgs& args, const std::string& ledger) {
    std::vector<std::string> hashes;
    for (const auto& hash : args.values("entry")) {
        if (auto problem = Digest::validation_error(hash))
            throw_usage("--entry " + quote(hash) + ": " + *problem + "; give the entry's sha256:<hex>");
        hashes.push_back(hash);
    }
    if (!args.has("artifact-entries")) return hashes;
    Artifact artifact = Artifact::load(args.artifact_path());
    for (const auto& step : artifact.json().value("history", nlohmann::ordered_json::array()))
        if (step.is_object() && step.value("step", "") == "record" && same_file_name(step.value("ledger", ""), ledger) &&
            Digest::is_valid(step.value("entry", "")))
            hashes.push_back(step.value("entry", ""));
    if (hashes.empty())
        throw_usage("--artifact-entries: " + args.artifact_path() + " has no record step for ledger " + quote(ledger) +
                    " (the ledger path must be the one it was recorded with)");
    return hashes;
}

cli::ToolResult verify(const cli::ParsedArgs& args) {
    std::vector<ledger::VerifyKey> keys;
    for (const auto& path : args.values("verify-key")) keys.push_back(ledger::VerifyKey::load(path));
    auto wanted = anchors(args, ledger_path(args));
    ledger::LedgerView view(ledger_path(args));
    ledger::ChainReport report = ledger::check_chain(view, keys, wanted);
    cli::ToolResult tool;
    tool.json = {{"ledger", view.path()}, {"lines", report.lines}, {"head", report.head},
                 {"signedLines", report.signed_lines}, {"checkedSignatures", report.checked_signatures}};
    if (report.problem) {
        tool.exit_code = cli::exit_check_failed;
        tool.json["problem"] = {{"line", report.problem->line}, {"why", report.problem->why}};
        tool.text = view.path() + " line " + std::to_string(report.problem->line) + ": " + report.problem->why;
        return tool;
    }
    tool.json["problem"] = nullptr;
    tool.text = view.path() + ": " + std::to_string(report.lines) + " entries, one chain, head " + report.head;
    if (!wanted.empty()) tool.text += "; " + std::to_string(wanted.size()) + " given entr" + (wanted.size() == 1 ? "y" : "ies") + " in it";
    if (!keys.empty()) tool.text += "; every entry signed by a given key";
    else if (report.signed_lines) tool.text += "; " + std::to_string(report.signed_lines) + " signed entries not checked (give --verify-key)";
    return tool;
}

const cli::ToolSpec rollback_spec{
    "record rollback-target",
    "--environment ENV --ledger FILE --out FILE [--steps N] [--workload KIND/NAME] [--container NAME]",
    "Finds what to roll ENV back to: the digest deployed N forward deployments before the newest one (rollbacks\n"
    "are not steps, a digest deployed twice counts once, digests with an incident in ENV are skipped) and writes\n"
    "it as a full artifact that retag, verify-digest and record take. Recording that artifact into ENV marks the\n"
    "deployment as a rollback. Prints the kubectl line that would put the digest back.",
    {ledger_flag, environment_flag, {"steps", "N", "how many forward deployments back (default 1)"},
     {"workload", "KIND/NAME", "for the printed kubectl line, e.g. deployment/web"},
     {"container", "NAME", "for the printed kubectl line"}},
    "  record rollback-target --ledger deployments.jsonl --environment production --out rollback.json\n"
    "  retag --artifact rollback.json --tag production && record --artifact rollback.json --environment production ...\n"};

int steps_of(const cli::ParsedArgs& args) {
    std::string text = args.value_or("steps", "1");
    if (text.empty() || text.size() > 6 || text.find_first_not_of("0123456789") != std::string::npos || std::stoi(text) < 1)
        throw_usage("--steps " + quote(text) + ": give a whole number, 1 or more");
    return std::stoi(text);
}

cli::ToolResult rollback_target(const cli::ParsedArgs& args) {
    if (!args.has("out")) throw_usage("give --out FILE: where to write the rollback target's artifact (- for stdout)");
    const std::string env = environment(args);
    const int steps = steps_of(args);
    ledger::LedgerView view(ledger_path(args));
    cli::ToolResult tool;
    report_torn(view, tool);
    auto target = ledger::rollback_target(view, env, steps);
    ledger::rollback_artifact(target, view.path(), env, steps).save(args.out_path());
    const auto& entry = target.target.entry;
    const std::string kubectl = ledger::kubectl_set_image_line(entry, args.value_or("workload", ""), args.value_or("container", ""));
    tool.json["environment"] = env;
    tool.json["target"] = entry_json(target.target.line, target.target.hash, target.target.text);
    tool.json["current"] = entry_json(target.current.line, target.current.hash, target.current.text);
    tool.json["skippedForIncidents"] = target.skipped;
    tool.json["kubectl"] = kubectl;
    tool.json["out"] = args.out_path();
    tool.outputs = ci::image_outputs(entry.repository, entry.digest);
    tool.outputs.push_back({"environment", "ROLLBACK_ENVIRONMENT", env});
    tool.outputs.push_back({"current-digest", "ROLLBACK_FROM_DIGEST", target.current.entry.digest});
    tool.text = "roll " + env + " back to " + printable(entry.repository) + "@" + printable(entry.digest) +
                (entry.tag.empty() ? "" : " (" + printable(entry.tag) + ")") + ", deployed " + entry.at + " [line " +
                std::to_string(target.target.line) + "]; now running " + short_hex(target.current.entry.digest) + "…";
    if (target.current.entry.digest == entry.digest) tool.text += " (already the target)";
    if (!target.skipped.empty()) tool.text += "; skipped " + std::to_string(target.skipped.size()) + " digest(s) with incidents";
    tool.text += "\nwrote " + args.out_path() + "\n" + kubectl;
    return tool;
}

}  // namespace

const Command& history_command() {
    static const Command command{"history", history_spec, history};
    return command;
}
const Command& verify_command() {
    static const Command command{"verify", verify_spec, verify};
    return command;
}
const Command& rollback_target_command() {
    static const Command command{"rollback-target", rollback_spec, rollback_target};
    return command;
}

}  // namespace digestflow::record_tool
