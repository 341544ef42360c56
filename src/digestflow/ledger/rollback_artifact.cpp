#include "digestflow/ledger/rollback_artifact.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <string_view>

namespace digestflow::ledger {

Artifact rollback_artifact(const RollbackTarget& target, const std::string& ledger_path, const std::string& environment,
                           int steps) {
    const Entry& entry = target.target.entry;
    ImageInfo image{.repository = entry.repository,
                    .digest = Digest::parse(entry.digest),
                    .media_type = entry.media_type,
                    .size = entry.size,
                    .tag = entry.tag,
                    .platforms = entry.platforms,
                    .verified = true};
    nlohmann::ordered_json build{{"source", "ledger"}, {"ledger", ledger_path}, {"entry", target.target.hash},
                                 {"line", target.target.line}};
    if (!entry.commit.empty()) build["commit"] = entry.commit;
    if (!entry.pipeline.empty()) build["pipeline"] = entry.pipeline;
    if (!entry.captured_at.empty()) build["at"] = entry.captured_at;
    nlohmann::ordered_json step{{"step", "rollback-target"},
                                {"environment", environment},
                                {"from", target.current.entry.digest},
                                {"entry", target.target.hash},
                                {"steps", steps},
                                {"ledger", ledger_path}};
    try {
        return Artifact::create(image, build, step);
    } catch (const Error& error) {
        // Artifact::create speaks to capture-digest ("image-digest.json: ... check --image"); here the image
        // fields come from a ledger line, so the message names that line (keeping only the problem itself).
        std::string why = error.what();
        for (std::string_view cut : {"image-digest.json: cannot create the artifact: "})
            if (why.rfind(cut, 0) == 0) why.erase(0, cut.size());
        if (auto tail = why.rfind(" (check --image"); tail != std::string::npos) why.erase(tail);
        throw_usage("ledger " + quote(ledger_path) + " line " + std::to_string(target.target.line) +
                    ", the rollback target, makes no valid artifact: " + why +
                    "; choose another target with --steps");
    }
}

std::string kubectl_set_image_line(const Entry& target, const std::string& workload, const std::string& container) {
    return "kubectl set image " + (workload.empty() ? std::string("deployment/NAME") : workload) + " " +
           (container.empty() ? std::string("CONTAINER") : container) + "=" + target.repository + "@" + target.digest;
}

}  // namespace digestflow::ledger
