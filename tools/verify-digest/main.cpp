// verify-digest: prove that references, or the registry's bytes, are the artifact's digest.
#include "digestflow/ci/markdown.hpp"
#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/cli/run.hpp"
#include "digestflow/error.hpp"
#include "digestflow/gitops/manifest_check.hpp"
#include "digestflow/gitops/written_reference.hpp"
#include "digestflow/operations/verify.hpp"
#include "digestflow/operations/verify_running.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/running_workloads.hpp"
#include "digestflow/text_file.hpp"

#include <algorithm>

using namespace digestflow;

namespace {

const cli::ToolSpec spec{
    "verify-digest",
    "--artifact FILE (--ref REF... | --content | --manifest FILE... | --running FILE) [options]",
    "Checks that each --ref still resolves to the artifact's digest (a moved or deleted tag fails), and with\n"
    "--content fetches the manifest, every index child and every blob by digest and hashes all of it\n"
    "(non-distributable \"foreign\" layers, which registries do not serve, are skipped and counted).\n"
    "--manifest checks that every image of the artifact's repository in Kubernetes, compose, kustomization or\n"
    "Helm values files is pinned to the digest (a tag only, or another digest, fails and is named FILE:LINE);\n"
    "files after the flags count as more --manifest files, and - reads stdin (kubectl kustomize DIR | ...).\n"
    "--running reads kubectl get pods -o json, docker inspect or podman inspect output (containers or images)\n"
    "and checks that each container of the repository runs the digest or one of its index children; an image\n"
    "ID (a config digest) is compared with the config digests fetched by digest from the registry.\n"
    "Each check that ran, match or not, is appended to the artifact's history (also when a later one fails).",
    {
        {"ref", "REF",
         "a tag or reference that must resolve to the artifact's digest (REPO:TAG@DIGEST: the tag must "
         "resolve to the pinned digest)",
         true},
        {"content", "", "fetch everything by digest and hash the bytes"},
        {"manifest", "FILE", "a GitOps file whose images of the repository must be pinned to the digest", true},
        {"allow-absent", "", "with --manifest: a file that names no image of the repository passes"},
        {"running", "FILE", "kubectl/docker/podman JSON of what runs (- = stdin); its containers must run the digest", true},
        {"container", "NAME", "with --running: also judge this container, whatever image name it reports", true},
        {"no-record", "", "do not append the result to the artifact's history"},
    },
    "  verify-digest --artifact image-digest.json --ref registry.example.com/team/app:staging\n"
    "  verify-digest --content --json\n"
    "  verify-digest --manifest deploy/web.yaml deploy/kustomization.yaml\n"
    "  kubectl kustomize overlays/prod | verify-digest --manifest -\n"
    "  kubectl get pods -n shop -l app=web -o json | verify-digest --running -\n",
    "FILE"};

// --manifest FILE... (and the operands): one check per image site, and per file naming none.
std::vector<operations::Check> manifest_checks(const cli::ParsedArgs& args, const Artifact& artifact) {
    auto files = args.values("manifest");
    if (!args.operands().empty() && files.empty())
        throw_usage("files were named without --manifest: use verify-digest --manifest FILE...");
    files.insert(files.end(), args.operands().begin(), args.operands().end());
    if (std::count(files.begin(), files.end(), "-") > 1) throw_usage("--manifest -: stdin can be read once; name it once");
    const auto image = artifact.image();
    std::vector<operations::Check> checks;
    for (const auto& path : files) {
        const gitops::GitopsFile file = gitops::load_gitops_file(path, true);
        for (const auto& pin : gitops::check_pins(file, image.repository, image.digest, args.has("allow-absent"))) {
            const std::string found = gitops::WrittenReference::split(pin.rendered).digest.value_or("");
            checks.push_back({file.path + (pin.line ? ":" + std::to_string(pin.line) : ""), pin.pinned, pin.detail,
                              found == image.digest.str() ? "" : found});
        }
        // An Argo CD override beside a kustomization or values file wins over what the file pins.
        if (path != "-" && (file.kind == gitops::FileKind::Kustomization || file.kind == gitops::FileKind::HelmValues))
            for (const auto& problem : gitops::argocd_overrides(file.path, image.repository, files))
                checks.push_back({file.path, false, problem, ""});
        if (path != "-" && file.kind == gitops::FileKind::Compose)
            for (const auto& problem : gitops::compose_overrides(file.path, image.repository, files))
                checks.push_back({file.path, false, problem, ""});
    }
    return checks;
}

// One history entry per check that ran, match or not.
void record(Artifact& artifact, const std::vector<operations::Check>& checks) {
    for (const auto& check : checks) {
        nlohmann::ordered_json history{{"step", "verify"}, {"target", check.target},
                                       {"result", check.match ? "match" : "mismatch"}};
        if (!check.match && !check.found.empty()) history["found"] = check.found;
        artifact.append_history(history);
    }
}

// --running FILE...: one check per judged container; containers of other repositories are listed in --json.
std::vector<operations::RunningVerdict> running_verdicts(const cli::ParsedArgs& args, registry::RegistryClient& client,
                                                         const Artifact& artifact,
                                                         const std::vector<RunningWorkloads>& reports) {
    std::vector<operations::RunningVerdict> verdicts;
    // A --container that names nothing would drop the check it was given for without a word.
    for (const std::string& name : args.values("container")) {
        const bool present = std::any_of(reports.begin(), reports.end(), [&](const RunningWorkloads& report) {
            return std::any_of(report.containers.begin(), report.containers.end(),
                               [&](const RunningContainer& c) { return c.container == name; });
        });
        if (!present) throw_usage("--container " + quote(name) + ": no container of that name in the report(s)");
    }
    for (std::size_t i = 0; i < reports.size(); ++i) {
        if (reports[i].containers.empty())
            throw Error(ErrorKind::CheckFailed, args.values("running")[i] + ": the report lists no pod or container (did "
                                                "the selector match anything?)");
        auto some = operations::verify_running(client, artifact, reports[i], args.values("container"));
        const bool judged = std::any_of(some.begin(), some.end(), [](const auto& v) { return v.judged; });
        if (!judged)
            throw Error(ErrorKind::CheckFailed, args.values("running")[i] + ": no container runs an image of " +
                                                    artifact.image().repository +
                                                    " (name one with --container NAME if the runtime reports another name)");
        verdicts.insert(verdicts.end(), some.begin(), some.end());
    }
    return verdicts;
}

// Outputs and the step summary: one row per check, the first mismatch as the failure line.
void ci_report(cli::ToolResult& tool, const Artifact& artifact, const std::vector<operations::Check>& checks) {
    const ImageInfo image = artifact.image();
    tool.outputs = ci::image_outputs(image.repository, image.digest.str());
    tool.outputs.push_back({"result", "VERIFY_RESULT", tool.exit_code == cli::exit_success ? "match" : "mismatch"});
    tool.summary = "### verify-digest: " + std::string(tool.exit_code == cli::exit_success ? "match" : "**mismatch**") +
                   "\n\n`" + image.repository + "@" + image.digest.str() + "`\n\n| target | result | detail |\n|---|---|---|\n";
    for (const auto& check : checks) {
        tool.summary += "| " + ci::markdown_cell(check.target) + " | " + (check.match ? "match" : "**mismatch**") + " | " +
                        ci::markdown_cell(check.detail) + " |\n";
        if (!check.match && tool.failure.empty()) tool.failure = check.detail;
    }
    tool.summary += "\n";
}

cli::ToolResult run(const cli::ParsedArgs& args) {
    auto refs = args.values("ref");
    if (refs.empty() && !args.has("content") && !args.has("manifest") && args.operands().empty() && !args.has("running"))
        throw_usage("name what to verify: --ref REF (repeatable), --content, --manifest FILE and/or --running FILE");
    if (args.has("container") && !args.has("running")) throw_usage("--container is for --running: name the report too");
    std::vector<Reference> parsed;
    for (const auto& r : refs) parsed.push_back(Reference::parse(r));

    Artifact artifact = Artifact::load(args.artifact_path());
    const bool keep = !args.has("no-record");
    // Files are read (and bad ones refused) before any registry request.
    const auto file_checks = manifest_checks(args, artifact);
    std::vector<RunningWorkloads> reports;
    for (const auto& path : args.values("running")) {
        InputFileOptions options;
        options.max_bytes = max_workloads_bytes;
        options.allow_stdin = true;
        reports.push_back(parse_running_workloads(read_text_file(path, "--running", options), path == "-" ? "stdin" : path));
    }
    std::vector<operations::RunningVerdict> verdicts;
    registry::RegistryClient client(args.client_options());
    std::vector<operations::Check> checks;
    try {
        for (const auto& ref : parsed) checks.push_back(operations::verify_reference(client, artifact, ref));
        if (args.has("content")) checks.push_back(operations::verify_content(client, artifact));
        checks.insert(checks.end(), file_checks.begin(), file_checks.end());
        verdicts = running_verdicts(args, client, artifact, reports);
        for (const auto& v : verdicts)
            if (v.judged) checks.push_back(v.check);
    } catch (const Error&) {
        // A failure after some checks completed (the network, exit 3) still records them, then is reported.
        if (keep && !checks.empty()) {
            record(artifact, checks);
            artifact.save(args.out_path());
        }
        throw;
    }

    cli::ToolResult tool;
    tool.json["digest"] = artifact.image().digest.str();
    tool.json["checks"] = nlohmann::ordered_json::array();
    bool all_match = true;
    for (const auto& check : checks) {
        all_match = all_match && check.match;
        tool.text += std::string(check.match ? "match    " : "MISMATCH ") + check.detail + "\n";
        nlohmann::ordered_json entry{{"target", check.target}, {"result", check.match ? "match" : "mismatch"},
                                     {"detail", check.detail}};
        if (!check.found.empty()) entry["found"] = check.found;
        tool.json["checks"].push_back(entry);
    }
    if (!verdicts.empty()) {
        tool.json["containers"] = nlohmann::ordered_json::array();
        for (const auto& v : verdicts) {
            nlohmann::ordered_json entry{{"container", v.check.target}, {"image", v.image},
                                         {"result", !v.judged ? "not judged" : v.check.match ? "match" : "mismatch"},
                                         {"detail", v.check.detail}};
            if (!v.evidence_field.empty()) entry["evidence"] = v.evidence_field;
            if (!v.check.found.empty()) entry["found"] = v.check.found;
            tool.json["containers"].push_back(entry);
        }
    }
    tool.json["requests"] = client.request_count();
    if (keep) {
        record(artifact, checks);
        artifact.save(args.out_path());
    }
    tool.exit_code = all_match ? cli::exit_success : cli::exit_check_failed;
    ci_report(tool, artifact, checks);
    return tool;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_tool(spec, argc, argv, run); }
