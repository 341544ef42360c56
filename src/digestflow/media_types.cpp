#include "digestflow/media_types.hpp"

#include <array>

namespace digestflow::media_types {

std::string manifest_accept_header() {
    // All four types in one header: distribution 2.8 404s an OCI manifest that was not asked for and replaces
    // a Docker list by its amd64 child when the list type is missing.
    std::string header;
    for (auto type : {oci_index, oci_manifest, docker_list, docker_manifest}) {
        if (!header.empty()) header += ", ";
        header += type;
    }
    return header;
}

bool is_index(std::string_view media_type) { return media_type == oci_index || media_type == docker_list; }

bool is_image_manifest(std::string_view media_type) {
    return media_type == oci_manifest || media_type == docker_manifest;
}

bool is_schema1(std::string_view media_type) {
    return media_type == docker_schema1 || media_type == docker_schema1_signed ||
           media_type == "application/json";  // schema1 served without a type by old registries
}

bool is_known_manifest(std::string_view media_type) { return is_index(media_type) || is_image_manifest(media_type); }

bool is_non_distributable_layer(std::string_view media_type) {
    // The OCI types (.v1.tar, +gzip, +zstd) share one prefix; deprecated in image-spec 1.1 but still served.
    return media_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" ||
           media_type.rfind("application/vnd.oci.image.layer.nondistributable.", 0) == 0;
}

std::string strip_parameters(std::string_view content_type) {
    auto end = content_type.find(';');
    std::string_view type = content_type.substr(0, end);
    auto first = type.find_first_not_of(" \t");
    auto last = type.find_last_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return std::string(type.substr(first, last - first + 1));
}

}  // namespace digestflow::media_types
