#include "digestflow/gitops/pin_plan.hpp"

#include "digestflow/gitops/written_reference.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace digestflow::gitops {

namespace {

bool is_null_scalar(const YamlNode* node) {
    return node->style == ScalarStyle::Plain &&
           (node->value.empty() || node->value == "~" || node->value == "null" || node->value == "Null" ||
            node->value == "NULL");
}

std::string strip_trailing_breaks(std::string value) {
    while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
    return value;
}

// The splice that gives a scalar a new value while keeping its style: a plain scalar stays plain, quotes stay,
// a block scalar (`image: >-`) keeps its indicator and indentation. nullopt with `reason` when the bytes are
// not the value verbatim (escapes, a plain scalar folded over lines): such a value is refused, never guessed.
std::optional<Splice> rewrite_scalar(const std::string& text, const YamlNode* node, const std::string& value,
                                     std::string& reason) {
    if (node->aliases > 0) {
        reason = "the value is the anchor &" + node->anchor + " (line " + std::to_string(node->line) + "), also used through *" +
                 node->anchor + " elsewhere: pinning it would change every use; write the reference at the image field "
                 "itself, then pin again";
        return std::nullopt;
    }
    if (!node->tag.empty() && node->tag != "tag:yaml.org,2002:str" && node->tag != "!") {
        reason = "the value carries the YAML tag " + node->tag + ": an image is a plain string; remove the tag, then pin again";
        return std::nullopt;
    }
    const std::string_view span(text.data() + node->begin, node->end - node->begin);
    switch (node->style) {
        case ScalarStyle::Plain:
            if (is_null_scalar(node) && span.empty()) {
                const bool after_colon = node->begin > 0 && text[node->begin - 1] == ':';
                return Splice{node->begin, node->end, (after_colon ? " " : "") + value};
            }
            if (span == node->value) return Splice{node->begin, node->end, value};
            break;
        case ScalarStyle::SingleQuoted:
        case ScalarStyle::DoubleQuoted:
            if (span.size() >= 2 && span.substr(1, span.size() - 2) == node->value)
                return Splice{node->begin + 1, node->end - 1, value};
            break;
        case ScalarStyle::Literal:
        case ScalarStyle::Folded: {
            const std::string content = strip_trailing_breaks(node->value);
            if (content != node->value) {
                reason = "the block scalar (| or >) keeps a line break at the end of the value, and no runtime accepts "
                         "one in an image reference: write |- or >- (or the value on one line), then pin again";
                return std::nullopt;
            }
            const auto first_break = span.find('\n');
            const auto at = first_break == std::string_view::npos ? std::string_view::npos : span.find(content, first_break);
            if (!content.empty() && at != std::string_view::npos && span.find(content, at + 1) == std::string_view::npos &&
                content.find_first_of(" \n") == std::string::npos)
                return Splice{node->begin + at, node->begin + at + content.size(), value};
            break;
        }
    }
    reason = "the value is written with escapes or over several lines; write it on one line as plain text or in "
             "quotes, then pin again";
    return std::nullopt;
}

// The offset where the line holding `offset` starts.
std::size_t line_start(const std::string& text, std::size_t offset) {
    if (offset == 0) return 0;
    const auto previous_break = text.rfind('\n', offset - 1);
    return previous_break == std::string::npos ? 0 : previous_break + 1;
}

// The offset just after the line break ending the line that holds `offset` (the text's size on the last line).
std::size_t line_end(const std::string& text, std::size_t offset) {
    const auto stop = text.find('\n', offset);
    return stop == std::string::npos ? text.size() : stop + 1;
}

bool only_blanks(const std::string& text, std::size_t from, std::size_t to) {
    return std::all_of(text.begin() + static_cast<std::ptrdiff_t>(from), text.begin() + static_cast<std::ptrdiff_t>(to),
                       [](char c) { return c == ' ' || c == '\t'; });
}

class SitePlanner {
public:
    SitePlanner(const YamlFile& file, const PinOptions& options) : m_text(file.text()), m_options(options) {}

