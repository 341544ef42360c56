// Manifest and layer media types, and the Accept header that asks for every manifest type.
#pragma once

#include <string>
#include <string_view>

namespace digestflow::media_types {

inline constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view docker_list = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view docker_schema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view docker_schema1_signed =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view oci_config = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view docker_config = "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view docker_foreign_layer =
    "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
inline constexpr std::string_view oci_nondistributable_layer =
    "application/vnd.oci.image.layer.nondistributable.v1.tar";
inline constexpr std::string_view oci_nondistributable_layer_gzip =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
inline constexpr std::string_view oci_nondistributable_layer_zstd =
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

// Every manifest and index type; never schema1 (we refuse it rather than ask for it).
std::string manifest_accept_header();

bool is_index(std::string_view media_type);
bool is_image_manifest(std::string_view media_type);
bool is_schema1(std::string_view media_type);
bool is_known_manifest(std::string_view media_type);  // index or image manifest
// Layers that registries do not distribute (Windows base layers: Docker "foreign" layers and the three OCI
// non-distributable types): clients fetch them from their `urls`, if at all, never from the registry, so
// verification and copies skip them.
bool is_non_distributable(std::string_view media_type);
// Content-Type without parameters ("; charset=...") and surrounding spaces.
std::string strip_parameters(std::string_view content_type);

}  // namespace digestflow::media_types
