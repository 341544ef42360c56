// record pin: write the artifact's digest into GitOps files (Kubernetes, compose, kustomization, Helm values),
// changing only the bytes of each image value.
#include "commands.hpp"
#include "ledger_flags.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/gitops/gitops_file.hpp"
#include "digestflow/gitops/pin_plan.hpp"
#include "digestflow/gitops/unified_diff.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/ledger_file.hpp"
#include "digestflow/operations/pin_commit.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <filesystem>
#include <set>

namespace digestflow::record_tool {
namespace {

using gitops::PinOutcome;

const cli::ToolSpec pin_spec{
    "record pin",
    "--artifact A [--environment ENV --ledger FILE] [--keep-tag] [--dry-run] [--commit] FILE...",
    "Pins every image of the artifact's repository in the FILEs to its digest: Kubernetes manifests\n"
    "(containers, initContainers, ephemeralContainers; multi-document), compose services.*.image, a\n"
    "kustomization's images[] entry (digest set, newTag removed), Helm values (repository/tag/digest blocks at any\n"
    "depth, image: strings). Only the image value's bytes change: comments, quotes, order, indentation and line\n"
    "endings stay. A reference pinned to another digest is moved (the old digest is named); a file with no image\n"
    "of the repository is left byte-identical and reported. Each file is written atomically; when any image cannot\n"
    "be pinned safely, no file is written. An Argo CD .argocd-source*.yaml beside a file that overrides its images\n"
    "is refused unless it is pinned too.",
    {
        {"keep-tag", "", "keep the tag: repository:tag@digest (Helm: the tag becomes TAG@sha256:…)"},
        {"dry-run", "", "print the unified diff of each file and write nothing"},
        {"commit", "", "commit the pinned files in their Git repository (one commit naming environment and digest)"},
        environment_flag,
        {"ledger", "FILE", "with --environment: refuse when the environment is held at another digest"},
    },
    "  record pin --artifact image-digest.json deploy/web.yaml deploy/kustomization.yaml\n"
    "  record pin --artifact image-digest.json --environment production --ledger deployments.jsonl --commit k8s/prod/*.yaml\n"
    "  record pin --dry-run --keep-tag charts/web/values.yaml\n",
    "FILE"};

// The holds in force now, from the ledger's last line; an absent ledger holds nothing. A torn tail is reported
// (it may be a hold whose write was cut short).
ledger::Holds current_holds(const std::string& path, cli::ToolResult& tool) {
    if (!std::filesystem::exists(path)) return {};
    ledger::LedgerView view(path);
    report_torn(view, tool);
    std::string last;
    ledger::find_line_backward(view.complete(), [&](std::string_view line) {
        last = std::string(line);
        return true;
    });
    if (last.empty()) return {};
    return ledger::parse_line(last, path + ", its last line").holds;
}

void refuse_when_held(const cli::ParsedArgs& args, const Artifact& artifact, const std::string& env,
                      cli::ToolResult& tool) {
    if (env.empty()) {
        if (args.has("ledger")) throw_usage("--ledger needs --environment ENV: the environment whose hold to check");
        return;
    }
    if (!args.has("ledger")) throw_usage("--environment needs --ledger FILE: the ledger whose holds to check");
    const std::string path = ledger_path(args);
    const auto holds = current_holds(path, tool);
    auto held = holds.find(env);
    if (held != holds.end() && held->second.digest != artifact.image().digest.str())
        throw Error(ErrorKind::CheckFailed,
                    env + " is held at " + held->second.digest + " (since " + held->second.at + ") in " + path +
                        ": pinning " + artifact.image().digest.str() + " was refused; release the hold first with "
                        "record release --environment " + env + " --ledger " + path);
}

const char* outcome_word(PinOutcome outcome) {
    switch (outcome) {
        case PinOutcome::Pinned: return "pinned";
        case PinOutcome::Moved: return "moved";
        case PinOutcome::AlreadyPinned: return "already";
        case PinOutcome::Refused: return "REFUSED";
    }
    return "?";
}

// The file's bytes as they are now, undecoded (what load_gitops_file read before).
std::string current_bytes(const std::string& path) {
    InputFileOptions options;
    options.max_bytes = gitops::max_gitops_file_bytes;
    options.decode = false;
    return read_text_file(path, "", options);
}

std::string site_line(const gitops::FilePin& file, const gitops::SitePin& pin) {
    std::string out = std::string(outcome_word(pin.outcome)) + " " + printable(file.path) + ":" + std::to_string(pin.site.line) +
                      " " + printable(pin.site.where) + ": ";
    switch (pin.outcome) {
        case PinOutcome::Pinned: return out + printable(pin.before) + " -> " + printable(pin.after);
        case PinOutcome::Moved:
            return out + printable(pin.before) + " -> " + printable(pin.after) + " (moved from " +
                   (pin.previous ? pin.previous->str() : printable(pin.before)) + ")";
        case PinOutcome::AlreadyPinned: return out + printable(pin.before) + " (already pinned)";
        case PinOutcome::Refused: return out + printable(pin.before) + ": " + pin.reason;
    }
    return out;
}

nlohmann::ordered_json file_json(const gitops::FilePin& file) {
    nlohmann::ordered_json sites = nlohmann::ordered_json::array();
    for (const auto& pin : file.sites) {
        nlohmann::ordered_json site{{"line", pin.site.line}, {"where", pin.site.where}, {"result", outcome_word(pin.outcome)},
                                    {"before", pin.before}, {"after", pin.after}};
        if (pin.previous) site["movedFrom"] = pin.previous->str();
        if (!pin.reason.empty()) site["reason"] = pin.reason;
        sites.push_back(site);
    }
    return {{"path", file.path}, {"kind", gitops::kind_name(file.kind)}, {"changed", file.changed()}, {"sites", sites}};
}

// The commit names each file by its path in the repository, whatever the folder record pin ran in.
std::string repository_path(const std::string& file, const std::string& work_tree) {
    std::error_code ec;
    const auto relative = std::filesystem::relative(std::filesystem::weakly_canonical(file, ec), work_tree, ec);
    return ec || relative.empty() ? file : relative.string();
}

std::string commit_message(const Artifact& artifact, const std::string& env, const std::vector<gitops::FilePin>& files,
                           const std::string& work_tree) {
    const auto image = artifact.image();
    std::string message = "pin " + (env.empty() ? "" : env + ": ") + image.repository + "@" + image.digest.str() + "\n\n";
    for (const auto& file : files)
        for (const auto& pin : file.sites)
            if (!pin.splices.empty())
                message += printable(repository_path(file.path, work_tree)) + ":" + std::to_string(pin.site.line) + " " + printable(pin.site.where) +
                           (pin.previous ? " (from " + pin.previous->str() + ")" : "") + "\n";
    message += "\nDigestflow-Digest: " + image.digest.str() + "\n";
    if (!env.empty()) message += "Digestflow-Environment: " + env + "\n";
    return message;
}

cli::ToolResult pin(const cli::ParsedArgs& args) {
    const auto& paths = args.operands();
    if (paths.empty()) throw_usage("name the files to pin: record pin --artifact A FILE... (run record pin --help)");
    for (const auto& path : paths)
        if (path == "-") throw_usage("record pin writes files in place and cannot pin stdin: name the file");
    Artifact artifact = Artifact::load(args.artifact_path());
    const auto image = artifact.image();
    const std::string env = environment(args, true);
    cli::ToolResult tool;
    refuse_when_held(args, artifact, env, tool);

    // Read, plan and check everything before the first write.
    std::vector<gitops::GitopsFile> loaded;
    std::set<std::string> seen;
    for (const auto& path : paths) {
        std::error_code unresolved;  // a path that cannot be resolved is read as given (and refused there)
        const auto canonical = std::filesystem::weakly_canonical(path, unresolved);
        if (!seen.insert(unresolved ? path : canonical.string()).second) continue;
        loaded.push_back(gitops::load_gitops_file(path, false));
    }
    std::vector<std::string> overrides;
    for (const auto& file : loaded)
        if (file.kind == gitops::FileKind::Kustomization || file.kind == gitops::FileKind::HelmValues)
            for (auto& problem : gitops::argocd_overrides(file.path, image.repository, paths)) overrides.push_back(problem);
    for (const auto& file : loaded)
        if (file.kind == gitops::FileKind::Compose)
            for (auto& problem : gitops::compose_overrides(file.path, image.repository, paths)) overrides.push_back(problem);
    const gitops::PinOptions options{image.digest, args.has("keep-tag")};
    std::vector<gitops::FilePin> plans;
    for (const auto& file : loaded) plans.push_back(gitops::plan_pins(file.yaml, file.kind, image.repository, options));

    tool.json["repository"] = image.repository;
    tool.json["digest"] = image.digest.str();
    tool.json["files"] = nlohmann::ordered_json::array();
    std::size_t sites = 0;
    bool refused = !overrides.empty();
    for (const auto& plan : plans) {
        tool.json["files"].push_back(file_json(plan));
        sites += plan.sites.size();
        refused = refused || plan.refused();
        if (plan.sites.empty())
            tool.text += "absent  " + printable(plan.path) + ": no image of " + image.repository + " (" + gitops::kind_name(plan.kind) +
                         " file left unchanged)\n";
        for (const auto& pin : plan.sites) tool.text += site_line(plan, pin) + "\n";
    }
    // A pinned file must stay readable by the tools that check it next.
    for (const auto& plan : plans)
        if (plan.new_text.size() > gitops::max_gitops_file_bytes)
            overrides.push_back(quote(plan.path) + " would grow past 16 MiB when pinned, which record pin and "
                                "verify-digest refuse to read: split the file");
    refused = refused || !overrides.empty();
    for (const auto& problem : overrides) tool.text += "REFUSED " + problem + "\n";
    if (refused) {
        tool.json["written"] = false;
        tool.text += "nothing was written: fix the lines marked REFUSED, then pin again\n";
        tool.json["error"] = overrides.empty() ? "an image could not be pinned safely" : overrides.front();
        tool.exit_code = 2;
        return tool;
    }
    if (sites == 0) {
        tool.json["written"] = false;
        tool.text += "no file names an image of " + image.repository + ": nothing to pin\n";
        tool.exit_code = 1;
        return tool;
    }

    std::vector<const gitops::FilePin*> changed;
    for (const auto& plan : plans)
        if (plan.changed()) changed.push_back(&plan);
    if (args.has("dry-run")) {
        for (std::size_t i = 0; i < plans.size(); ++i)
            if (plans[i].changed())
                tool.text += gitops::unified_diff(loaded[i].yaml.text(), plans[i].new_text, "a/" + plans[i].path,
                                                  "b/" + plans[i].path);
        tool.text += "dry run: nothing was written\n";
        tool.json["written"] = false;
        return tool;
    }

    std::vector<std::string> changed_paths;
    for (const auto* plan : changed) changed_paths.push_back(plan->path);
    std::string work_tree;
    if (args.has("commit") && !changed.empty()) work_tree = operations::pin_work_tree(changed_paths);

    std::vector<std::size_t> written;
    auto restore = [&] {
        for (std::size_t i : written) write_file_atomically(plans[i].path, loaded[i].yaml.text());
    };
    try {
        for (std::size_t i = 0; i < plans.size(); ++i) {
            if (!plans[i].changed()) continue;
            // An edit made since the file was read (an editor, a checkout, another pin) must not be lost.
            if (current_bytes(plans[i].path) != loaded[i].yaml.text())
                throw_usage(quote(plans[i].path) + " changed while record pin ran: nothing was written (files already "
                            "written are put back); run it again");
            write_file_atomically(plans[i].path, plans[i].new_text);
            written.push_back(i);
        }
    } catch (const Error&) {
        restore();
        throw;
    }
    tool.json["written"] = !changed.empty();
    tool.text += changed.empty() ? "every image was already pinned: no file changed\n"
                                 : "wrote " + std::to_string(changed.size()) + " file(s)\n";
    tool.outputs = ci::image_outputs(image.repository, image.digest.str());
    tool.outputs.push_back({"changed-files", "PIN_CHANGED_FILES", std::to_string(changed.size())});
    if (!work_tree.empty()) {
        try {
            const std::string sha = operations::commit_pins(work_tree, changed_paths, commit_message(artifact, env, plans, work_tree));
            tool.json["commit"] = sha;
            tool.text += "committed " + sha + " in " + work_tree + "\n";
            tool.outputs.push_back({"commit", "PIN_COMMIT", sha});
        } catch (const Error&) {
            operations::unstage(work_tree, changed_paths);
            restore();
            throw;
        }
    }
    return tool;
}

}  // namespace

const Command& pin_command() {
    static const Command command{"pin", pin_spec, pin};
    return command;
}

}  // namespace digestflow::record_tool
