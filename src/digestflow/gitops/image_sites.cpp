#include "digestflow/gitops/image_sites.hpp"

#include "digestflow/gitops/written_reference.hpp"

#include <algorithm>
#include <cctype>
#include <array>
#include <set>

namespace digestflow::gitops {

namespace {

std::string base_name(const std::string& path) {
    const auto slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

const YamlNode* scalar(const YamlNode* node) { return node && node->is_scalar() ? node : nullptr; }

std::string scalar_or_empty(const YamlNode* node) { return node && node->is_scalar() ? node->value : ""; }

bool names_repository(std::string_view written, const std::string& repository) {
    auto normalised = normalised_repository(WrittenReference::split(written).name);
    return normalised && *normalised == repository;
}

// What docker compose makes of a value with variables: ${VAR:-default} and ${VAR-default} give the default,
// ${VAR}, ${VAR:?error} and $VAR nothing, $$ a dollar. Enough to see which repository an image names.
std::string with_compose_defaults(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '$' || i + 1 == text.size()) {
            out += text[i];
        } else if (text[i + 1] == '$') {
            out += '$';
            ++i;
        } else if (text[i + 1] == '{') {
            const auto close = text.find('}', i);
            if (close == std::string_view::npos) return out;
            const std::string_view inner = text.substr(i + 2, close - i - 2);
            const auto op = inner.find_first_of(":-?+");
            if (op != std::string_view::npos) {
                std::string_view rest = inner.substr(op);
                if (rest.rfind(":-", 0) == 0) out += with_compose_defaults(rest.substr(2));
                else if (rest.rfind("-", 0) == 0) out += with_compose_defaults(rest.substr(1));
            }
            i = close;
        } else {
            std::size_t end = i + 1;
            while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
            i = end - 1;
        }
    }
    return out;
}

// An Argo CD KustomizeImage string: "[old=]name[:tag][@digest]"; the part a deployment sees is after '='.
std::string_view argocd_image_part(std::string_view text) {
    const auto eq = text.find('=');
    return eq == std::string_view::npos ? text : text.substr(eq + 1);
}

class SiteCollector {
public:
    SiteCollector(const std::string& repository) : m_repository(repository) {}

