#include "digestflow/ledger/rollback_artifact.hpp"

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
    return Artifact::create(image, build, step);
}

std::string kubectl_set_image_line(const Entry& target, const std::string& workload, const std::string& container) {
    return "kubectl set image " + (workload.empty() ? std::string("deployment/NAME") : workload) + " " +
           (container.empty() ? std::string("CONTAINER") : container) + "=" + target.repository + "@" + target.digest;
}

}  // namespace digestflow::ledger
