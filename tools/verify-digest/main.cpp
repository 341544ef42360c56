// verify-digest: prove that references, or the registry's bytes, are the artifact's digest.
#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/cli/run.hpp"
#include "digestflow/error.hpp"
#include "digestflow/gitops/manifest_check.hpp"
#include "digestflow/gitops/written_reference.hpp"
#include "digestflow/operations/verify.hpp"

using namespace digestflow;

namespace {

const cli::ToolSpec spec{
    "verify-digest",
    "--artifact FILE (--ref REF... | --content | --manifest FILE...) [options]",
    "Checks that each --ref still resolves to the artifact's digest (a moved or deleted tag fails), and with\n"
    "--content fetches the manifest, every index child and every blob by digest and hashes all of it\n"
    "(non-distributable \"foreign\" layers, which registries do not serve, are skipped and counted).\n"
    "--manifest checks that every image of the artifact's repository in Kubernetes, compose, kustomization or\n"
    "Helm values files is pinned to the digest (a tag only, or another digest, fails and is named FILE:LINE);\n"
    "files after the flags count as more --manifest files, and - reads stdin (kubectl kustomize DIR | ...).\n"
    "Each check that ran, match or not, is appended to the artifact's history (also when a later one fails).",
    {
        {"ref", "REF",
         "a tag or reference that must resolve to the artifact's digest (REPO:TAG@DIGEST: the tag must "
         "resolve to the pinned digest)",
         true},
        {"content", "", "fetch everything by digest and hash the bytes"},
        {"manifest", "FILE", "a GitOps file whose images of the repository must be pinned to the digest", true},
        {"allow-absent", "", "with --manifest: a file that names no image of the repository passes"},
        {"no-record", "", "do not append the result to the artifact's history"},
    },
    "  verify-digest --artifact image-digest.json --ref registry.example.com/team/app:staging\n"
    "  verify-digest --content --json\n"
    "  verify-digest --manifest deploy/web.yaml deploy/kustomization.yaml\n"
    "  kubectl kustomize overlays/prod | verify-digest --manifest -\n",
    "FILE"};

// --manifest FILE... (and the operands): one check per image site, and per file naming none.
std::vector<operations::Check> manifest_checks(const cli::ParsedArgs& args, const Artifact& artifact) {
    auto files = args.values("manifest");
    if (!args.operands().empty() && files.empty())
        throw_usage("files were named without --manifest: use verify-digest --manifest FILE...");
    files.insert(files.end(), args.operands().begin(), args.operands().end());
    const auto image = artifact.image();
    std::vector<operations::Check> checks;
    for (const auto& path : files) {
        const gitops::GitopsFile file = gitops::load_gitops_file(path, true);
        for (const auto& pin : gitops::check_pins(file, image.repository, image.digest, args.has("allow-absent"))) {
            const std::string found = gitops::WrittenReference::split(pin.rendered).digest.value_or("");
            checks.push_back({file.path + (pin.line ? ":" + std::to_string(pin.line) : ""), pin.pinned, pin.detail,
                              found == image.digest.str() ? "" : found});
        }
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

cli::ToolResult run(const cli::ParsedArgs& args) {
    auto refs = args.values("ref");
    if (refs.empty() && !args.has("content") && !args.has("manifest") && args.operands().empty())
        throw_usage("name what to verify: --ref REF (repeatable), --content and/or --manifest FILE");
    std::vector<Reference> parsed;
    for (const auto& r : refs) parsed.push_back(Reference::parse(r));

    Artifact artifact = Artifact::load(args.artifact_path());
    const bool keep = !args.has("no-record");
    // Files are read (and bad ones refused) before any registry request.
    const auto file_checks = manifest_checks(args, artifact);
    registry::RegistryClient client(args.client_options());
    std::vector<operations::Check> checks;
    try {
        for (const auto& ref : parsed) checks.push_back(operations::verify_reference(client, artifact, ref));
        if (args.has("content")) checks.push_back(operations::verify_content(client, artifact));
        checks.insert(checks.end(), file_checks.begin(), file_checks.end());
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
    tool.json["requests"] = client.request_count();
    if (keep) {
        record(artifact, checks);
        artifact.save(args.out_path());
    }
    tool.exit_code = all_match ? cli::exit_success : cli::exit_check_failed;
    return tool;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_tool(spec, argc, argv, run); }
