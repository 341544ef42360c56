// retag: promote the artifact's digest to new tags, repositories or registries, byte for byte.
#include "digestflow/artifact.hpp"
#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/cli/progress.hpp"
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

nlohmann::ordered_json describe(const operations::PromoteResult& result) {
    nlohmann::ordered_json doc{{"digest", result.digest.str()}, {"destinations", nlohmann::ordered_json::array()}};
    for (const auto& d : result.destinations) {
        nlohmann::ordered_json entry{{"reference", d.destination.str()}, {"action", d.action}};
        if (d.previous) entry["previous"] = d.previous->str();
        if (result.error) entry["written"] = d.written;  // a failed promotion: what it did write
        if (d.failed) entry["failed"] = true;
        doc["destinations"].push_back(entry);
    }
    const auto& b = result.blobs;
    doc["blobs"] = {{"present", b.present}, {"mounted", b.mounted}, {"uploaded", b.uploaded},
                    {"bytesUploaded", b.bytes_uploaded}};
    doc["referrers"] = result.referrers;
    if (result.referrers_skipped > 0) doc["referrersSkipped"] = result.referrers_skipped;
    return doc;
}

void add_rate_limit(cli::ToolResult& tool, const registry::RegistryClient& client) {
    auto limit = client.rate_limit();
    if (limit.headers.empty() && limit.throttled == 0) return;
    tool.json["rateLimit"] = {{"throttled", limit.throttled}, {"headers", limit.headers}};
    tool.text += "\nrate limited: " + std::to_string(limit.throttled) + " time(s) waited out";
}

// After a failure: which destinations were written all the same (they are in the artifact's history).
std::string written_note(const std::optional<operations::PromoteResult>& partial) {
    std::string names;
    if (partial)
        for (const auto& d : partial->destinations)
            if (d.written) names += (names.empty() ? "" : ", ") + d.destination.str() + " (" + d.action + ")";
    return names.empty() ? "" : "; written before the failure: " + names;
}

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
            auto described = describe(*outcome.result);
            for (auto& [key, value] : described.items()) entry[key] = value;
        }
        if (outcome.failure) {
            entry["error"] = outcome.error;
            line += outcome.error + written_note(outcome.result);
        } else {
            std::string names;
            for (const auto& d : outcome.result->destinations) names += (names.empty() ? "" : ", ") + d.destination.str() + " (" + d.action + ")";
            line += items[i].request.source.str() + " -> " + names;
        }
        entry["requests"] = outcome.requests;
        tool.json["items"].push_back(entry);
        tool.text += line + "; " + std::to_string(outcome.requests) + " requests\n";
    }
    tool.text += std::to_string(items.size() - failed) + " promoted, " + std::to_string(failed) + " failed; " +
                 std::to_string(client.request_count()) + " HTTP requests";
    tool.json["requests"] = client.request_count();
    add_rate_limit(tool, client);
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
        Error failure(e.kind(), e.what() + written_note(e.partial()));
        try {
            if (artifact && operations::record_promotion(*artifact, e.partial())) artifact->save(out_path);
        } catch (const Error& saving) {
            failure = Error(e.kind(), failure.what() + std::string("; the artifact's history was not saved either: ") + saving.what());
        }
        throw ReportedError(failure, std::make_shared<const nlohmann::ordered_json>(describe(e.partial())));
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
        if (!source.digest) throw_usage("--source " + *text + ": give REPOSITORY@DIGEST; retag never resolves a tag");
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
    tool.json = describe(result);
    tool.json["requests"] = client.request_count();
    tool.text = "promoted " + source.str() + " (" + result.media_type + ")\n";
    for (const auto& d : result.destinations)
        tool.text += "  " + d.action + std::string(10 - std::min<std::size_t>(d.action.size(), 9), ' ') +
                     d.destination.str() + (d.previous ? " (was " + d.previous->str() + ")" : "") + "\n";
    const auto& b = result.blobs;
    tool.text += "blobs: " + std::to_string(b.present) + " present, " + std::to_string(b.mounted) + " mounted, " +
                 std::to_string(b.uploaded) + " uploaded (" + std::to_string(b.bytes_uploaded) + " bytes); " +
                 std::to_string(client.request_count()) + " HTTP requests";
    if (args.has("referrers")) tool.text += "\nreferrers copied: " + std::to_string(result.referrers);
    if (result.referrers_skipped > 0)
        tool.text += " (" + std::to_string(result.referrers_skipped) + " listed with another subject: not copied)";
    add_rate_limit(tool, client);
    return tool;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_tool(spec, argc, argv, run); }
