// An image reference as written in a file, split without normalising, so a pin keeps the name exactly as the
// author wrote it ("nginx" stays "nginx", not "docker.io/library/nginx").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace digestflow::gitops {

struct WrittenReference {
    std::string name;                  // everything before ":tag" and "@digest"
    std::optional<std::string> tag;    // without ':'
    std::optional<std::string> digest; // "sha256:…" without '@'

    static WrittenReference split(std::string_view text);
    std::string str() const;  // name[:tag][@digest]
    // Whether a written name starts with a registry host ("localhost:5000/app", "ghcr.io/x"), as Docker
    // decides it: a first component with '.' or ':', or "localhost".
    static bool names_registry(std::string_view name);
};

// The normalised repository ("docker.io/library/nginx") a written name stands for, or nullopt when it is not
// a valid reference (a template such as "{{ .Values.image }}" or "${IMAGE}", an empty value).
std::optional<std::string> normalised_repository(std::string_view written_name);

}  // namespace digestflow::gitops
