#include "digestflow/gitops/yaml_tree.hpp"

#include "digestflow/error.hpp"

#include <yaml.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace digestflow::gitops {

namespace {

bool is_merge_key(const YamlNode* key) {
    return key->is_scalar() && key->style == ScalarStyle::Plain && key->value == "<<";
}

ScalarStyle style_of(yaml_scalar_style_t style) {
    switch (style) {
        case YAML_SINGLE_QUOTED_SCALAR_STYLE: return ScalarStyle::SingleQuoted;
        case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return ScalarStyle::DoubleQuoted;
        case YAML_LITERAL_SCALAR_STYLE: return ScalarStyle::Literal;
        case YAML_FOLDED_SCALAR_STYLE: return ScalarStyle::Folded;
        default: return ScalarStyle::Plain;
    }
}

// libyaml's mark.index counts characters (a "\r\n" counts two) after a byte order mark; a splice needs bytes.
class ByteOffsets {
public:
    explicit ByteOffsets(const std::string& text) {
        m_bom = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;
        for (std::size_t i = m_bom; i < text.size(); ++i)
            if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) m_starts.push_back(i);
        m_starts.push_back(text.size());
        m_ascii = m_starts.size() == text.size() - m_bom + 1;
    }
    std::size_t at(std::size_t index) const {
        if (m_ascii) return std::min(index + m_bom, m_starts.back());
        return index < m_starts.size() ? m_starts[index] : m_starts.back();
    }

private:
    std::size_t m_bom = 0;
    bool m_ascii = true;
    std::vector<std::size_t> m_starts;
};

struct ParserHandle {
    yaml_parser_t parser;
    ParserHandle() { yaml_parser_initialize(&parser); }
    ~ParserHandle() { yaml_parser_delete(&parser); }
    ParserHandle(const ParserHandle&) = delete;
    ParserHandle& operator=(const ParserHandle&) = delete;
};

struct EventHandle {
    yaml_event_t event{};
    bool live = false;
    ~EventHandle() { reset(); }
    void reset() {
        if (live) yaml_event_delete(&event);
        live = false;
    }
};

bool valid_utf8(const std::string& text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        const std::size_t extra = c < 0x80 ? 0 : (c >> 5) == 0x6 ? 1 : (c >> 4) == 0xE ? 2 : (c >> 3) == 0x1E ? 3 : 4;
        if (extra == 4 || i + extra >= text.size() + (extra == 0 ? 1 : 0)) return false;
        for (std::size_t k = 1; k <= extra; ++k)
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        i += extra + 1;
    }
    return true;
}

// The offset of a node's own first byte after its properties ("&anchor", "!tag", in either order, each
// followed by spaces or line breaks); `line` moves with any line break skipped.
std::size_t after_properties(const std::string& text, std::size_t at, std::size_t end, std::size_t& line) {
    while (at < end && (text[at] == '&' || text[at] == '!')) {
        while (at < end && text[at] != ' ' && text[at] != '\t' && text[at] != '\n' && text[at] != '\r') ++at;
        while (at < end && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n' || text[at] == '\r'))
            if (text[at++] == '\n') ++line;
    }
    return at;
}

// Two equal keys in one mapping: YAML readers disagree on which one counts (kubectl refuses the file), so a
// file that has them is refused rather than read one way.
void refuse_duplicate_keys(const YamlNode& mapping, const std::string& origin) {
    std::map<std::string_view, std::size_t> first_line;
    for (const auto& [key, value] : mapping.pairs) {
        if (!key->is_scalar() || is_merge_key(key)) continue;
        const auto [earlier, inserted] = first_line.emplace(key->value, key->line);
        if (!inserted)
            throw_usage(origin + ":" + std::to_string(key->line) + ": duplicate key \"" + key->value +
                        "\" (first at line " + std::to_string(earlier->second) + "): keep one, then run again");
    }
}

}  // namespace

class YamlTreeBuilder {
public:
    static void build(YamlFile& file);
};

