// A YAML file as a tree of nodes that know their exact byte span in the text, so a pin can splice one
// scalar's bytes and leave every other byte (comments, quoting, indentation, CRLF) as it was.
// Parsed with libyaml (the reference YAML 1.1 parser behind PyYAML): its events carry start and end marks
// for every scalar, with the scalar's style; no emitter is ever involved.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace digestflow::gitops {

enum class ScalarStyle { Plain, SingleQuoted, DoubleQuoted, Literal, Folded };

struct YamlNode {
    enum class Kind { Scalar, Sequence, Mapping };
    Kind kind = Kind::Scalar;
    std::size_t begin = 0;  // byte offset of the node's first byte (a quote, a block indicator, '{', '['), after
                            // any &anchor and !tag written before it
    std::size_t end = 0;    // byte offset just after it (a block scalar's span includes its trailing breaks)
    std::size_t line = 0;   // 1-based line of `begin`
    bool flow = false;      // a collection written {…} or […]
    ScalarStyle style = ScalarStyle::Plain;
    std::string value;      // a scalar's value, as YAML reads it
    std::string anchor;     // "&name" given on this node, without '&'; empty when none
    std::size_t aliases = 0;  // how many *name aliases use this node elsewhere
    std::string tag;        // an explicit YAML tag ("tag:yaml.org,2002:str" for !!str); empty when none
    std::vector<std::pair<const YamlNode*, const YamlNode*>> pairs;  // a mapping's keys and values, in order
    std::vector<const YamlNode*> items;                              // a sequence's items

    bool is_scalar() const { return kind == Kind::Scalar; }
    bool is_mapping() const { return kind == Kind::Mapping; }
    bool is_sequence() const { return kind == Kind::Sequence; }
    // A mapping's value for a scalar key equal to `key`, or nullptr. An alias value is the anchored node.
    const YamlNode* find(std::string_view key) const;
    // The key node for `key`, or nullptr.
    const YamlNode* find_key(std::string_view key) const;
    // A mapping's own pairs plus those merged in with `<<: *anchor` (or a list of them), own keys first:
    // YAML's merge-key rule, so compose services and Helm blocks built from anchors are read as they render.
    const YamlNode* find_merged(std::string_view key) const;

private:
    const std::pair<const YamlNode*, const YamlNode*>* find_pair(std::string_view key) const;
};

class YamlFile {
public:
    // Parses every document in `text` (multi-document "---", "..."). `origin` names the file in errors.
    // Throws Error(Usage) "ORIGIN:LINE:COLUMN: not valid YAML: PROBLEM" for a syntax error, and for a text
    // that is not UTF-8 (libyaml would read UTF-16; a GitOps file in UTF-16 is refused rather than guessed).
    static YamlFile parse(std::string text, std::string origin);
    YamlFile(YamlFile&&) noexcept = default;
    YamlFile& operator=(YamlFile&&) noexcept = default;
    YamlFile(const YamlFile&) = delete;
    YamlFile& operator=(const YamlFile&) = delete;

    const std::string& text() const { return m_text; }
    const std::string& origin() const { return m_origin; }
    const std::vector<const YamlNode*>& documents() const { return m_documents; }  // one root per document

private:
    YamlFile() = default;
    std::string m_text;
    std::string m_origin;
    // The nodes live on the heap so a moved YamlFile keeps every pointer valid (a std::vector of files moves
    // them when it grows); copying is deleted because a copy's pointers would point into the original.
    std::unique_ptr<std::deque<YamlNode>> m_nodes = std::make_unique<std::deque<YamlNode>>();
    std::vector<const YamlNode*> m_documents;
    friend class YamlTreeBuilder;
};

}  // namespace digestflow::gitops
