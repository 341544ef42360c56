#include "digestflow/ci/outputs.hpp"

namespace digestflow::ci {

Outputs image_outputs(const std::string& repository, const std::string& digest) {
    return {{"digest", "IMAGE_DIGEST", digest},
            {"repository", "IMAGE_REPOSITORY", repository},
            {"reference", "IMAGE_REFERENCE", repository + "@" + digest}};
}

}  // namespace digestflow::ci