void YamlTreeBuilder::build(YamlFile& file) {
    const std::string& text = file.m_text;
    if (text.find('\0') != std::string::npos || !valid_utf8(text))
        throw_usage(file.m_origin + ": not UTF-8 text (a NUL byte or invalid UTF-8): save the file as UTF-8");

    const ByteOffsets offsets(text);
    ParserHandle handle;
    // The encoding is left to libyaml's detection: it then skips a byte order mark without counting it in the
    // marks (set explicitly to UTF-8, the mark would count it as one character).
    yaml_parser_set_input_string(&handle.parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());

    std::map<std::string, YamlNode*> anchors;
    std::vector<YamlNode*> open;  // collections being filled
    std::vector<const YamlNode*> pending_key;  // per open mapping: a key waiting for its value (nullptr: none)

    // Walks over the tree recurse; a file nested deeper than any real manifest is refused, not a stack overflow.
    constexpr std::size_t max_depth = 256;
    auto attach = [&](const YamlNode* node) {
        if (open.empty()) {
            file.m_documents.push_back(node);
            return;
        }
        YamlNode* parent = open.back();
        if (parent->is_sequence()) {
            parent->items.push_back(node);
        } else if (!pending_key.back()) {
            pending_key.back() = node;
        } else {
            parent->pairs.emplace_back(pending_key.back(), node);
            pending_key.back() = nullptr;
        }
    };
    auto make = [&](const yaml_event_t& event, YamlNode::Kind kind, const yaml_char_t* anchor, const yaml_char_t* tag) {
        YamlNode& node = file.m_nodes->emplace_back();
        node.kind = kind;
        node.begin = offsets.at(event.start_mark.index);
        node.end = offsets.at(event.end_mark.index);
        node.line = event.start_mark.line + 1;
        if (tag) node.tag = reinterpret_cast<const char*>(tag);
        // The event starts at the node's properties ("&img !!str value"): the node's bytes start after them.
        if (anchor || tag) node.begin = after_properties(text, node.begin, node.end, node.line);
        if (anchor) {
            node.anchor = reinterpret_cast<const char*>(anchor);
            // A collection's anchor counts from its end, so an alias never points into its own node: the
            // tree stays acyclic.
            if (kind == YamlNode::Kind::Scalar) anchors[node.anchor] = &node;
        }
        return &node;
    };

    auto open_collection = [&](YamlNode* node, bool flow) {
        node->flow = flow;
        attach(node);
        if (open.size() >= max_depth)
            throw_usage(file.m_origin + ":" + std::to_string(node->line) + ": nested more than " +
                        std::to_string(max_depth) + " levels deep; this is not a GitOps file");
        open.push_back(node);
        pending_key.push_back(nullptr);
    };

    EventHandle current;
    for (;;) {
        current.reset();
        if (!yaml_parser_parse(&handle.parser, &current.event)) {
            const auto& mark = handle.parser.problem_mark;
            std::string problem = handle.parser.problem ? handle.parser.problem : "syntax error";
            if (handle.parser.context) problem = std::string(handle.parser.context) + ": " + problem;
            throw_usage(file.m_origin + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1) +
                        ": not valid YAML: " + problem + " (fix the file; nothing was changed)");
        }
        current.live = true;
        const yaml_event_t& event = current.event;
        switch (event.type) {
            case YAML_SCALAR_EVENT: {
                YamlNode* node = make(event, YamlNode::Kind::Scalar, event.data.scalar.anchor, event.data.scalar.tag);
                node->value.assign(reinterpret_cast<const char*>(event.data.scalar.value), event.data.scalar.length);
                node->style = style_of(event.data.scalar.style);
                attach(node);
                break;
            }
            case YAML_ALIAS_EVENT: {
                const std::string name = reinterpret_cast<const char*>(event.data.alias.anchor);
                auto found = anchors.find(name);
                if (found == anchors.end())
                    throw_usage(file.m_origin + ":" + std::to_string(event.start_mark.line + 1) +
                                ": not valid YAML: alias *" + name + " names no anchor");
                ++found->second->aliases;
                attach(found->second);
                break;
            }
            case YAML_SEQUENCE_START_EVENT:
                open_collection(make(event, YamlNode::Kind::Sequence, event.data.sequence_start.anchor,
                                      event.data.sequence_start.tag),
                                 event.data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE);
                break;
            case YAML_MAPPING_START_EVENT:
                open_collection(make(event, YamlNode::Kind::Mapping, event.data.mapping_start.anchor,
                                     event.data.mapping_start.tag),
                                event.data.mapping_start.style == YAML_FLOW_MAPPING_STYLE);
                break;
            case YAML_SEQUENCE_END_EVENT:
            case YAML_MAPPING_END_EVENT:
                if (open.back()->is_mapping()) refuse_duplicate_keys(*open.back(), file.m_origin);
                open.back()->end = std::max(open.back()->end, offsets.at(event.end_mark.index));
                if (!open.back()->anchor.empty()) anchors[open.back()->anchor] = open.back();
                open.pop_back();
                pending_key.pop_back();
                break;
            case YAML_STREAM_END_EVENT:
                return;
            default:
                break;
        }
    }
}

YamlFile YamlFile::parse(std::string text, std::string origin) {
    YamlFile file;
    file.m_text = std::move(text);
    file.m_origin = std::move(origin);
    YamlTreeBuilder::build(file);
    return file;
}

const std::pair<const YamlNode*, const YamlNode*>* YamlNode::find_pair(std::string_view key) const {
    if (!is_mapping()) return nullptr;
    const std::pair<const YamlNode*, const YamlNode*>* found = nullptr;  // the last wins, as a YAML loader reads it
    for (const auto& pair : pairs)
        if (pair.first->is_scalar() && pair.first->value == key && !is_merge_key(pair.first)) found = &pair;
    return found;
}

const YamlNode* YamlNode::find_key(std::string_view key) const {
    const auto* pair = find_pair(key);
    return pair ? pair->first : nullptr;
}

const YamlNode* YamlNode::find(std::string_view key) const {
    const auto* pair = find_pair(key);
    return pair ? pair->second : nullptr;
}

namespace {

// YAML's merge-key rule with a visited set: merges of merges form a DAG, and a file built to repeat one anchor
// many times must not make a lookup exponential.
const YamlNode* find_merged_in(const YamlNode* node, std::string_view key, std::set<const YamlNode*>& visited) {
    if (!node->is_mapping() || !visited.insert(node).second) return nullptr;
    if (const YamlNode* own = node->find(key)) return own;
    for (const auto& [k, v] : node->pairs) {
        if (!is_merge_key(k)) continue;
        // Earlier mappings in a merge list win over later ones.
        const std::vector<const YamlNode*> sources = v->is_sequence() ? v->items : std::vector<const YamlNode*>{v};
        for (const YamlNode* source : sources)
            if (const YamlNode* merged = find_merged_in(source, key, visited)) return merged;
    }
    return nullptr;
}

}  // namespace

const YamlNode* YamlNode::find_merged(std::string_view key) const {
    std::set<const YamlNode*> visited;
    return find_merged_in(this, key, visited);
}

}  // namespace digestflow::gitops
