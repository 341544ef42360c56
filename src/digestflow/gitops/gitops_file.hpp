// One GitOps file read for pinning or checking: its exact bytes, its YAML tree, what kind of file it is; and
// Argo CD's override files, which replace the pins of the files beside them at render time.
#pragma once

#include "digestflow/gitops/image_sites.hpp"
#include "digestflow/gitops/yaml_tree.hpp"

#include <string>
#include <vector>

namespace digestflow::gitops {

inline constexpr std::size_t max_gitops_file_bytes = 16 * 1024 * 1024;

struct GitopsFile {
    std::string path;  // as given ("-" is "stdin")
    YamlFile yaml;
    FileKind kind = FileKind::HelmValues;
};

// Reads the bytes unchanged (a byte order mark and CRLF stay) and parses them. "-" reads stdin when
// `allow_stdin` (verify-digest --manifest -, e.g. `kubectl kustomize DIR | verify-digest --manifest -`).
// Throws Error(Usage) naming the file: missing, not a regular file, too large, not UTF-8, not valid YAML.
GitopsFile load_gitops_file(const std::string& path, bool allow_stdin);

// Argo CD merges `.argocd-source.yaml` and `.argocd-source-<app>.yaml` from an application's folder over its
// source when it renders, so a kustomize image or a Helm parameter in one of them wins over a pin in the
// kustomization or values file beside it. One line per override file in `file`'s folder that names the
// repository and is not itself in `given` (the files being pinned), saying what to do.
std::vector<std::string> argocd_overrides(const std::string& file, const std::string& repository,
                                          const std::vector<std::string>& given);

// docker compose merges compose.override.yaml (docker-compose.override.yml, …) over compose.yaml when both sit
// in one folder: one line per such file beside `file` that sets an image of the repository and is not in `given`.
std::vector<std::string> compose_overrides(const std::string& file, const std::string& repository,
                                          const std::vector<std::string>& given);

}  // namespace digestflow::gitops
