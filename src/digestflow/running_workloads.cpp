#include "digestflow/running_workloads.hpp"

#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/reference.hpp"

#include <nlohmann/json.hpp>

#include <set>
#include <stdexcept>

namespace digestflow {

namespace {

using nlohmann::json;

const char* k_formats =
    "read: kubectl get pods -o json (a Pod or a List), docker inspect / docker image inspect, podman inspect / "
    "podman image inspect";

// A field that is there but not what the formats write: the report is not one of them (or was edited).
class FieldError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A string member; absent or null reads as "". Any other type is a FieldError: a number where a name belongs
// must not read as "no name".
std::string text_member(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return "";
    if (!it->is_string()) throw FieldError(std::string("\"") + key + "\" is " + it->type_name() + ", not a string");
    return it->get<std::string>();
}

std::string repository_of(std::string_view reference) {
    auto at = reference.find('@');
    try {
        return Reference::parse(reference.substr(0, at)).repository();
    } catch (const Error&) {
        return "";
    }
}

void add_repository(RunningContainer& container, std::string_view reference) {
    const std::string repository = repository_of(reference);
    if (!repository.empty()) container.repositories.push_back(repository);
}

// "sha256:…" from a digest field: "repo@sha256:…", "docker-pullable://repo@sha256:…", "docker://sha256:…",
// "sha256:…" or 64 bare hex (podman's Image). "" for an empty field; a FieldError naming `field` for anything
// else, so a damaged value is never read as "no digest" or as a digest it only contains.
std::string digest_in(std::string_view value, const std::string& field) {
    if (value.empty()) return "";
    std::string_view text = value;
    if (auto scheme = text.find("://"); scheme != std::string_view::npos) text = text.substr(scheme + 3);
    if (auto at = text.find('@'); at != std::string_view::npos) text = text.substr(at + 1);
    if (text.size() == 64 && Digest::is_valid("sha256:" + std::string(text))) return "sha256:" + std::string(text);
    if (Digest::is_valid(text)) return std::string(text);
    throw FieldError(field + " " + quote(value) + " is not a digest or a repository@digest reference");
}

// kubectl's imageID: "docker-pullable://repo@sha256:M" and "repo@sha256:M" name a manifest (or index);
// "docker://sha256:C" and containerd's bare "sha256:C" are the image ID (config digest).
void add_image_id_field(RunningContainer& container, const std::string& value, const std::string& field) {
    const std::string digest = digest_in(value, field);
    if (digest.empty()) return;
    if (value.find('@') != std::string::npos) {
        container.evidence.push_back({ImageEvidence::Kind::ManifestDigest, digest, field});
        std::string_view reference = value;
        if (auto scheme = reference.find("://"); scheme != std::string_view::npos) reference = reference.substr(scheme + 3);
        add_repository(container, reference);
    } else {
        container.evidence.push_back({ImageEvidence::Kind::ImageId, digest, field});
    }
}

void read_pod(const json& pod, RunningWorkloads& out) {
    const json& metadata = pod.contains("metadata") && pod["metadata"].is_object() ? pod["metadata"] : json::object();
    const std::string pod_name = text_member(metadata, "namespace").empty()
                                     ? text_member(metadata, "name")
                                     : text_member(metadata, "namespace") + "/" + text_member(metadata, "name");
    const json& status = pod.contains("status") && pod["status"].is_object() ? pod["status"] : json::object();
    std::set<std::string> reported;  // container names with a status
    for (const char* list : {"initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"}) {
        auto statuses = status.find(list);
        if (statuses == status.end() || !statuses->is_array()) continue;
        for (std::size_t i = 0; i < statuses->size(); ++i) {
            const json& s = (*statuses)[i];
            if (!s.is_object()) continue;
            RunningContainer container;
            container.container = text_member(s, "name");
            reported.insert(container.container);
            container.name = "pod " + pod_name + " container " + container.container;
            container.image = text_member(s, "image");
            add_repository(container, container.image);
            add_image_id_field(container, text_member(s, "imageID"),
                               std::string("status.") + list + "[" + std::to_string(i) + "].imageID");
            out.containers.push_back(std::move(container));
        }
    }
    // A container of the spec without a status (a Pending pod, one not started yet) runs nothing that can be
    // checked: it is listed, never skipped.
    const json& spec = pod.contains("spec") && pod["spec"].is_object() ? pod["spec"] : json::object();
    for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
        auto containers = spec.find(list);
        if (containers == spec.end() || !containers->is_array()) continue;
        for (const json& c : *containers) {
            if (!c.is_object()) continue;
            RunningContainer container;
            container.container = text_member(c, "name");
            if (reported.count(container.container)) continue;
            container.name = "pod " + pod_name + " container " + container.container + " (no status yet)";
            container.image = text_member(c, "image");
            add_repository(container, container.image);
            out.containers.push_back(std::move(container));
        }
    }
}

void read_inspect_entry(const json& entry, std::size_t index, RunningWorkloads& out, const std::string& origin) {
    if (!entry.is_object()) throw_usage(origin + ": item " + std::to_string(index) + " is not an object (" + k_formats + ")");
    RunningContainer container;
    const std::string id_text = text_member(entry, "Id");
    if (entry.contains("ImageName") || entry.contains("ImageDigest")) {  // podman container inspect
        out.format = "podman-container";
        container.container = text_member(entry, "Name");
        container.name = "container " + container.container;
        container.image = text_member(entry, "ImageName");
        add_repository(container, container.image);
        if (std::string d = digest_in(text_member(entry, "ImageDigest"), "ImageDigest"); !d.empty())
            container.evidence.push_back({ImageEvidence::Kind::ManifestDigest, d, "ImageDigest"});
        if (std::string d = digest_in(text_member(entry, "Image"), "Image"); !d.empty())
            container.evidence.push_back({ImageEvidence::Kind::ImageId, d, "Image"});
    } else if (entry.contains("Config") && entry.contains("State")) {  // docker container inspect
        out.format = "docker-container";
        container.container = text_member(entry, "Name");
        if (!container.container.empty() && container.container.front() == '/') container.container.erase(0, 1);
        container.name = "container " + container.container;
        if (entry["Config"].is_object()) container.image = text_member(entry["Config"], "Image");
        add_repository(container, container.image);
        if (auto d = entry.find("ImageManifestDescriptor"); d != entry.end() && d->is_object())
            if (std::string m = digest_in(text_member(*d, "digest"), "ImageManifestDescriptor.digest"); !m.empty())
                container.evidence.push_back({ImageEvidence::Kind::ManifestDigest, m, "ImageManifestDescriptor.digest"});
        if (std::string i = digest_in(text_member(entry, "Image"), "Image"); !i.empty())
            container.evidence.push_back({ImageEvidence::Kind::ImageId, i, "Image"});
    } else if (entry.contains("RepoDigests") || entry.contains("RepoTags")) {  // docker / podman image inspect
        out.format = entry.contains("Digest") ? "podman-image" : "docker-image";
        const json& tags = entry.contains("RepoTags") && entry["RepoTags"].is_array() ? entry["RepoTags"] : json::array();
        container.image = !tags.empty() && tags[0].is_string() ? tags[0].get<std::string>() : id_text;
        container.name = "image " + container.image;
        for (const auto& tag : tags)
            if (tag.is_string()) add_repository(container, tag.get<std::string>());
        if (auto digests = entry.find("RepoDigests"); digests != entry.end() && digests->is_array())
            for (std::size_t i = 0; i < digests->size(); ++i)
                if ((*digests)[i].is_string())
                    add_image_id_field(container, (*digests)[i].get<std::string>(), "RepoDigests[" + std::to_string(i) + "]");
        if (std::string d = digest_in(text_member(entry, "Digest"), "Digest"); !d.empty())
            container.evidence.push_back({ImageEvidence::Kind::ManifestDigest, d, "Digest"});
        // The Id is the config digest in docker's classic store and podman, the manifest digest in docker's
        // containerd store: it is compared with both, and the verdict says which it matched.
        if (std::string d = digest_in(id_text, "Id"); !d.empty())
            container.evidence.push_back({ImageEvidence::Kind::ImageId, d, "Id"});
    } else {
        throw_usage(origin + ": item " + std::to_string(index) + " is neither a container nor an image (" + k_formats + ")");
    }
    out.containers.push_back(std::move(container));
}

void read_document(const json& document, RunningWorkloads& out, const std::string& origin) {
    if (document.is_object() && text_member(document, "kind") == "List" && document.contains("items") &&
        document["items"].is_array()) {
        out.format = "kubectl";
        for (const json& item : document["items"])
            if (item.is_object() && text_member(item, "kind") == "Pod") read_pod(item, out);
    } else if (document.is_object() && text_member(document, "kind") == "Pod") {
        out.format = "kubectl";
        read_pod(document, out);
    } else if (document.is_array()) {
        for (std::size_t i = 0; i < document.size(); ++i) read_inspect_entry(document[i], i, out, origin);
    } else {
        throw_usage(origin + ": JSON of an unknown shape; " + k_formats);
    }
}

}  // namespace

RunningWorkloads parse_running_workloads(std::string_view text, const std::string& origin) {
    if (text.size() > max_workloads_bytes) throw_usage(origin + ": larger than 64 MiB; this is not a workload report");
    const json document = parse_json_input_unordered(text, {origin, std::string(" (") + k_formats + ")", false});
    RunningWorkloads out;
    try {
        read_document(document, out, origin);
    } catch (const FieldError& e) {
        throw_usage(origin + ": " + e.what() + " (" + k_formats + ")");
    }
    // An empty kubectl List (a selector that matched nothing) is a well-formed answer: the caller says no.
    if (out.containers.empty() && out.format != "kubectl") throw_usage(origin + ": lists no container or image; " + k_formats);
    // Names and images are shown in messages: a control byte (a terminal escape in a report) becomes '?'.
    for (auto& container : out.containers)
        for (std::string* shown : {&container.name, &container.container, &container.image})
            for (char& ch : *shown)
                if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
    return out;
}

}  // namespace digestflow