    SitePin plan(const ImageSite& site) {
        SitePin pin;
        pin.site = site;
        pin.before = site.rendered;
        if (site.kind == SiteKind::Unpinnable) {
            refuse(pin, site.reason);
            return pin;
        }
        if (!site.rendered.empty() && (std::isspace(static_cast<unsigned char>(site.rendered.front())) ||
                                       std::isspace(static_cast<unsigned char>(site.rendered.back())))) {
            refuse(pin, "the value starts or ends with whitespace or a line break, which no runtime accepts in an image "
                        "reference (Kubernetes refuses it): trim it (block scalars: |- or >-), then pin again");
            return pin;
        }
        if (site.rendered.find('$') != std::string::npos) {
            refuse(pin, "the value uses variables ($…), so what runs is decided where it is rendered (docker compose "
                        "reads the environment): write the reference literally, then pin again");
            return pin;
        }
        const WrittenReference current = WrittenReference::split(site.rendered);
        if (current.digest && *current.digest == m_options.digest.str()) {
            pin.outcome = PinOutcome::AlreadyPinned;
            pin.after = pin.before;
            return pin;
        }
        if (current.digest) {
            pin.outcome = PinOutcome::Moved;
            if (Digest::is_valid(*current.digest)) pin.previous = Digest::parse(*current.digest);
        }
        switch (site.kind) {
            case SiteKind::ImageString:
            case SiteKind::ArgoCdImage: plan_image_string(pin); break;
            case SiteKind::KustomizeEntry: plan_kustomize(pin); break;
            case SiteKind::HelmBlock: plan_helm(pin); break;
            case SiteKind::Unpinnable: break;
        }
        if (pin.outcome == PinOutcome::Refused) pin.splices.clear();
        return pin;
    }

private:
    std::string pinned(const WrittenReference& ref) const {
        WrittenReference out{ref.name, m_options.keep_tag ? ref.tag : std::nullopt, m_options.digest.str()};
        return out.str();
    }
    void refuse(SitePin& pin, std::string reason) {
        pin.outcome = PinOutcome::Refused;
        pin.reason = std::move(reason);
    }
    bool set_scalar(SitePin& pin, const YamlNode* node, const std::string& value) {
        std::string reason;
        auto splice = rewrite_scalar(m_text, node, value, reason);
        if (!splice) {
            refuse(pin, reason);
            return false;
        }
        pin.splices.push_back(std::move(*splice));
        return true;
    }

    void plan_image_string(SitePin& pin) {
        const YamlNode* node = pin.site.node;
        std::string prefix;
        if (pin.site.kind == SiteKind::ArgoCdImage)
            if (auto eq = node->value.find('='); eq != std::string::npos) prefix = node->value.substr(0, eq + 1);
        const std::string value = prefix + pinned(WrittenReference::split(pin.site.rendered));
        pin.after = pin.site.rendered.empty() ? value : value.substr(prefix.size());
        set_scalar(pin, node, value);
    }

    // kustomize renders name:newTag@digest when both are set, so without --keep-tag the newTag goes: the newTag
    // pair becomes the digest pair in place (same line, same position), or its line is removed when the entry
    // already has a digest.
    void plan_kustomize(SitePin& pin) {
        const YamlNode* entry = pin.site.node;
        const YamlNode* digest = entry->find("digest");
        const YamlNode* tag_key = entry->find_key("newTag");
        const YamlNode* tag = entry->find("newTag");
        const std::string value = m_options.digest.str();
        WrittenReference after = WrittenReference::split(pin.site.rendered);
        after.digest = value;
        if (!m_options.keep_tag) after.tag.reset();
        pin.after = after.str();

        if (digest && digest->is_scalar()) {
            if (!set_scalar(pin, digest, value)) return;
            if (tag && !m_options.keep_tag) remove_pair(pin, entry, tag_key, tag);
            return;
        }
        if (tag && tag->is_scalar() && !m_options.keep_tag) {
            pin.splices.push_back({tag_key->begin, tag_key->end, "digest"});
            set_scalar(pin, tag, value);
            return;
        }
        insert_pair(pin, entry, "digest", value);
    }

    void remove_pair(SitePin& pin, const YamlNode* entry, const YamlNode* key, const YamlNode* value) {
        if (entry->flow) {
            refuse(pin, "the images entry is a {…} flow mapping with both newTag and digest; remove newTag by hand");
            return;
        }
        const std::size_t start = line_start(m_text, key->begin);
        const std::size_t end = line_end(m_text, value->end > value->begin ? value->end - 1 : value->end);
        if (!only_blanks(m_text, start, key->begin)) {
            refuse(pin, "newTag shares its line with another key (\"- newTag: …\"); remove newTag by hand");
            return;
        }
        pin.splices.push_back({start, end, ""});
    }

    void insert_pair(SitePin& pin, const YamlNode* entry, const std::string& key, const std::string& value) {
        if (entry->pairs.empty()) {
            refuse(pin, "the images entry is empty");
            return;
        }
        if (entry->flow) {
            // "{name: app}" -> "{name: app, digest: sha256:…}": just before the closing brace.
            std::size_t close = entry->end;
            while (close > entry->begin && m_text[close - 1] != '}') --close;
            if (close == entry->begin) {
                refuse(pin, "cannot find the end of the {…} images entry; add the digest by hand");
                return;
            }
            std::size_t insert_at = close - 1;
            while (insert_at > entry->begin && (m_text[insert_at - 1] == ' ')) --insert_at;
            pin.splices.push_back({insert_at, insert_at, ", " + key + ": " + value});
            return;
        }
        // A block entry: a new line after the last pair's line, indented like the entry's first key, with the
        // file's own line ending.
        const YamlNode* first_key = entry->pairs.front().first;
        const std::size_t column = first_key->begin - line_start(m_text, first_key->begin);
        const YamlNode* last_value = entry->pairs.back().second;
        const std::size_t last = last_value->end > last_value->begin ? last_value->end - 1 : last_value->begin;
        std::size_t after_last_line = line_end(m_text, std::max(last, entry->pairs.back().first->begin));
        // A block scalar's span already ends past its line break.
        if (last_value->end > 0 && m_text[last_value->end - 1] == '\n') after_last_line = last_value->end;
        const bool crlf = after_last_line >= 2 && m_text.compare(after_last_line - 2, 2, "\r\n") == 0;
        const std::string eol = crlf ? "\r\n" : "\n";
        std::string line = std::string(column, ' ') + key + ": " + value;
        if (after_last_line == m_text.size() && (m_text.empty() || m_text.back() != '\n'))
            pin.splices.push_back({after_last_line, after_last_line, eol + line});
        else
            pin.splices.push_back({after_last_line, after_last_line, line + eol});
    }

