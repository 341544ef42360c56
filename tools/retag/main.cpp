// retag: promote the artifact's digest to new tags, repositories or registries, byte for byte.
#include "digestflow/artifact.hpp"
#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/cli/progress.hpp"
#include "digestflow/cli/promotion_report.hpp"
#include "digestflow/cli/run.hpp"
#include "digestflow/error.hpp"
#include "digestflow/operations/promote_list.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <memory>

using namespace digestflow;

namespace {

const cli::ToolSpec spec{
    "retag",
    "(--tag TAG... | --to REPO[:TAG]...) [--artifact FILE | --source REPO@DIGEST] [options]\n"
    "       retag --from-list FILE [-j N] [options]",
    "Promotes an image by digest: --tag adds tags in the same repository (the manifest's exact bytes are PUT\n"
    "again, no blob traffic); --to copies into another repository (blobs mounted) or registry (blobs streamed\n"
    "and hashed), children before the index, then tags. A source tag is never resolved. A destination tag that\n"
    "points at another digest is refused unless --allow-move; one already at the digest is left alone. Every\n"
    "destination tag is confirmed, and the promotion is appended to the artifact's history (after a failure:\n"
    "what was written, with the previous digest of moved tags).",
    {
        {"tag", "TAG", "add this tag in the source repository", true},
        {"to", "REPO[:TAG]", "copy to this repository (a bare REPO keeps the digest only, no tag)", true},
        {"source", "REPO@DIGEST", "promote this instead of an artifact's image (not with --artifact; no artifact is written)"},
        {"allow-move", "", "let a destination tag that points at another digest move (recorded in history)"},
        {"referrers", "",
         "also copy what refers to the digest (signatures, attestations, SBOMs), found through the referrers API "
         "or the sha256-<hex> fallback tag"},
        {"from-list", "FILE",
         "many promotions, one JSON object per line: {\"artifact\": PATH} or {\"source\": \"REPO@DIGEST\"} with "
         "\"tags\" and/or \"to\" (string or array), optional \"allowMove\", \"referrers\""},
        {"jobs", "N", "with --from-list: promotions run in parallel (default 4)", false, 'j'},
        {"progress", "", "show blob transfer progress on stderr even when it is not a terminal"},
    },
    "  retag --artifact image-digest.json --tag 1.4.2 --tag stable\n"
    "  retag --to registry.example.com/prod/app:1.4.2 --to mirror.example.com/prod/app\n"
    "  retag --from-list promotions.jsonl -j 8 --json\n"};

int jobs_of(const cli::ParsedArgs& args) {
    std::string text = args.value_or("jobs", "4");
    if (text.empty() || text.size() > 3 || text.find_first_not_of("0123456789") != std::string::npos || std::stoi(text) < 1)
        throw_usage("-j/--jobs " + quote(text) + ": give a whole number from 1 to 999");
    return std::stoi(text);
}

cli::ToolResult run_list(const cli::ParsedArgs& args) {
    for (const char* flag : {"tag", "to", "source", "allow-move", "referrers"})
        if (args.has(flag)) throw_usage(std::string("--") + flag + " goes in the list file's lines with --from-list");
    const int jobs = jobs_of(args);  // checked before any work, like every flag
    std::string path = *args.value("from-list");
    auto items = operations::parse_promotion_list(read_text_file(path, "--from-list"), path);
    registry::RegistryClient client(args.client_options());
    cli::TransferProgress progress(args.has("progress"));
    auto outcomes = operations::promote_all(client, items, jobs, progress.callback());
    progress.finish();

    cli::ToolResult tool;
    tool.json["items"] = nlohmann::ordered_json::array();
    int failed = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto& outcome = outcomes[i];
        int code = outcome.failure ? cli::exit_code_for(*outcome.failure) : cli::exit_success;
        tool.exit_code = std::max(tool.exit_code, code);
        failed += code != 0;
        nlohmann::ordered_json entry{{"line", items[i].line}, {"source", items[i].request.source.str()}, {"exitCode", code}};
        std::string line = (code ? "FAIL " : "ok   ") + path + ":" + std::to_string(items[i].line) + " ";
        if (outcome.result) {
            auto described = cli::describe_promotion(*outcome.result);
            for (auto& [key, value] : described.items()) entry[key] = value;
        }
        if (outcome.failure) {
            entry["error"] = outcome.error;
            line += outcome.error + cli::written_note(outcome.result);
        } else {
            line += items[i].request.source.str() + " -> " + cli::destination_names(*outcome.result);
        }
        entry["requests"] = outcome.requests;
        tool.json["items"].push_back(entry);
        tool.text += line + "; " + std::to_string(outcome.requests) + " requests\n";
    }
    tool.text += std::to_string(items.size() - failed) + " promoted, " + std::to_string(failed) + " failed; " +
                 std::to_string(client.request_count()) + " HTTP requests";
    tool.json["requests"] = client.request_count();
    cli::add_rate_limit(tool, client);
    return tool;
}

// Promotes; after a failure still records what was written (artifact history) and hands it to the error
// --json through a ReportedError.
operations::PromoteResult promote_recording(registry::RegistryClient& client, const operations::PromoteRequest& request,
                                            cli::TransferProgress& progress, std::optional<Artifact>& artifact,
                                            const std::string& out_path) {
    try {
        return operations::promote(client, request, progress.callback());
    } catch (const operations::PromoteFailure& e) {
        progress.finish();
        Error failure(e.kind(), e.what() + cli::written_note(e.partial()));
        try {
            if (artifact && operations::record_promotion(*artifact, e.partial())) artifact->save(out_path);
        } catch (const Error& saving) {
            failure = Error(e.kind(), failure.what() + std::string("; the artifact's history was not saved either: ") + saving.what());
        }
        throw ReportedError(failure, std::make_shared<const nlohmann::ordered_json>(cli::describe_promotion(e.partial())));
    }
}

cli::ToolResult run(const cli::ParsedArgs& args) {
    if (args.has("from-list")) return run_list(args);
    if (args.has("jobs")) throw_usage("-j/--jobs goes with --from-list");
    std::optional<Artifact> artifact;
    Reference source;
    if (args.has("source") && args.has("artifact"))
        throw_usage("--source and --artifact both name what to promote; give one (--source writes no artifact)");
    if (auto text = args.value("source")) {
        source = Reference::parse(*text);
        if (!source.digest) throw_usage("--source " + quote(*text) + ": give REPOSITORY@DIGEST; retag never resolves a tag");
    } else {
        artifact = Artifact::load(args.artifact_path());
        source = Reference::parse(artifact->image().repository).with_digest(artifact->image().digest);
    }
    operations::PromoteRequest request{source, operations::promotion_destinations(source, args.values("tag"), args.values("to")),
                                       args.has("allow-move"), args.has("referrers")};

    registry::RegistryClient client(args.client_options());
    cli::TransferProgress progress(args.has("progress"));
    auto result = promote_recording(client, request, progress, artifact, args.out_path());
    progress.finish();
    if (artifact && operations::record_promotion(*artifact, result)) artifact->save(args.out_path());

    cli::ToolResult tool;
    tool.json = cli::describe_promotion(result);
    tool.json["requests"] = client.request_count();
    tool.text = cli::promotion_text(result, source, client.request_count(), args.has("referrers"));
    cli::add_ci_report(tool, result, source);
    cli::add_rate_limit(tool, client);
    return tool;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_tool(spec, argc, argv, run); }
