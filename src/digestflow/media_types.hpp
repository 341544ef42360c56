// Manifest media types and the Accept header that asks for all of them.
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

// Every manifest and index type; never schema1 (we refuse it rather than ask for it).
std::string manifest_accept_header();

bool is_index(std::string_view media_type);
bool is_image_manifest(std::string_view media_type);
bool is_schema1(std::string_view media_type);
bool is_known_manifest(std::string_view media_type);  // index or image manifest
// Layers a registry does not hold (Windows base layers: Docker "foreign" layers, OCI non-distributable
// layers): clients fetch them from their `urls`, and copies leave them where they are.
bool is_non_distributable_layer(std::string_view media_type);
// Content-Type without parameters ("; charset=...") and surrounding spaces.
std::string strip_parameters(std::string_view content_type);

}  // namespace digestflow::media_types
