// The commands that append: a deployment (the default), an incident, a hold, a release; and repair.
#include "commands.hpp"
#include "ledger_flags.hpp"
#include "registry_commands.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/ci/markdown.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/ledger_file.hpp"
#include "digestflow/ledger/recording.hpp"
#include "digestflow/operations/ledger_git.hpp"
#include "digestflow/quote.hpp"

namespace digestflow::record_tool {
namespace {

using ledger::EntryKind;

const cli::FlagSpec sign_key_flag{"sign-key", "KEY", "sign the entry with this Ed25519 private key (PEM, unencrypted)"};
const cli::FlagSpec pipeline_flag{"pipeline", "URL", "the pipeline URL to record (default: from GitHub/GitLab variables)"};
const cli::FlagSpec commit_flag{"commit", "SHA", "the source commit to record (default: from CI variables or the artifact)"};

const cli::FlagSpec git_flag{"git", "", "the ledger is in a Git work tree: commit the entry and push it (never forced)"};
const cli::FlagSpec git_remote_flag{"git-remote", "REMOTE", "with --git: the remote to push to (default: origin)"};

struct Written {
    ledger::Appended appended;
    std::optional<std::string> unchanged;  // AlreadyRecorded: what the ledger already says
    std::optional<operations::GitAppended> git;  // --git: the commit that landed
};

// The commit's subject: what the entry records. An incident's or hold's image comes from the tip, so it is
// named only when given.
std::string git_subject(const ledger::Entry& entry) {
    if (entry.kind == EntryKind::Deploy) return "record: " + ledger::describe(entry);
    return "record " + std::string(ledger::kind_name(entry.kind)) + ": " + entry.environment +
           (entry.digest.empty() ? "" : " " + entry.digest);
}

// Appends `entry` on whatever the tip is when the lock is held (with --git: the remote's tip, on each attempt).
Written write_entry(const cli::ParsedArgs& args, const ledger::Entry& entry) {
    const std::string path = ledger_path(args);
    auto key = signing_key(args);
    const auto make_line = [&](const ledger::Tip& tip) {
        return ledger::next_line(tip, entry, key ? &*key : nullptr, quote(path));
    };
    try {
        if (args.has("git")) {
            operations::GitLedgerOptions options;
            options.remote = args.value_or("git-remote", options.remote);
            auto landed = operations::append_line_in_git(path, git_subject(entry), make_line, options);
            return Written{landed.appended, std::nullopt, landed};
        }
        if (args.has("git-remote")) throw_usage("--git-remote needs --git: add --git to commit and push the entry");
        return Written{ledger::append_line(path, make_line), std::nullopt, std::nullopt};
    } catch (const ledger::AlreadyRecorded& already) {
        return Written{{}, already.message, std::nullopt};
    }
}

cli::ToolResult report(const cli::ParsedArgs& args, const Written& written) {
    cli::ToolResult tool;
    const std::string path = ledger_path(args);
    tool.json["ledger"] = path;
    if (written.unchanged) {
        tool.json["recorded"] = false;
        tool.json["reason"] = *written.unchanged;
        tool.text = *written.unchanged + " (ledger " + path + " unchanged)";
        tool.outputs = {{"recorded", "LEDGER_RECORDED", "false"}};
        return tool;
    }
    ledger::Entry entry = ledger::parse_line(written.appended.line, "the new entry");
    tool.json["recorded"] = true;
    tool.json["entry"] = written.appended.hash;
    tool.json["line"] = entry_json(0, written.appended.hash, written.appended.line);
    tool.json["line"].erase("line");
    tool.text = "recorded " + printable(ledger::describe(entry)) + " in " + path + " as " + written.appended.hash;
    if (!entry.repository.empty()) tool.outputs = ci::image_outputs(entry.repository, entry.digest);
    tool.outputs.push_back({"recorded", "LEDGER_RECORDED", "true"});
    tool.outputs.push_back({"entry", "LEDGER_ENTRY", written.appended.hash});
    tool.outputs.push_back({"environment", "LEDGER_ENVIRONMENT", entry.environment});
    tool.summary = "### record\n\n" + ci::markdown_cell(ledger::describe(entry)) + "\n\nentry `" +
                   written.appended.hash + "` in `" + ci::markdown_cell(path) + "`\n\n";
    if (written.git) {
        tool.json["git"] = {{"commit", written.git->commit}, {"branch", written.git->branch},
                            {"attempts", written.git->attempts}};
        tool.text += "; commit " + written.git->commit.substr(0, 12) + " pushed to " + written.git->branch +
                     (written.git->attempts > 1 ? " after " + std::to_string(written.git->attempts) + " attempts" : "");
    }
    return tool;
}

const cli::ToolSpec append_spec{
    "record",
    "--environment ENV --ledger FILE [--artifact FILE] [--note TEXT] [--sign-key KEY] [--attach] [--git] [options]\n"
    "       record history | verify | rollback-target | incident | hold | release | repair | pin ... (each has --help)",
    "Appends the artifact's deployment to ENV to the ledger: one JSON line with the digest, platforms, tag, time,\n"
    "who, pipeline and commit, chained to the line before it by its sha256. The append holds an exclusive lock,\n"
    "reads only the last line and is fsynced; a held environment refuses another digest (exit 1). The artifact\n"
    "gets a \"record\" history entry naming the ledger and the entry's hash. --attach also pushes the entry to the\n"
    "registry beside the image (record history --registry lists it there). With --git the ledger is a file in a\n"
    "Git work tree: the entry is committed (its hash as a Digestflow-Entry trailer) and pushed; when another\n"
    "writer pushed first, the entry is built again on the new tip and pushed again, a bounded number of times,\n"
    "never forced (exit 3 when the remote refuses it or the attempts run out).",
    {ledger_flag, environment_flag, {"note", "TEXT", "a note kept with the entry"}, sign_key_flag, pipeline_flag,
     commit_flag, attach_flag, git_flag, git_remote_flag},
    "  record --artifact image-digest.json --environment production --ledger deployments.jsonl\n"
    "  record --artifact image-digest.json --environment production --ledger ledger-repo/deployments.jsonl --git\n"
    "  record history --ledger deployments.jsonl --environment production --at 2026-03-03T12:00:00Z\n"
    "  record rollback-target --ledger deployments.jsonl --environment production --out rollback.json\n"};

cli::ToolResult append(const cli::ParsedArgs& args) {
    ledger_path(args);  // first: it refuses an --artifact or --out that is the ledger itself
    Artifact artifact = Artifact::load(args.artifact_path());
    const std::string env = environment(args);
    ledger::Entry entry = ledger::deployment_entry(artifact, env, record_context(args));
    Written written = write_entry(args, entry);
    if (written.unchanged) throw std::logic_error("a deployment is always appended");
    nlohmann::ordered_json step{{"step", "record"}, {"environment", env}, {"ledger", ledger_path(args)},
                                {"entry", written.appended.hash}};
    // The ledger line is the record; a failed attach leaves it (and the artifact's record of it) in place.
    std::optional<operations::AttachedEntry> attached;
    std::optional<Error> attach_failure;
    if (args.has("attach")) {
        try {
            attached = attach_line(args, artifact.image(), env, written.appended.line);
            step["attached"] = attached->manifest.str();
        } catch (const Error& e) {
            attach_failure = e;
        }
    }
    artifact.append_history(step);
    try {
        artifact.save(args.out_path());
    } catch (const Error& e) {
        throw Error(e.kind(), std::string(e.what()) + "; the deployment itself is recorded as " + written.appended.hash);
    }
    if (attach_failure)
        throw Error(attach_failure->kind(), std::string(attach_failure->what()) + "; the deployment itself is recorded as " +
                                                written.appended.hash + " in " + ledger_path(args) + ", not attached");
    cli::ToolResult tool = report(args, written);
    if (attached) {
        tool.json["attached"] = {{"artifact", attached->manifest.str()}, {"through", attached->how}};
        tool.text += "; attached to the image as " + attached->manifest.str() + " (" + attached->how + ")";
    }
    return tool;
}

const cli::ToolSpec incident_spec{
    "record incident",
    "--environment ENV --note TEXT --ledger FILE [--digest DIGEST] [options]",
    "Records an incident against what runs in ENV now (or against --digest, which must have run there).\n"
    "rollback-target never picks a digest with an incident in that environment.",
    {ledger_flag, environment_flag, {"note", "TEXT", "what happened (required)"},
     {"digest", "DIGEST", "the digest the incident is against (default: what runs in ENV now)"}, sign_key_flag,
     pipeline_flag, commit_flag, git_flag, git_remote_flag},
    "  record incident --ledger deployments.jsonl --environment production --note \"5xx spike, INC-123\"\n"};

cli::ToolResult incident(const cli::ParsedArgs& args) {
    if (args.value_or("note", "").empty()) throw_usage("give --note TEXT: say what happened (an incident number, a link)");
    auto entry = ledger::environment_entry(EntryKind::Incident, environment(args), record_context(args),
                                           digest_flag(args, "digest"));
    return report(args, write_entry(args, entry));
}

const cli::ToolSpec hold_spec{
    "record hold",
    "--environment ENV --reason TEXT --ledger FILE [options]",
    "Holds ENV at what runs there now (e.g. after a rollback): until record release, recording another digest\n"
    "into ENV is refused (exit 1), and so is pinning one. Holding a held environment changes nothing.",
    {ledger_flag, environment_flag, {"reason", "TEXT", "why (required)"}, sign_key_flag, pipeline_flag, commit_flag,
     git_flag, git_remote_flag},
    "  record hold --ledger deployments.jsonl --environment production --reason \"rolled back, INC-123\"\n"};

cli::ToolResult hold(const cli::ParsedArgs& args) {
    if (args.value_or("reason", "").empty()) throw_usage("give --reason TEXT: say why the environment is held");
    auto entry = ledger::environment_entry(EntryKind::Hold, environment(args), record_context(args, "reason"));
    return report(args, write_entry(args, entry));
}

const cli::ToolSpec release_spec{
    "record release",
    "--environment ENV --ledger FILE [--note TEXT] [options]",
    "Releases the hold on ENV: deployments of any digest may be recorded again. Releasing an environment that\n"
    "is not held changes nothing.",
    {ledger_flag, environment_flag, {"note", "TEXT", "a note kept with the entry"}, sign_key_flag, pipeline_flag,
     commit_flag, git_flag, git_remote_flag},
    "  record release --ledger deployments.jsonl --environment production --note \"fix deployed\"\n"};

cli::ToolResult release(const cli::ParsedArgs& args) {
    auto entry = ledger::environment_entry(EntryKind::Release, environment(args), record_context(args));
    return report(args, write_entry(args, entry));
}

const cli::ToolSpec repair_spec{
    "record repair",
    "--ledger FILE [options]",
    "Moves a torn last line (bytes a writer left when it was stopped mid-append) into FILE.torn-<time>, then\n"
    "truncates the ledger to its last complete line. Nothing is deleted; a ledger without a torn line is left\n"
    "alone.",
    {ledger_flag},
    "  record repair --ledger deployments.jsonl && record verify --ledger deployments.jsonl\n"};

cli::ToolResult repair(const cli::ParsedArgs& args) {
    const std::string path = ledger_path(args);
    auto aside = ledger::repair_torn_tail(path);
    cli::ToolResult tool;
    tool.json["ledger"] = path;
    tool.json["repaired"] = aside.has_value();
    if (aside) tool.json["tornBytesIn"] = *aside;
    tool.text = aside ? "moved the torn line of " + path + " to " + *aside + "; the ledger ends with its last complete line"
                      : path + " has no torn line; nothing changed";
    return tool;
}

}  // namespace

const Command& append_command() {
    static const Command command{"", append_spec, append};
    return command;
}
const Command& incident_command() {
    static const Command command{"incident", incident_spec, incident};
    return command;
}
const Command& hold_command() {
    static const Command command{"hold", hold_spec, hold};
    return command;
}
const Command& release_command() {
    static const Command command{"release", release_spec, release};
    return command;
}
const Command& repair_command() {
    static const Command command{"repair", repair_spec, repair};
    return command;
}

}  // namespace digestflow::record_tool
