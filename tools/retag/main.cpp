// retag: promote the artifact's digest to new tags, repositories or registries, byte for byte.
#include "digestflow/artifact.hpp"
#include "digestflow/cli/progress.hpp"
#include "digestflow/cli/run.hpp"
#include "digestflow/error.hpp"
#include "digestflow/operations/promote.hpp"

using namespace digestflow;

namespace {

const cli::ToolSpec spec{
    "retag",
    "(--tag TAG... | --to REPO[:TAG]...) [--artifact FILE | --source REPO@DIGEST] [options]",
    "Promotes an image by digest: --tag adds tags in the same repository (the manifest's exact bytes are PUT\n"
    "again, no blob traffic); --to copies into another repository (blobs mounted) or registry (blobs streamed\n"
    "and hashed), children before the index, then tags. A source tag is never resolved. A destination tag that\n"
    "points at another digest is refused unless --allow-move; one already at the digest is left alone. Every\n"
    "destination tag is checked afterwards, and the promotion is appended to the artifact's history.",
    {
        {"tag", "TAG", "add this tag in the source repository", true},
        {"to", "REPO[:TAG]", "copy to this repository (a bare REPO keeps the digest only, no tag)", true},
        {"source", "REPO@DIGEST", "promote this instead of the artifact's image (no artifact is written)"},
        {"referrers", "", "also copy what refers to the digest (signatures, attestations, SBOMs), found through "
                          "the referrers API or the sha256-<hex> fallback tag"},
        {"allow-move", "", "let a destination tag that points at another digest move (recorded in history)"},
        {"progress", "", "show blob transfer progress on stderr even when it is not a terminal"},
    },
    "  retag --artifact image-digest.json --tag 1.4.2 --tag stable\n"
    "  retag --to registry.example.com/prod/app:1.4.2 --to mirror.example.com/prod/app\n"};

std::vector<Reference> destinations(const cli::ParsedArgs& args, const Reference& source) {
    std::vector<Reference> out;
    for (const auto& tag : args.values("tag")) {
        if (!is_valid_tag(tag)) throw_usage("--tag " + tag + ": not a valid tag (letters, digits, '_', '.', '-'; at most 128)");
        out.push_back(source.with_tag(tag));
    }
    for (const auto& text : args.values("to")) {
        Reference to = Reference::parse(text);
        if (to.digest) throw_usage("--to " + text + ": name a repository and optionally a tag; the digest is the artifact's");
        out.push_back(to);
    }
    if (out.empty()) throw_usage("name at least one destination: --tag TAG or --to REPO[:TAG]");
    return out;
}

cli::ToolResult run(const cli::ParsedArgs& args) {
    std::optional<Artifact> artifact;
    Reference source;
    if (auto text = args.value("source")) {
        source = Reference::parse(*text);
        if (!source.digest) throw_usage("--source " + *text + ": give REPOSITORY@DIGEST; retag never resolves a tag");
    } else {
        artifact = Artifact::load(args.artifact_path());
        source = Reference::parse(artifact->image().repository).with_digest(artifact->image().digest);
    }
    operations::PromoteRequest request{source, destinations(args, source), args.has("allow-move"),
                                       args.has("referrers")};

    registry::RegistryClient client(args.client_options());
    cli::TransferProgress progress(args.has("progress"));
    auto result = operations::promote(client, request, progress.callback());
    progress.finish();

    cli::ToolResult tool;
    tool.text = "promoted " + source.str() + " (" + result.media_type + ")\n";
    nlohmann::ordered_json to = nlohmann::ordered_json::array();
    nlohmann::ordered_json previous = nlohmann::ordered_json::object();
    for (const auto& d : result.destinations) {
        std::string line = "  " + d.action + std::string(10 - std::min<std::size_t>(d.action.size(), 9), ' ') + d.destination.str();
        if (d.previous) line += " (was " + d.previous->str() + ")";
        tool.text += line + "\n";
        nlohmann::ordered_json entry{{"reference", d.destination.str()}, {"action", d.action}};
        if (d.previous) {
            entry["previous"] = d.previous->str();
            previous[d.destination.str()] = d.previous->str();
        }
        tool.json["destinations"].push_back(entry);
        to.push_back(d.destination.str());
    }
    const auto& b = result.blobs;
    tool.text += "blobs: " + std::to_string(b.present) + " present, " + std::to_string(b.mounted) + " mounted, " +
                 std::to_string(b.uploaded) + " uploaded (" + std::to_string(b.bytes_uploaded) + " bytes); " +
                 std::to_string(client.request_count()) + " HTTP requests";
    if (args.has("referrers")) tool.text += "\nreferrers copied: " + std::to_string(result.referrers);
    tool.json["digest"] = result.digest.str();
    tool.json["blobs"] = {{"present", b.present}, {"mounted", b.mounted}, {"uploaded", b.uploaded},
                          {"bytesUploaded", b.bytes_uploaded}};
    tool.json["referrers"] = result.referrers;
    tool.json["requests"] = client.request_count();

    if (artifact) {
        nlohmann::ordered_json entry{{"step", "retag"}, {"by", current_actor()}, {"to", to}};
        if (!previous.empty()) entry["previous"] = previous;
        artifact->append_history(entry);
        artifact->save(args.out_path());
    }
    return tool;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_tool(spec, argc, argv, run); }
