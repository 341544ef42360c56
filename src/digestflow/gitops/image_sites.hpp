// Where a GitOps file names an image: every image field of the artifact's repository, and nothing else (a
// repository name in a comment, an argument, a label or a build arg is never an image field).
#pragma once

#include "digestflow/gitops/yaml_tree.hpp"

#include <optional>
#include <string>
#include <vector>

namespace digestflow::gitops {

enum class FileKind {
    Kubernetes,     // documents with apiVersion/kind: containers, initContainers, ephemeralContainers at any depth;
                    // Flux HelmRelease values and image overrides, Flux Kustomization and Argo CD Application images
    Compose,        // a top-level services: mapping; services.*.image
    Kustomization,  // kind: Kustomization, or a file named kustomization.yaml/.yml/Kustomization: images[]
    HelmValues,     // anything else: repository/tag/digest blocks and image: strings at any depth
    ArgoCdSource,   // .argocd-source.yaml / .argocd-source-<app>.yaml: kustomize.images strings
};

// Decided from the file name and content. "-" (stdin) is classified by content alone.
FileKind detect_kind(const std::string& path, const YamlFile& file);
const char* kind_name(FileKind kind);  // "kubernetes", "compose", "kustomization", "helm-values", "argocd-source"

enum class SiteKind {
    ImageString,     // a scalar holding a whole reference: containers[].image, services.*.image, Helm image: "r:t"
    KustomizeEntry,  // images[] entry: name / newName / newTag / digest
    HelmBlock,       // a mapping with repository (+ registry, tag, digest)
    ArgoCdImage,     // kustomize.images[] string "[old=]name[:tag][@digest]" (.argocd-source, an Application)
    Unpinnable,      // a value that sets the image but cannot be pinned in place (reason in `rendered`'s site)
};

struct ImageSite {
    SiteKind kind = SiteKind::ImageString;
    std::size_t line = 0;    // 1-based line of the value that names the repository
    std::string where;       // where it sits, for messages: "Deployment/web initContainers[0] (migrate)"
    std::string rendered;    // the image as the deployment will see it: "localhost:5000/app:1.0@sha256:…"
    // ImageString / ArgoCdImage: the scalar; KustomizeEntry / HelmBlock: the mapping; Unpinnable: the value.
    const YamlNode* node = nullptr;
    std::string reason;      // Unpinnable: why, and what to do instead
};

// Every image site of `repository` (normalised "domain/path", as in the artifact) in the file, in file
// order; a node reached twice (an anchor used by several services) is listed once.
std::vector<ImageSite> find_image_sites(const YamlFile& file, FileKind kind, const std::string& repository);

}  // namespace digestflow::gitops
