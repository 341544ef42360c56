#include "digestflow/gitops/manifest_check.hpp"

#include "digestflow/gitops/written_reference.hpp"
#include "digestflow/quote.hpp"

#include <cctype>

namespace digestflow::gitops {


std::vector<PinCheck> check_pins(const GitopsFile& file, const std::string& repository, const Digest& digest,
                                 bool allow_absent) {
    std::vector<PinCheck> checks;
    for (const ImageSite& site : find_image_sites(file.yaml, file.kind, repository)) {
        PinCheck check{file.path, site.line, site.where, site.rendered, false, ""};
        const std::string place = printable(file.path) + ":" + std::to_string(site.line) + " " + printable(site.where) + ": ";
        const WrittenReference ref = WrittenReference::split(site.rendered);
        if (site.kind == SiteKind::Unpinnable) {
            check.detail = place + printable(site.rendered) + ": " + site.reason;
        } else if (site.rendered.find('$') != std::string::npos) {
            check.detail = place + quote(site.rendered) + " uses variables: what runs is decided where it is rendered; "
                           "write the reference literally, then run record pin";
        } else if (!site.rendered.empty() && (std::isspace(static_cast<unsigned char>(site.rendered.front())) ||
                                              std::isspace(static_cast<unsigned char>(site.rendered.back())))) {
            check.detail = place + quote(site.rendered) + " starts or ends with whitespace or a line break (a block "
                           "scalar | or >?): no runtime accepts it; trim it, then run record pin";
        } else if (!ref.digest) {
            check.detail = place + printable(site.rendered) + " is not pinned (no @digest, a tag at most): run record pin";
        } else if (*ref.digest != digest.str()) {
            check.detail = place + "pinned to " + printable(*ref.digest) + ", not " + digest.str();
        } else {
            check.pinned = true;
            check.detail = place + "pinned to " + digest.str();
        }
        checks.push_back(std::move(check));
    }
    if (checks.empty())
        checks.push_back({file.path, 0, "", "", allow_absent,
                          printable(file.path) + ": no image of " + repository + " in this " + kind_name(file.kind) + " file" +
                              (allow_absent ? " (allowed by --allow-absent)" : " (name the right file, or pass --allow-absent)")});
    return checks;
}

}  // namespace digestflow::gitops