    // A Helm image block. A digest key is set (bitnami: it overrides the tag). Without one, --keep-tag makes the
    // tag TAG@digest; a block with no tag at all gets repository@digest. A block with a tag and no digest key is
    // refused without --keep-tag: charts render repository:tag, so repository@digest would come out as
    // repository@sha256:…:TAG, which no runtime accepts.
    void plan_helm(SitePin& pin) {
        const YamlNode* block = pin.site.node;
        const YamlNode* digest = block->find_merged("digest");
        const YamlNode* tag = block->find_merged("tag");
        const YamlNode* repository = block->find_merged("repository");
        const std::string value = m_options.digest.str();
        WrittenReference after = WrittenReference::split(pin.site.rendered);
        after.digest = value;
        if (digest && digest->is_scalar()) {
            after.tag.reset();
            pin.after = after.str();
            set_scalar(pin, digest, value);
            return;
        }
        if (tag && tag->is_scalar()) {
            const WrittenReference tag_ref = WrittenReference::split("x:" + tag->value);
            if (is_null_scalar(tag) || !tag_ref.tag || tag_ref.tag->empty()) {
                refuse(pin, "the tag is empty (the chart falls back to its appVersion): set the tag and pin with "
                            "--keep-tag, or add a digest key if the chart reads one");
            } else if (!m_options.keep_tag) {
                refuse(pin, "this block has a tag (line " + std::to_string(tag->line) +
                                ") and no digest key: pin with --keep-tag (the tag becomes TAG@sha256:…), or add a "
                                "digest key if the chart reads one");
            } else {
                pin.after = after.str();
                set_scalar(pin, tag, *tag_ref.tag + "@" + value);
            }
            return;
        }
        const WrittenReference repo = WrittenReference::split(repository->value);
        after.tag.reset();
        pin.after = after.str();
        set_scalar(pin, repository, WrittenReference{repo.name, std::nullopt, value}.str());
    }

    const std::string& m_text;
    const PinOptions& m_options;
};

}  // namespace

bool FilePin::changed() const {
    return std::any_of(sites.begin(), sites.end(), [](const SitePin& s) { return !s.splices.empty(); });
}

bool FilePin::refused() const {
    return std::any_of(sites.begin(), sites.end(), [](const SitePin& s) { return s.outcome == PinOutcome::Refused; });
}

FilePin plan_pins(const YamlFile& file, FileKind kind, const std::string& repository, const PinOptions& options) {
    FilePin result;
    result.path = file.origin();
    result.kind = kind;
    SitePlanner planner(file, options);
    std::vector<Splice> all;
    for (const ImageSite& site : find_image_sites(file, kind, repository)) {
        SitePin pin = planner.plan(site);
        // Two sites can reach the same bytes (a Helm block merged from one anchor into several places): the
        // same splice is made once; a different one over the same bytes cannot be made at all.
        for (const Splice& splice : pin.splices) {
            const bool same = std::any_of(all.begin(), all.end(), [&](const Splice& other) {
                return other.begin == splice.begin && other.end == splice.end && other.bytes == splice.bytes;
            });
            const bool overlaps = std::any_of(all.begin(), all.end(), [&](const Splice& other) {
                return splice.begin < other.end && other.begin < splice.end;
            });
            if (!same && overlaps) {
                pin.outcome = PinOutcome::Refused;
                pin.reason = "its bytes are shared with another image site (an anchor merged into several blocks) that "
                             "needs a different edit: write the values at each block, then pin again";
            } else if (!same) {
                all.push_back(splice);
            }
        }
        result.sites.push_back(std::move(pin));
    }
    result.new_text = result.refused() ? file.text() : apply_splices(file.text(), std::move(all));
    return result;
}

std::string apply_splices(const std::string& text, std::vector<Splice> splices) {
    std::sort(splices.begin(), splices.end(), [](const Splice& a, const Splice& b) {
        return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
    });
    std::string out;
    out.reserve(text.size() + 128 * splices.size());
    std::size_t at = 0;
    for (const Splice& splice : splices) {
        if (splice.begin < at || splice.end < splice.begin || splice.end > text.size())
            throw std::logic_error("overlapping or out-of-range splices");
        out.append(text, at, splice.begin - at);
        out += splice.bytes;
        at = splice.end;
    }
    out.append(text, at, std::string::npos);
    return out;
}

}  // namespace digestflow::gitops