    void add(SiteKind kind, const YamlNode* node, std::size_t line, std::string where, std::string rendered) {
        if (!m_seen.insert(node).second) return;
        m_sites.push_back({kind, line, std::move(where), std::move(rendered), node});
    }
    void add_image_string(const YamlNode* value, std::string where) {
        if (!value || !value->is_scalar()) return;
        // A value with variables ("${REGISTRY}/app:${TAG}") is a site when what it renders to names the
        // repository: it cannot be pinned or checked as written, and is reported, never skipped.
        const bool interpolated = value->value.find('$') != std::string::npos;
        if (names_repository(interpolated ? with_compose_defaults(value->value) : value->value, m_repository))
            add(SiteKind::ImageString, value, value->line, std::move(where), value->value);
    }
    // bitnami's global.imageRegistry: when set, it replaces every image block's registry.
    std::string global_registry;
    void add_unpinnable(const YamlNode* node, std::string where, std::string rendered, std::string reason) {
        if (!m_seen.insert(node).second) return;
        ImageSite site{SiteKind::Unpinnable, node->line, std::move(where), std::move(rendered), node};
        site.reason = std::move(reason);
        m_sites.push_back(std::move(site));
    }
    bool first_visit(const YamlNode* node) { return m_walked.insert(node).second; }
    const std::string& repository() const { return m_repository; }
    std::vector<ImageSite> take() {
        std::stable_sort(m_sites.begin(), m_sites.end(),
                         [](const ImageSite& a, const ImageSite& b) { return a.node->begin < b.node->begin; });
        return std::move(m_sites);
    }

private:
    const std::string& m_repository;
    std::set<const YamlNode*> m_seen;
    std::set<const YamlNode*> m_walked;
    std::vector<ImageSite> m_sites;
};

// Keys whose subtree holds data, not workloads: an `image:` there is a label, an annotation, a ConfigMap value.
bool is_kubernetes_data_key(const YamlNode* key) {
    static const std::array<std::string_view, 6> data{"metadata", "data", "stringData", "binaryData", "env", "status"};
    return key->is_scalar() && std::find(data.begin(), data.end(), key->value) != data.end();
}

void walk_gitops_object(const YamlNode* object, const std::string& kind, const std::string& label, SiteCollector& sites);

// Kubernetes: every containers / initContainers / ephemeralContainers list at any depth (Deployment, CronJob's
// jobTemplate, List items, a custom resource embedding a pod spec), labelled with the enclosing object; and any
// other `image:` string outside data keys (Tekton steps, Argo Workflows templates, Knative), labelled with its path.
void walk_kubernetes(const YamlNode* node, const std::string& owner, const std::string& path, SiteCollector& sites) {
    if (!node || !sites.first_visit(node)) return;
    if (node->is_sequence()) {
        for (std::size_t i = 0; i < node->items.size(); ++i)
            walk_kubernetes(node->items[i], owner, path + "[" + std::to_string(i) + "]", sites);
        return;
    }
    if (!node->is_mapping()) return;
    std::string label = owner;
    std::string here = path;
    if (const YamlNode* kind = scalar(node->find("kind"))) {
        const YamlNode* metadata = node->find("metadata");
        const std::string name = metadata ? scalar_or_empty(metadata->find("name")) : "";
        label = kind->value + (name.empty() ? "" : "/" + name);
        here.clear();
        // Flux image automation objects name repositories to scan or tags to choose, not images that run.
        if (scalar_or_empty(node->find("apiVersion")).rfind("image.toolkit.fluxcd.io/", 0) == 0) return;
        walk_gitops_object(node, kind->value, label, sites);
    }
    static const std::array<std::string_view, 3> lists{"containers", "initContainers", "ephemeralContainers"};
    for (const auto& [key, value] : node->pairs) {
        if (key->is_scalar() && value->is_sequence() &&
            std::find(lists.begin(), lists.end(), key->value) != lists.end()) {
            for (std::size_t i = 0; i < value->items.size(); ++i) {
                const YamlNode* container = value->items[i];
                if (!container->is_mapping()) continue;
                const std::string name = scalar_or_empty(container->find_merged("name"));
                sites.add_image_string(container->find_merged("image"),
                                       label + " " + key->value + "[" + std::to_string(i) + "]" +
                                           (name.empty() ? "" : " (" + name + ")"));
            }
        }
        if (is_kubernetes_data_key(key)) continue;
        const std::string child = (here.empty() ? "" : here + ".") + (key->is_scalar() ? key->value : "?");
        if (key->is_scalar() && key->value == "image" && value->is_scalar())
            sites.add_image_string(value, label + " " + child);
        else if (key->is_scalar() && key->value == "image" && value->is_mapping() && scalar(value->find("reference")))
            sites.add_image_string(value->find("reference"), label + " " + child + ".reference");  // an image volume
        else
            walk_kubernetes(value, label, child, sites);
    }
}

void walk_compose(const YamlNode* root, SiteCollector& sites) {
    const YamlNode* services = root ? root->find("services") : nullptr;
    if (!services || !services->is_mapping()) return;
    for (const auto& [name, service] : services->pairs)
        if (service->is_mapping()) sites.add_image_string(service->find_merged("image"), "services." + name->value);
}

// kustomize's images[] entries (a kustomization, a Flux Kustomization's spec.images, a HelmRelease's
// postRenderers kustomize images): the entry whose newName, else name, is the repository.
void walk_kustomize_images(const YamlNode* images, const std::string& prefix, SiteCollector& sites) {
    if (!images || !images->is_sequence()) return;
    for (std::size_t i = 0; i < images->items.size(); ++i) {
        const YamlNode* entry = images->items[i];
        if (!entry->is_mapping()) continue;
        const YamlNode* name = scalar(entry->find("name"));
        const YamlNode* new_name = scalar(entry->find("newName"));
        const YamlNode* effective = new_name && !new_name->value.empty() ? new_name : name;
        if (!effective || !names_repository(effective->value, sites.repository())) continue;
        std::string rendered = WrittenReference::split(effective->value).name;
        const std::string tag = scalar_or_empty(entry->find("newTag"));
        const std::string digest = scalar_or_empty(entry->find("digest"));
        if (!tag.empty()) rendered += ":" + tag;
        if (!digest.empty()) rendered += "@" + digest;
        sites.add(SiteKind::KustomizeEntry, entry, effective->line,
                  prefix + "images[" + std::to_string(i) + "] (" + (name ? name->value : effective->value) + ")", rendered);
    }
}

void walk_kustomization(const YamlNode* root, SiteCollector& sites) {
    walk_kustomize_images(root ? root->find("images") : nullptr, "", sites);
}

bool is_image_key(const YamlNode* key) {
    if (!key->is_scalar()) return false;
    std::string lower = key->value;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    return lower.size() >= 5 && lower.compare(lower.size() - 5, 5, "image") == 0;
}

// Values that charts copy into labels, annotations, environment variables or arguments: an image named there
// is text, not the image the chart runs.
bool is_helm_data_key(const YamlNode* key) {
    if (!key->is_scalar()) return false;
    std::string lower = key->value;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    auto ends_with = [&](std::string_view suffix) {
        return lower.size() >= suffix.size() && lower.compare(lower.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    static const std::array<std::string_view, 7> exact{"env", "extraenv", "envvars", "extraenvvars", "args", "extraargs", "command"};
    return ends_with("annotations") || ends_with("labels") || std::find(exact.begin(), exact.end(), lower) != exact.end();
}

// What a Helm chart renders from a repository block: bitnami's rule (a digest wins over the tag), else
// repository:tag.
std::string rendered_helm_block(const YamlNode* block, const std::string& global_registry) {
    std::string registry = scalar_or_empty(block->find_merged("registry"));
    const std::string repository = scalar_or_empty(block->find_merged("repository"));
    // bitnami: global.imageRegistry wins over each block's registry; a block without one takes it too unless
    // its repository already names a registry host.
    if (!global_registry.empty() && (block->find_merged("registry") || !WrittenReference::names_registry(repository)))
        registry = global_registry;
    std::string rendered = (registry.empty() ? "" : registry + "/") + repository;
    const std::string digest = scalar_or_empty(block->find_merged("digest"));
    const std::string tag = scalar_or_empty(block->find_merged("tag"));
    if (!digest.empty()) return WrittenReference::split(rendered).name + "@" + digest;
    if (!tag.empty()) return rendered + ":" + tag;
    return rendered;
}

std::string global_image_registry(const YamlNode* root) {
    const YamlNode* global = root && root->is_mapping() ? root->find("global") : nullptr;
    return global ? scalar_or_empty(global->find("imageRegistry")) : "";
}

void walk_helm(const YamlNode* node, const std::string& path, SiteCollector& sites) {
    if (!node || !sites.first_visit(node)) return;
    if (node->is_sequence()) {
        for (std::size_t i = 0; i < node->items.size(); ++i)
            walk_helm(node->items[i], path + "[" + std::to_string(i) + "]", sites);
        return;
    }
    if (!node->is_mapping()) return;
    if (const YamlNode* repository = scalar(node->find_merged("repository"))) {
        const std::string rendered = rendered_helm_block(node, sites.global_registry);
        if (names_repository(rendered, sites.repository())) {
            sites.add(SiteKind::HelmBlock, node, repository->line, path.empty() ? "(top level)" : path, rendered);
            return;
        }
    }
    for (const auto& [key, value] : node->pairs) {
        if (is_helm_data_key(key)) continue;
        const std::string child = (path.empty() ? "" : path + ".") + (key->is_scalar() ? key->value : "?");
        if (value->is_scalar() && is_image_key(key))
            sites.add_image_string(value, child);
        else
            walk_helm(value, child, sites);
    }
}

// Argo CD's kustomize.images strings "[old=]name[:tag][@digest]".
void walk_argocd_images(const YamlNode* images, const std::string& prefix, SiteCollector& sites) {
    if (!images || !images->is_sequence()) return;
    for (std::size_t i = 0; i < images->items.size(); ++i) {
        const YamlNode* image = images->items[i];
        if (!image->is_scalar()) continue;
        const std::string_view part = argocd_image_part(image->value);
        if (names_repository(part, sites.repository()))
            sites.add(SiteKind::ArgoCdImage, image, image->line, prefix + "kustomize.images[" + std::to_string(i) + "]",
                      std::string(part));
    }
}

// An Argo CD Application's source (spec.source, spec.sources[]): kustomize images are pinned; Helm values in a
// valuesObject are read as values; Helm parameters and a values string that set an image are reported.
void walk_argocd_application_source(const YamlNode* source, const std::string& prefix, SiteCollector& sites) {
    if (!source || !source->is_mapping()) return;
    const std::string dot = prefix.empty() ? "" : prefix + ".";
    const YamlNode* kustomize = source->find("kustomize");
    walk_argocd_images(kustomize ? kustomize->find("images") : nullptr, dot, sites);
    const YamlNode* helm = source->find("helm");
    if (!helm || !helm->is_mapping()) return;
    if (const YamlNode* object = helm->find("valuesObject")) walk_helm(object, dot + "helm.valuesObject", sites);
    if (const YamlNode* parameters = helm->find("parameters"); parameters && parameters->is_sequence())
        for (std::size_t i = 0; i < parameters->items.size(); ++i) {
            const YamlNode* parameter = parameters->items[i];
            const std::string name = parameter->is_mapping() ? scalar_or_empty(parameter->find("name")) : "";
            const YamlNode* value = parameter->is_mapping() ? scalar(parameter->find("value")) : nullptr;
            std::string lower = name;
            std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
            if (!value || lower.find("image") == std::string::npos) continue;
            const bool names_it = names_repository(value->value, sites.repository());
            const bool tag_or_digest = lower.ends_with("tag") || lower.ends_with("digest");
            if (names_it || tag_or_digest)
                sites.add_unpinnable(value, dot + "helm.parameters[" + std::to_string(i) + "] (" + name + ")",
                                     name + "=" + value->value,
                                     "an Argo CD Helm parameter sets this image when Argo CD renders; record pin does "
                                     "not rewrite parameters: set the digest there by hand, or move it to valuesObject");
        }
    if (const YamlNode* values = scalar(helm->find("values")); values && values->value.find("image") != std::string::npos)
        sites.add_unpinnable(values, dot + "helm.values", "(a YAML string)",
                             "helm.values is YAML inside a string and sets images: record pin cannot splice into it; move "
                             "it to helm.valuesObject, or pin the values file it came from");
}

// .argocd-source.yaml / .argocd-source-<app>.yaml: the same overrides as an Application's source, at the top.
void walk_argocd_source(const YamlNode* root, SiteCollector& sites) { walk_argocd_application_source(root, "", sites); }

// Objects that carry images outside pod specs: Flux HelmRelease values and post-render images, a Flux
// Kustomization's images, an Argo CD Application's source overrides.
void walk_gitops_object(const YamlNode* object, const std::string& kind, const std::string& label, SiteCollector& sites) {
    const std::string api = scalar_or_empty(object->find("apiVersion"));
    const YamlNode* spec = object->find("spec");
    if (!spec || !spec->is_mapping()) return;
    if (kind == "HelmRelease" && api.rfind("helm.toolkit.fluxcd.io/", 0) == 0) {
        if (const YamlNode* values = spec->find("values")) {
            const std::string saved = sites.global_registry;
            sites.global_registry = global_image_registry(values);
            walk_helm(values, label + " spec.values", sites);
            sites.global_registry = saved;
        }
        if (const YamlNode* renderers = spec->find("postRenderers"); renderers && renderers->is_sequence())
            for (std::size_t i = 0; i < renderers->items.size(); ++i) {
                const YamlNode* kustomize = renderers->items[i]->is_mapping() ? renderers->items[i]->find("kustomize") : nullptr;
                walk_kustomize_images(kustomize && kustomize->is_mapping() ? kustomize->find("images") : nullptr,
                                      label + " spec.postRenderers[" + std::to_string(i) + "].kustomize.", sites);
            }
    } else if (kind == "Kustomization" && api.rfind("kustomize.toolkit.fluxcd.io/", 0) == 0) {
        walk_kustomize_images(spec->find("images"), label + " spec.", sites);
    } else if ((kind == "Application" || kind == "ApplicationSet") && api.rfind("argoproj.io/", 0) == 0) {
        const YamlNode* application = kind == "ApplicationSet" ? spec->find("template") : object;
        const YamlNode* app_spec = application && application->is_mapping() ? application->find("spec") : nullptr;
        if (!app_spec || !app_spec->is_mapping()) return;
        walk_argocd_application_source(app_spec->find("source"), label + " spec.source", sites);
        if (const YamlNode* sources = app_spec->find("sources"); sources && sources->is_sequence())
            for (std::size_t i = 0; i < sources->items.size(); ++i)
                walk_argocd_application_source(sources->items[i], label + " spec.sources[" + std::to_string(i) + "]", sites);
    }
}

// A compose file's top level holds only compose's own keys (and x- extensions), services among them; a Helm
// values file with a `services:` key has others beside it (image, replicaCount, …).
bool is_compose_root(const YamlNode* root) {
    if (!root || !root->is_mapping() || !root->find("services") || !root->find("services")->is_mapping()) return false;
    // A compose image is a string; an image mapping (repository, tag) under services is Helm values.
    for (const auto& [name, service] : root->find("services")->pairs)
        if (service->is_mapping() && service->find("image") && !service->find("image")->is_scalar()) return false;
    static const std::array<std::string_view, 9> top{"version", "name", "services", "networks", "volumes",
                                                     "configs", "secrets", "include", "models"};
    return std::all_of(root->pairs.begin(), root->pairs.end(), [](const auto& pair) {
        const YamlNode* key = pair.first;
        return key->is_scalar() && (key->value.rfind("x-", 0) == 0 || std::find(top.begin(), top.end(), key->value) != top.end());
    });
}

bool has_kubernetes_object(const YamlFile& file) {
    for (const YamlNode* root : file.documents())
        if (root && root->is_mapping() && scalar(root->find("apiVersion")) && scalar(root->find("kind"))) return true;
    return false;
}

}  // namespace

FileKind detect_kind(const std::string& path, const YamlFile& file) {
    const std::string name = base_name(path);
    if (name.rfind(".argocd-source", 0) == 0) return FileKind::ArgoCdSource;
    for (const YamlNode* root : file.documents()) {
        if (!root || !root->is_mapping()) continue;
        const std::string api = scalar_or_empty(root->find("apiVersion"));
        const std::string kind = scalar_or_empty(root->find("kind"));
        // (A Flux Kustomization, kustomize.toolkit.fluxcd.io, is a Kubernetes object.)
        if (api.rfind("kustomize.config.k8s.io/", 0) == 0 || ((kind == "Kustomization" || kind == "Component") && api.empty()))
            return FileKind::Kustomization;
    }
    if (name == "kustomization.yaml" || name == "kustomization.yml" || name == "Kustomization")
        return FileKind::Kustomization;
    if (has_kubernetes_object(file)) return FileKind::Kubernetes;
    for (const YamlNode* root : file.documents())
        if (is_compose_root(root) && name.find("values") == std::string::npos) return FileKind::Compose;
    return FileKind::HelmValues;
}

const char* kind_name(FileKind kind) {
    switch (kind) {
        case FileKind::Kubernetes: return "kubernetes";
        case FileKind::Compose: return "compose";
        case FileKind::Kustomization: return "kustomization";
        case FileKind::HelmValues: return "helm-values";
        case FileKind::ArgoCdSource: return "argocd-source";
    }
    return "?";
}

std::vector<ImageSite> find_image_sites(const YamlFile& file, FileKind kind, const std::string& repository) {
    SiteCollector sites(repository);
    for (const YamlNode* root : file.documents()) {
        switch (kind) {
            case FileKind::Kubernetes: walk_kubernetes(root, "", "", sites); break;
            case FileKind::Compose: walk_compose(root, sites); break;
            case FileKind::Kustomization: walk_kustomization(root, sites); break;
            case FileKind::HelmValues:
                sites.global_registry = global_image_registry(root);
                walk_helm(root, "", sites);
                break;
            case FileKind::ArgoCdSource: walk_argocd_source(root, sites); break;
        }
    }
    return sites.take();
}

}  // namespace digestflow::gitops
