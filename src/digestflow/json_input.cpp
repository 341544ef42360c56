#include "digestflow/json_input.hpp"

#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"

#include <set>
#include <vector>

namespace digestflow {
namespace {

// Where the parser is: one frame per open object or array, for the depth bound and for naming a duplicate
// key.
struct Frame {
    bool array = false;
    std::string path; // "image.platforms[0]"; empty at the top
    std::set<std::string> keys;
    std::string key;       // the last key seen in an object
    std::size_t index = 0; // the next element's index in an array
};

std::string child_path(const Frame& parent) {
    if (parent.array)
        return parent.path + "[" + std::to_string(parent.index) + "]";
    return parent.path.empty() ? parent.key : parent.path + "." + parent.key;
}

// nlohmann's what() without the "[json.exception.parse_error.101] " prefix; the token it quotes ("last read:
// '...'", "parsing '...'") goes through quote(), or is dropped when the text may hold a secret.
std::string parser_detail(const std::string& what, bool secret) {
    std::string detail = what;
    if (auto bracket = detail.find("] ");
        detail.rfind("[json.exception", 0) == 0 && bracket != std::string::npos)
        detail = detail.substr(bracket + 2);
    for (const char* marker : {"; last read: '", " parsing '"}) {
        auto at = detail.find(marker);
        if (at == std::string::npos)
            continue;
        std::size_t start = at + std::string(marker).size();
        auto end = detail.rfind('\'');
        std::string token = end != std::string::npos && end >= start ? detail.substr(start, end - start) : "";
        std::string head = detail.substr(0, at);
        std::string label = marker[0] == ';' ? "; last read: " : ": ";
        detail = secret ? head : head + label + quote(token, 40);
    }
    if (detail.rfind("number overflow", 0) == 0)
        detail += " (a number outside the range of a double)";
    return detail;
}

template <class Json> Json parse(std::string_view text, const JsonInput& input) {
    const std::string prefix = input.origin + ": not valid JSON: ";
    if (auto nul = text.find('\0'); nul != std::string_view::npos)
        throw_usage(prefix + "a NUL byte at byte " + std::to_string(nul) +
                    " (JSON text never holds one; is it the right file?)" + input.fix);

    std::vector<Frame> frames;
    auto open = [&](bool array) {
        if (static_cast<int>(frames.size()) >= max_json_depth)
            throw_usage(prefix + "nested deeper than " + std::to_string(max_json_depth) + " levels" +
                        input.fix);
        Frame frame;
        frame.array = array;
        if (!frames.empty())
            frame.path = child_path(frames.back());
        frames.push_back(std::move(frame));
    };
    auto close = [&] {
        frames.pop_back();
        if (!frames.empty() && frames.back().array)
            ++frames.back().index;
    };
    typename Json::parser_callback_t callback = [&](int, nlohmann::json::parse_event_t event, Json& parsed) {
        using Event = nlohmann::json::parse_event_t;
        switch (event) {
        case Event::object_start:
            open(false);
            break;
        case Event::array_start:
            open(true);
            break;
        case Event::object_end:
        case Event::array_end:
            close();
            break;
        case Event::key: {
            Frame& frame = frames.back();
            frame.key = parsed.template get<std::string>();
            if (!frame.keys.insert(frame.key).second)
                throw_usage(input.origin + ": duplicate key " + quote(child_path(frame)) +
                            " (JSON readers disagree on which value counts: keep one)" + input.fix);
            break;
        }
        case Event::value:
            if (!frames.empty() && frames.back().array)
                ++frames.back().index;
            break;
        }
        return true;
    };
    try {
        return Json::parse(text.begin(), text.end(), callback);
    } catch (const nlohmann::json::exception& e) {
        throw_usage(prefix + parser_detail(e.what(), input.secret) + input.fix);
    }
}

} // namespace

nlohmann::ordered_json parse_json_input(std::string_view text, const JsonInput& input) {
    return parse<nlohmann::ordered_json>(text, input);
}

nlohmann::json parse_json_input_unordered(std::string_view text, const JsonInput& input) {
    return parse<nlohmann::json>(text, input);
}

std::optional<nlohmann::json> try_parse_json(std::string_view text) {
    try {
        return parse_json_input_unordered(text, JsonInput{"answer", "", true});
    } catch (const Error&) {
        return std::nullopt;
    }
}

std::optional<nlohmann::ordered_json> try_parse_ordered_json(std::string_view text) {
    try {
        return parse_json_input(text, JsonInput{"answer", "", true});
    } catch (const Error&) {
        return std::nullopt;
    }
}

} // namespace digestflow
