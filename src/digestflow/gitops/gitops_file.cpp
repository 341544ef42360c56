#include "digestflow/gitops/gitops_file.hpp"

#include "digestflow/error.hpp"
#include "digestflow/gitops/written_reference.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace digestflow::gitops {

namespace {

std::string folder_of(const std::string& file) {
    const auto slash = file.find_last_of('/');
    return slash == std::string::npos ? "." : slash == 0 ? "/" : file.substr(0, slash);
}

bool same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    return std::filesystem::equivalent(a, b, ec);
}

// Helm parameters in an override file that set an image of the repository (name mentions "image", value names
// the repository or its last path component, as charts split repository and tag).
bool helm_parameters_name(const YamlNode* root, const std::string& repository) {
    const YamlNode* helm = root ? root->find("helm") : nullptr;
    const YamlNode* parameters = helm ? helm->find("parameters") : nullptr;
    if (!parameters || !parameters->is_sequence()) return false;
    const std::string path = repository.substr(repository.find('/') + 1);
    for (const YamlNode* parameter : parameters->items) {
        if (!parameter->is_mapping()) continue;
        const YamlNode* name = parameter->find("name");
        const YamlNode* value = parameter->find("value");
        if (!name || !name->is_scalar() || !value || !value->is_scalar()) continue;
        std::string lower = name->value;
        std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
        if (lower.find("image") == std::string::npos) continue;
        const auto normalised = normalised_repository(WrittenReference::split(value->value).name);
        if ((normalised && *normalised == repository) || value->value.find(path) != std::string::npos) return true;
        // image.tag / image.digest name no repository, but override whichever image the chart builds from them.
        if (lower.ends_with("tag") || lower.ends_with("digest")) return true;
    }
    return false;
}

// Helm values in an override file (helm.valuesObject, or helm.values as a YAML string) that set an image.
bool helm_values_set_images(const YamlNode* root) {
    const YamlNode* helm = root ? root->find("helm") : nullptr;
    if (!helm || !helm->is_mapping()) return false;
    if (const YamlNode* values = helm->find("values"); values && values->is_scalar() && values->value.find("image") != std::string::npos)
        return true;
    const YamlNode* object = helm->find("valuesObject");
    std::vector<const YamlNode*> pending{object};
    std::size_t walked = 0;
    while (!pending.empty() && ++walked < 100000) {
        const YamlNode* node = pending.back();
        pending.pop_back();
        if (!node) continue;
        for (const auto& [key, value] : node->pairs) {
            if (key->is_scalar() && key->value.find("image") != std::string::npos) return true;
            pending.push_back(value);
        }
        for (const YamlNode* item : node->items) pending.push_back(item);
    }
    return false;
}

}  // namespace

GitopsFile load_gitops_file(const std::string& path, bool allow_stdin) {
    InputFileOptions options;
    options.max_bytes = max_gitops_file_bytes;
    options.allow_stdin = allow_stdin;
    options.decode = false;
    std::string bytes = read_text_file(path, "", options);
    const std::string origin = path == "-" && allow_stdin ? "stdin" : path;
    // Nothing on a pipe is a failed producer (`kubectl kustomize DIR | …` with a bad DIR), never "no image".
    if (origin == "stdin" && bytes.find_first_not_of(" \t\r\n") == std::string::npos)
        throw_usage("stdin is empty: did the command before the pipe fail? (verify-digest --manifest - reads YAML from it)");
    if (bytes.size() >= 2 && ((bytes[0] == '\xFF' && bytes[1] == '\xFE') || (bytes[0] == '\xFE' && bytes[1] == '\xFF')))
        throw_usage(origin + ": is UTF-16 text; save it as UTF-8 (GitOps tools and Git diffs expect UTF-8)");
    YamlFile yaml = YamlFile::parse(std::move(bytes), origin);
    const FileKind kind = detect_kind(origin, yaml);
    // JSON is YAML too, but a JSON file that is not a Kubernetes object is no values file: most likely an
    // artifact or a report named by mistake, whose "digest" fields must never be rewritten.
    const auto first = yaml.text().find_first_not_of(" \t\r\n\xEF\xBB\xBF");
    if (kind == FileKind::HelmValues && first != std::string::npos && (yaml.text()[first] == '{' || yaml.text()[first] == '['))
        throw_usage(quote(origin) + " is JSON and not a Kubernetes object (an artifact or a report?): name the Kubernetes, "
                    "compose, kustomization or Helm values files");
    return GitopsFile{origin, std::move(yaml), kind};
}

std::vector<std::string> argocd_overrides(const std::string& file, const std::string& repository,
                                          const std::vector<std::string>& given) {
    std::vector<std::string> problems;
    const std::string folder = folder_of(file);
    std::error_code ec;
    std::filesystem::directory_iterator it(folder, ec);
    if (ec) return problems;
    std::vector<std::string> candidates;
    for (const auto& entry : it) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(".argocd-source", 0) != 0) continue;
        if (!(name.ends_with(".yaml") || name.ends_with(".yml"))) continue;
        candidates.push_back((folder == "." ? "" : folder + "/") + name);
    }
    std::sort(candidates.begin(), candidates.end());
    for (const auto& candidate : candidates) {
        if (std::any_of(given.begin(), given.end(), [&](const std::string& g) { return same_file(g, candidate); }))
            continue;
        GitopsFile override_file = load_gitops_file(candidate, false);
        const bool images = !find_image_sites(override_file.yaml, FileKind::ArgoCdSource, repository).empty();
        bool parameters = false;
        for (const YamlNode* root : override_file.yaml.documents())
            parameters = parameters || helm_parameters_name(root, repository) || helm_values_set_images(root);
        if (images)
            problems.push_back(quote(candidate) + " sets kustomize images for " + repository +
                               " and Argo CD applies it over " + quote(file) +
                               " when it renders: pin it too (add it to the files) or remove that entry");
        else if (parameters)
            problems.push_back(quote(candidate) + " sets Helm image parameters or values for " + repository +
                               " and Argo CD applies them over " + quote(file) +
                               " when it renders: remove those parameters (or set the digest there by hand)");
    }
    return problems;
}

std::vector<std::string> compose_overrides(const std::string& file, const std::string& repository,
                                          const std::vector<std::string>& given) {
    std::vector<std::string> problems;
    const std::string name = file.substr(file.find_last_of('/') + 1);
    if (name != "compose.yaml" && name != "compose.yml" && name != "docker-compose.yaml" && name != "docker-compose.yml")
        return problems;
    const std::string folder = folder_of(file);
    const std::string stem = name.substr(0, name.find('.'));
    for (const char* extension : {".override.yaml", ".override.yml"}) {
        const std::string candidate = (folder == "." ? "" : folder + "/") + stem + extension;
        std::error_code ec;
        if (!std::filesystem::is_regular_file(candidate, ec)) continue;
        if (std::any_of(given.begin(), given.end(), [&](const std::string& g) { return same_file(g, candidate); }))
            continue;
        GitopsFile override_file = load_gitops_file(candidate, false);
        if (!find_image_sites(override_file.yaml, FileKind::Compose, repository).empty())
            problems.push_back(quote(candidate) + " sets an image of " + repository + " and docker compose merges it over " +
                               quote(file) + ": pin it too (add it to the files) or remove that image");
    }
    return problems;
}

}  // namespace digestflow::gitops
