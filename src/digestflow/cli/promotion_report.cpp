#include "digestflow/cli/promotion_report.hpp"

#include "digestflow/ci/markdown.hpp"

#include <algorithm>

namespace digestflow::cli {

nlohmann::ordered_json describe_promotion(const operations::PromoteResult& result) {
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

std::string promotion_text(const operations::PromoteResult& result, const Reference& source, int requests,
                           bool referrers_asked) {
    std::string text = "promoted " + source.str() + " (" + result.media_type + ")\n";
    for (const auto& d : result.destinations)
        text += "  " + d.action + std::string(10 - std::min<std::size_t>(d.action.size(), 9), ' ') +
                d.destination.str() + (d.previous ? " (was " + d.previous->str() + ")" : "") + "\n";
    const auto& b = result.blobs;
    text += "blobs: " + std::to_string(b.present) + " present, " + std::to_string(b.mounted) + " mounted, " +
            std::to_string(b.uploaded) + " uploaded (" + std::to_string(b.bytes_uploaded) + " bytes); " +
            std::to_string(requests) + " HTTP requests";
    if (referrers_asked) text += "\nreferrers copied: " + std::to_string(result.referrers);
    if (result.referrers_skipped > 0)
        text += " (" + std::to_string(result.referrers_skipped) + " listed with another subject: not copied)";
    return text;
}

std::string destination_names(const operations::PromoteResult& result, bool written_only) {
    std::string names;
    for (const auto& d : result.destinations)
        if (!written_only || d.written)
            names += (names.empty() ? "" : ", ") + d.destination.str() + " (" + d.action + ")";
    return names;
}

void add_ci_report(ToolResult& tool, const operations::PromoteResult& result, const Reference& source) {
    std::string promoted;
    std::string rows;
    for (const auto& d : result.destinations) {
        promoted += (promoted.empty() ? "" : ",") + d.destination.str();
        rows += "| `" + ci::markdown_cell(d.destination.str()) + "` | " + ci::markdown_cell(d.action) + " |\n";
    }
    const std::string repository = source.repository();
    tool.outputs = ci::image_outputs(repository, result.digest.str());
    tool.outputs.push_back({"promoted", "PROMOTED_REFERENCES", promoted});
    tool.summary = "### retag\n\n`" + repository + "@" + result.digest.str() +
                   "`\n\n| destination | action |\n|---|---|\n" + rows + "\n";
}

std::string written_note(const std::optional<operations::PromoteResult>& partial) {
    std::string names = partial ? destination_names(*partial, true) : "";
    return names.empty() ? "" : "; written before the failure: " + names;
}

void add_rate_limit(ToolResult& tool, const registry::RegistryClient& client) {
    auto limit = client.rate_limit();
    if (limit.headers.empty() && limit.throttled == 0) return;
    tool.json["rateLimit"] = {{"throttled", limit.throttled}, {"headers", limit.headers}};
    tool.text += "\nrate limited: " + std::to_string(limit.throttled) + " time(s) waited out";
}

}  // namespace digestflow::cli
