#include "digestflow/operations/promote_list.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/registry/request_counter.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>

namespace digestflow::operations {
namespace {

// A string or an array of strings.
std::vector<std::string> strings_of(const nlohmann::json& line, const char* key, const std::string& where) {
    if (!line.contains(key)) return {};
    const auto& value = line[key];
    if (value.is_string()) return {value.get<std::string>()};
    std::vector<std::string> out;
    if (value.is_array())
        for (const auto& item : value)
            if (item.is_string()) out.push_back(item.get<std::string>());
    if (!value.is_array() || out.size() != value.size())
        throw_usage(where + ": \"" + key + "\" must be a string or an array of strings");
    return out;
}

bool flag_of(const nlohmann::json& line, const char* key, const std::string& where) {
    if (!line.contains(key)) return false;
    if (!line[key].is_boolean()) throw_usage(where + ": \"" + key + "\" must be true or false");
    return line[key].get<bool>();
}

// The history entry of one item's promotion, in its artifact (if it has one).
void record_item_promotion(const ListItem& item, const PromoteResult& result) {
    if (!item.artifact_path) return;
    Artifact artifact = Artifact::load(*item.artifact_path);
    if (record_promotion(artifact, result)) artifact.save(*item.artifact_path);
}

}  // namespace

std::vector<ListItem> parse_promotion_list(const std::string& text, const std::string& origin) {
    std::vector<ListItem> items;
    std::set<std::string> artifacts;
    std::istringstream in(text);
    std::string raw;
    for (int number = 1; std::getline(in, raw); ++number) {
        auto first = raw.find_first_not_of(" \t\r");
        if (first == std::string::npos || raw[first] == '#') continue;
        std::string where = origin + ":" + std::to_string(number);
        const std::string fix = " (one JSON object per line: {\"artifact\": PATH, \"tags\": [...]})";
        auto line = parse_json_input_unordered(raw, JsonInput{where, fix, false});
        if (!line.is_object()) throw_usage(where + ": not a JSON object" + fix);
        for (const auto& [key, value] : line.items()) {
            static const std::set<std::string> known{"artifact", "source", "tags", "tag", "to", "allowMove", "referrers"};
            if (!known.count(key)) throw_usage(where + ": unknown key " + quote(key));
        }
        ListItem item;
        item.line = number;
        bool has_artifact = line.contains("artifact"), has_source = line.contains("source");
        if (has_artifact == has_source) throw_usage(where + ": give exactly one of \"artifact\" and \"source\"");
        try {
            if (has_artifact) {
                if (!line["artifact"].is_string()) throw_usage("\"artifact\" must be a path");
                item.artifact_path = line["artifact"].get<std::string>();
                // Artifact::load reads "-" from stdin: the promotion would run and its history entry be lost
                // (stdin is spent by then) or printed among the result lines.
                if (*item.artifact_path == "-")
                    throw_usage("\"artifact\": \"-\" is not a file: a list item's artifact is read and rewritten in "
                                "place, never on standard input (name the artifact file)");
                // Two items rewriting one artifact would race: one item per artifact.
                std::error_code ignored;
                auto canonical = std::filesystem::weakly_canonical(*item.artifact_path, ignored).string();
                if (!artifacts.insert(canonical.empty() ? *item.artifact_path : canonical).second)
                    throw_usage("artifact " + *item.artifact_path + " is named by an earlier line too");
                auto image = Artifact::load(*item.artifact_path).image();
                item.request.source = Reference::parse(image.repository).with_digest(image.digest);
            } else {
                if (!line["source"].is_string()) throw_usage("\"source\" must be REPOSITORY@DIGEST");
                item.request.source = Reference::parse(line["source"].get<std::string>());
                if (!item.request.source.digest)
                    throw_usage("\"source\" must be REPOSITORY@DIGEST: a tag is never resolved");
            }
            auto tags = strings_of(line, "tags", where);
            auto more = strings_of(line, "tag", where);
            tags.insert(tags.end(), more.begin(), more.end());
            item.request.destinations = promotion_destinations(item.request.source, tags, strings_of(line, "to", where));
            item.request.allow_move = flag_of(line, "allowMove", where);
            item.request.referrers = flag_of(line, "referrers", where);
        } catch (const Error& e) {
            std::string message = e.what();
            if (message.rfind(where, 0) == 0) throw;
            throw Error(e.kind(), where + ": " + message);
        }
        items.push_back(std::move(item));
    }
    if (items.empty()) throw_usage(origin + ": no promotions listed");
    check_distinct_destinations(items, origin);
    return items;
}

void check_distinct_destinations(const std::vector<ListItem>& items, const std::string& origin) {
    std::map<std::string, int> first_line;  // normalised destination tag -> the line that names it first
    for (const auto& item : items) {
        std::set<std::string> on_this_line;  // one line naming a tag twice writes the same digest twice: harmless
        for (const auto& destination : item.request.destinations) {
            if (!destination.tag || !on_this_line.insert(destination.str()).second) continue;
            auto [earlier, inserted] = first_line.emplace(destination.str(), item.line);
            if (!inserted)
                throw_usage(origin + ":" + std::to_string(item.line) + ": destination " + quote(destination.str()) +
                            " is also named on " + origin + ":" + std::to_string(earlier->second) +
                            "; two promotions of one tag would race: name each destination on one line only");
        }
    }
}

std::vector<ItemOutcome> promote_all(registry::RegistryClient& client, const std::vector<ListItem>& items, int jobs,
                                     const ProgressFn& progress) {
    std::vector<ItemOutcome> outcomes(items.size());
    // Every item's pushes are known before the first token is asked for: a destination repository several
    // items write to gets one token covering all of their mount sources.
    for (const auto& item : items) client.expect_push(item.request.destinations, item.request.source);
    std::atomic<std::size_t> next{0};
    BlobPlacements placements;  // a blob uploaded for one item is mounted by the next
    DestinationLocks locks;      // one item at a time per destination name, from guard to confirmation
    ManifestCache manifests;     // a source named by many items is fetched once
    auto work = [&] {
        for (std::size_t i = next++; i < items.size(); i = next++) {
            registry::RequestScope requests;
            ItemOutcome& outcome = outcomes[i];
            try {
                outcome.result = promote(client, items[i].request, progress, &placements, &locks, &manifests);
                record_item_promotion(items[i], *outcome.result);
            } catch (const PromoteFailure& e) {
                // What was written is recorded all the same: a moved tag's previous digest is the way back.
                outcome.result = e.partial();
                outcome.failure = e.kind();
                outcome.error = e.what();
                try {
                    record_item_promotion(items[i], e.partial());
                } catch (const Error& saving) {
                    outcome.error += std::string("; the artifact's history was not saved either: ") + saving.what();
                }
            } catch (const Error& e) {
                outcome.failure = e.kind();
                outcome.error = e.what();
            } catch (const std::exception& e) {
                outcome.failure = ErrorKind::Registry;
                outcome.error = std::string("unexpected failure: ") + e.what();
            }
            outcome.requests = requests.count();
        }
    };
    std::vector<std::thread> workers;
    int count = std::max(1, std::min<int>(jobs, static_cast<int>(items.size())));
    for (int w = 1; w < count; ++w) workers.emplace_back(work);
    work();
    for (auto& worker : workers) worker.join();
    return outcomes;
}

}  // namespace digestflow::operations
