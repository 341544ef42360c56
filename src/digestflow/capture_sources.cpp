#include "digestflow/capture_sources.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/media_types.hpp"
#include "digestflow/quote.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <vector>

namespace digestflow {

namespace {

using Json = nlohmann::json;

std::string trim(std::string_view text) {
    auto is_space = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
    while (!text.empty() && is_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_space(text.back()))
        text.remove_suffix(1);
    return std::string(text);
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        std::string line = text.substr(start, end - start);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        lines.push_back(std::move(line));
        start = end + 1;
    }
    return lines;
}

std::string join(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items)
        out += (out.empty() ? "" : ", ") + item;
    return out;
}

std::string short_digest(const Digest& digest) {
    const auto& s = digest.str();
    return s.size() > 19 ? s.substr(0, 19) + "..." : s;
}


// A digest reported by a tool; the message names the input and where in it the value was found.
Digest parse_reported_digest(const std::string& value, const std::string& input, const std::string& where) {
    if (auto reason = detail::digest_problem(value))
        throw_usage(input + ": " + where + " " + quote(value) + " is not a valid digest: " + *reason +
                    " (pass the file the build tool wrote, unedited)");
    return Digest::parse(value);
}

Json parse_json(const std::string& text, const std::string& input, const std::string& what) {
    return parse_json_input_unordered(text, JsonInput{input, " (pass " + what + ")", false});
}

std::optional<Reference> try_parse_reference(const std::string& text) {
    try {
        return Reference::parse(trim(text));
    } catch (const Error&) {
        return std::nullopt;
    }
}

// Compared after normalisation: index.docker.io/library/x, docker.io/library/x and x are one repository.
bool same_repository(const Reference& a, const Reference& b) {
    return a.repository() == b.repository();
}

// One image a tool reported: its name as written in the file and its digest.
struct Candidate {
    std::string name;
    Reference ref;
    Digest digest;
    std::optional<std::int64_t> size;
};

// Picks the one digest for `image` among `candidates`: same repository first, then the same tag when the
// image names one and some entries carry it. Several different digests left over is an error, not a guess.
// `ambiguity_fix` ends the message for several digests; `none_message`, when given, replaces the default one
// for no match at all.
const Candidate& choose(const std::vector<Candidate>& candidates, const Reference& image, const std::string& input,
                        const std::string& ambiguity_fix, const std::string& none_message = "") {
    std::vector<const Candidate*> matches;
    for (const auto& c : candidates)
        if (same_repository(c.ref, image))
            matches.push_back(&c);
    if (matches.empty() && !none_message.empty()) throw_usage(input + ": " + none_message);
    if (matches.empty()) {
        std::vector<std::string> names;
        for (const auto& c : candidates)
            names.push_back(c.name);
        throw_usage(input + ": no image named " + image.repository() + " (the file lists " + join(names) +
                    "; pass --image with one of those names)");
    }
    if (image.tag) {
        std::vector<const Candidate*> tagged;
        for (const auto* c : matches)
            if (c->ref.tag == image.tag)
                tagged.push_back(c);
        if (!tagged.empty())
            matches = tagged;
    }
    for (const auto* c : matches) {
        if (c->digest != matches.front()->digest) {
            std::vector<std::string> found;
            for (const auto* m : matches)
                found.push_back(m->name + " " + short_digest(m->digest));
            throw_usage(input + ": several digests for " + image.repository() + " (" + join(found) + "); " +
                        ambiguity_fix);
        }
    }
    return *matches.front();
}

CapturedDigest make_captured(Digest digest, std::string source) {
    return CapturedDigest{std::move(digest), std::move(source), std::nullopt, std::nullopt, std::nullopt, {}};
}

// --- buildx ---------------------------------------------------------------------------------------------

const char* const buildx_input = "--from-buildx-metadata";

bool looks_like_build_result(const Json& object) {
    return object.is_object() &&
           (object.contains("containerimage.digest") || object.contains("containerimage.descriptor") ||
            object.contains("containerimage.config.digest") || object.contains("image.name") ||
            object.contains("buildx.build.ref"));
}

// "image.name" lists every name the build pushed, comma-separated when there are several.
// The comma-separated entries of an "image.name" value, trimmed.
std::vector<std::string> name_entries(const std::string& list) {
    std::vector<std::string> entries;
    std::size_t start = 0;
    while (start <= list.size()) {
        auto comma = list.find(',', start);
        if (comma == std::string::npos)
            comma = list.size();
        entries.push_back(trim(std::string_view(list).substr(start, comma - start)));
        start = comma + 1;
    }
    return entries;
}

std::vector<Reference> image_names(const Json& result) {
    std::vector<Reference> names;
    auto it = result.find("image.name");
    if (it == result.end() || !it->is_string())
        return names;
    for (const auto& entry : name_entries(it->get_ref<const std::string&>()))
        if (auto ref = try_parse_reference(entry))
            names.push_back(*ref);
    return names;
}

// A single build's "image.name" is what ties its digest to --image: a name that is there but cannot be read
// is refused rather than read as "names nothing" (which would take the digest for --image).
void check_image_names_readable(const Json& result) {
    auto it = result.find("image.name");
    if (it == result.end())
        return;
    const std::string fix = ", so the file does not say which image the digest belongs to (pass the file written "
                            "by --metadata-file, unedited, or the digest with --digest)";
    if (!it->is_string())
        throw_usage(std::string(buildx_input) + ": \"image.name\" is not a string" + fix);
    for (const auto& entry : name_entries(it->get_ref<const std::string&>()))
        if (!try_parse_reference(entry))
            throw_usage(std::string(buildx_input) + ": \"image.name\" entry " + quote(entry) +
                        " is not an image reference" + fix);
}

bool names_repository(const Json& result, const Reference& image) {
    auto names = image_names(result);
    return std::any_of(names.begin(), names.end(),
                       [&](const Reference& r) { return same_repository(r, image); });
}

bool names_tag(const Json& result, const Reference& image) {
    auto names = image_names(result);
    return std::any_of(names.begin(), names.end(),
                       [&](const Reference& r) { return same_repository(r, image) && r.tag == image.tag; });
}

// "containerimage.descriptor" names the pushed manifest; `docker buildx imagetools create --metadata-file`
// writes only it (no "containerimage.digest"), and then it must be well formed and name a manifest or an
// index. Next to "containerimage.digest" it only adds media type and size: nullopt when it does not fit.
std::optional<CapturedDigest> from_descriptor(const Json& result, const std::string& input, bool only_source) {
    auto desc = result.find("containerimage.descriptor");
    if (desc == result.end())
        return std::nullopt;
    if (!only_source) {
        try {
            return from_descriptor(result, input, true);
        } catch (const Error&) {
            return std::nullopt;
        }
    }
    const std::string fix = " (pass the file written by --metadata-file, unedited)";
    if (!desc->is_object())
        throw_usage(input + ": \"containerimage.descriptor\" is not an object" + fix);
    auto d = desc->find("digest");
    if (d == desc->end() || !d->is_string())
        throw_usage(input + ": \"containerimage.descriptor\" has no \"digest\" string" + fix);
    CapturedDigest captured = make_captured(
        parse_reported_digest(d->get<std::string>(), input, "containerimage.descriptor.digest"), "buildx-metadata");
    auto mt = desc->find("mediaType");
    if (mt == desc->end() || !mt->is_string())
        throw_usage(input + ": \"containerimage.descriptor\" has no \"mediaType\" string" + fix);
    if (!media_types::is_known_manifest(mt->get_ref<const std::string&>()))
        throw_usage(input + ": \"containerimage.descriptor\" describes a " + quote(mt->get<std::string>()) +
                    ", not an image manifest or index" + fix);
    captured.media_type = mt->get<std::string>();
    if (auto size = desc->find("size");
        size != desc->end() && size->is_number_integer() && size->get<std::int64_t>() >= 0)
        captured.size = size->get<std::int64_t>();
    return captured;
}

CapturedDigest from_build_result(const Json& result, const std::string& where) {
    const std::string input = std::string(buildx_input) + (where.empty() ? "" : " (target " + where + ")");
    auto digest_it = result.find("containerimage.digest");
    auto descriptor = from_descriptor(result, input, digest_it == result.end());
    if (digest_it == result.end() && !descriptor)
        throw_usage(input +
                    ": neither \"containerimage.digest\" nor \"containerimage.descriptor\": the build recorded no "
                    "pushed image (build with --push or --output type=registry, or capture with --resolve)");
    if (digest_it != result.end() && !digest_it->is_string())
        throw_usage(input +
                    ": \"containerimage.digest\" is not a string (pass the file written by --metadata-file)");
    CapturedDigest captured =
        digest_it == result.end()
            ? *descriptor
            : make_captured(parse_reported_digest(digest_it->get<std::string>(), input, "containerimage.digest"),
                            "buildx-metadata");

    // The descriptor adds media type and size, but only when it describes the same manifest.
    if (descriptor && descriptor->digest == captured.digest) {
        captured.media_type = descriptor->media_type;
        captured.size = descriptor->size;
    }
    if (auto config = result.find("containerimage.config.digest"); config != result.end()) {
        if (!config->is_string())
            throw_usage(input +
                        ": \"containerimage.config.digest\" is not a string (pass the file written by "
                        "--metadata-file)");
        captured.config_digest =
            parse_reported_digest(config->get<std::string>(), input, "containerimage.config.digest");
    }
    return captured;
}

// --- docker push ----------------------------------------------------------------------------------------

bool is_tag_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// Terminal colour and cursor codes (ESC [ ... letter) that a TTY push leaves in captured logs.
std::string strip_ansi(const std::string& line) {
    std::string out;
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (line[i] == '\x1b' && i + 1 < line.size() && line[i + 1] == '[') {
            i += 2;
            while (i < line.size() && !std::isalpha(static_cast<unsigned char>(line[i])))
                ++i;
            continue;
        }
        out += line[i];
    }
    return out;
}

struct PushLine {
    std::string tag;
    std::string digest;
    std::optional<std::int64_t> size;
};

// "TAG: digest: DIGEST size: N", possibly after a CI timestamp; scanned by hand because log lines can be
// long.
std::optional<PushLine> parse_push_line(const std::string& line) {
    const std::string marker = ": digest: ";
    auto pos = line.find(marker);
    if (pos == std::string::npos || pos == 0)
        return std::nullopt;
    std::size_t begin = pos;
    while (begin > 0 && is_tag_char(line[begin - 1]))
        --begin;
    if (begin == pos || (begin > 0 && !std::isspace(static_cast<unsigned char>(line[begin - 1]))))
        return std::nullopt;
    PushLine result{line.substr(begin, pos - begin), "", std::nullopt};
    if (!is_valid_tag(result.tag))
        return std::nullopt;

    std::size_t start = pos + marker.size();
    auto end = line.find(' ', start);
    result.digest = line.substr(start, end == std::string::npos ? std::string::npos : end - start);
    const std::string size_marker = " size: ";
    if (end != std::string::npos && line.compare(end, size_marker.size(), size_marker) == 0) {
        std::size_t digits = end + size_marker.size();
        std::int64_t size = 0;
        std::size_t count = 0;
        while (digits < line.size() && std::isdigit(static_cast<unsigned char>(line[digits])) && count < 16) {
            size = size * 10 + (line[digits] - '0');
            ++count;
            ++digits;
        }
        // Only a whole number is a size: "12abc" or 17+ digits (cut off at the cap) would record a wrong one.
        const bool whole = digits == line.size() || std::isspace(static_cast<unsigned char>(line[digits]));
        if (count > 0 && whole)
            result.size = size;
    }
    return result;
}

// "The push refers to repository [docker.io/library/x]" starts each push in the log ("... to a repository [...]"
// up to Docker 1.10). nullopt when the line is no such line; the text between the brackets otherwise (empty
// when the line is cut off before its "]").
std::optional<std::string> parse_push_repository(const std::string& line) {
    for (const std::string marker : {"The push refers to repository [", "The push refers to a repository ["}) {
        auto pos = line.find(marker);
        if (pos == std::string::npos)
            continue;
        auto close = line.find(']', pos + marker.size());
        if (close == std::string::npos)
            return std::string();
        return line.substr(pos + marker.size(), close - pos - marker.size());
    }
    return std::nullopt;
}

// --- kaniko / ko line formats ---------------------------------------------------------------------------

// "repo@sha256:…" or "repo:tag@sha256:…" per line; kaniko's BUILDER_OUTPUT images file has JSON lines
// {"name": "repo:tag", "digest": "sha256:…"} instead.
std::vector<Candidate> parse_reference_lines(const std::string& text, const std::string& input,
                                             const std::string& what) {
    std::vector<Candidate> candidates;
    std::size_t number = 0;
    for (const auto& raw : split_lines(text)) {
        ++number;
        const std::string line = trim(raw);
        if (line.empty())
            continue;
        const std::string at_line = input + " line " + std::to_string(number);
        if (line.front() == '{') {
            Json entry = parse_json(line, at_line, what);
            auto name = entry.find("name");
            auto digest = entry.find("digest");
            if (name == entry.end() || !name->is_string() || digest == entry.end() || !digest->is_string())
                throw_usage(at_line + ": expected {\"name\": ..., \"digest\": ...} (pass " + what + ")");
            auto ref = try_parse_reference(name->get<std::string>());
            if (!ref)
                throw_usage(at_line + ": " + quote(name->get<std::string>()) +
                            " is not an image reference (pass " + what + ")");
            Digest d = parse_reported_digest(digest->get<std::string>(), at_line, "digest");
            candidates.push_back({name->get<std::string>(), *ref, d, std::nullopt});
            continue;
        }
        Reference ref;
        try {
            ref = Reference::parse(line);
        } catch (const Error& e) {
            throw_usage(at_line + ": " + quote(line) + " is not an image reference: " + e.what() + " (pass " +
                        what + ")");
        }
        if (!ref.digest)
            throw_usage(at_line + ": " + quote(line) + " has no @sha256:... digest (pass " + what + ")");
        candidates.push_back({line.substr(0, line.find('@')), ref, *ref.digest, std::nullopt});
    }
    if (candidates.empty())
        throw_usage(input +
                    ": the file is empty: the build wrote no image (check that it pushed, then pass " + what +
                    ")");
    return candidates;
}

} // namespace

CapturedDigest digest_from_flag(const std::string& text) {
    // A flag is taken as given: " sha256:..." or a trailing newline is refused, not trimmed.
    const std::string& value = text;
    if (value != trim(value))
        throw_usage("--digest " + quote(value) +
                    " starts or ends with whitespace: pass the digest exactly (sha256:<64 lowercase hex>)");
    if (value.find('@') != std::string::npos || value.find('/') != std::string::npos)
        throw_usage(
            "--digest " + quote(value) +
            " is a reference, not a digest: pass only the sha256:... part and name the image with --image");
    if (auto reason = detail::digest_problem(value)) {
        bool bare_hex = value.size() == 64 && std::all_of(value.begin(), value.end(), [](char c) {
                            return std::isxdigit(static_cast<unsigned char>(c)) != 0;
                        });
        throw_usage("--digest " + quote(value) + " is not a valid digest: " + *reason +
                    (bare_hex ? " (add the sha256: prefix)" : " (expected sha256:<64 lowercase hex>)"));
    }
    return make_captured(Digest::parse(value), "digest");
}

CapturedDigest digest_from_buildx_metadata(const std::string& text, const Reference& image) {
    const std::string what = "the file written by docker buildx build --metadata-file";
    Json doc = parse_json(text, buildx_input, what);
    if (!doc.is_object())
        throw_usage(std::string(buildx_input) + ": expected a JSON object (pass " + what + ")");

    if (looks_like_build_result(doc)) {
        // One build: every name it pushed shares the digest, but a file for another image is a mistake.
        check_image_names_readable(doc);
        auto names = image_names(doc);
        if (!names.empty() && !names_repository(doc, image)) {
            throw_usage(std::string(buildx_input) + ": the build pushed " +
                        doc["image.name"].get<std::string>() + ", not " + image.repository() +
                        " (pass --image with one of those names)");
        }
        return from_build_result(doc, "");
    }

    // bake: one object per target, plus "buildx.build.warnings" and the like at the top.
    std::vector<std::string> targets;
    std::vector<std::string> matching;
    for (auto& [key, value] : doc.items()) {
        if (!looks_like_build_result(value))
            continue;
        targets.push_back(key);
        if (names_repository(value, image))
            matching.push_back(key);
    }
    if (targets.empty())
        throw_usage(
            std::string(buildx_input) +
            ": no build result in the file (no \"containerimage.digest\" at the top or in a bake target; "
            "pass " +
            what + ")");
    if (matching.empty())
        throw_usage(std::string(buildx_input) + ": no bake target pushed " + image.repository() +
                    " (targets: " + join(targets) +
                    "; set image.name/tags for it or pass --image with the name it pushed)");
    if (matching.size() > 1 && image.tag) {
        std::vector<std::string> tagged;
        for (const auto& key : matching)
            if (names_tag(doc[key], image))
                tagged.push_back(key);
        if (!tagged.empty())
            matching = tagged;
    }
    if (matching.size() > 1) {
        // Several targets pushing one name agree only if they report one digest.
        auto first = from_build_result(doc[matching.front()], matching.front());
        for (const auto& key : matching) {
            if (from_build_result(doc[key], key).digest != first.digest)
                throw_usage(std::string(buildx_input) + ": several bake targets pushed " +
                            image.repository() + " with different digests (" + join(matching) +
                            "); name the tag in --image");
        }
    }
    return from_build_result(doc[matching.front()], matching.front());
}

CapturedDigest digest_from_digest_file(const std::string& text) {
    const std::string input = "--from-digest-file";
    const std::string value = trim(text);
    if (value.empty())
        throw_usage(input +
                    ": the file is empty, so no push is recorded: either the push failed (buildah/podman leave "
                    "an empty digest file and may still exit 0: check the push step's log) or it was "
                    "`manifest push` without --all (push with --all)");
    if (value.find_first_of(" \t\r\n") != std::string::npos)
        throw_usage(input + ": expected one digest, found several words " + quote(value) +
                    " (pass the file written by --digestfile / --digest-file)");
    if (value.find('@') != std::string::npos)
        throw_usage(input + ": " + quote(value) +
                    " is a reference, not a digest (for kaniko's --image-name-with-digest-file use "
                    "--from-kaniko-image-refs)");
    return make_captured(parse_reported_digest(value, input, "the content"), "digest-file");
}

CapturedDigest digest_from_push_output(const std::string& text, const Reference& image) {
    const std::string input = "--from-push-output";
    std::vector<Candidate> candidates;
    // The repository named by the last "The push refers to" line: a digest line is only ever attributed to
    // the repository the log ties it to, never to --image by default.
    std::optional<Reference> current;
    std::optional<std::string> unreadable;  // "FILE line N: ..." of the last repository line, when unreadable
    std::size_t number = 0;
    for (const auto& raw : split_lines(text)) {
        ++number;
        const std::string line = strip_ansi(raw);
        if (auto repository = parse_push_repository(line)) {
            current = try_parse_reference(*repository);
            if (current && (current->tag || current->digest))
                current.reset();
            unreadable.reset();
            if (!current)
                unreadable = input + " line " + std::to_string(number) + ": " + quote(trim(line));
            continue;
        }
        auto push = parse_push_line(line);
        if (!push)
            continue;
        const std::string at_line = input + " line " + std::to_string(number);
        if (unreadable)
            throw_usage(*unreadable + " names no repository that can be read, so the digest on line " +
                        std::to_string(number) +
                        " cannot be tied to an image (pass the log unedited, or the digest with --digest)");
        if (!current)
            throw_usage(at_line + ": a digest line before any \"The push refers to repository [...]\" line, so "
                                  "the log does not say which repository it belongs to (pass the whole docker "
                                  "push log, or the digest with --digest)");
        Reference ref = current->with_tag(push->tag);
        Digest digest = parse_reported_digest(push->digest, at_line, "the digest of tag " + push->tag);
        candidates.push_back({push->tag, ref, digest, push->size});
    }
    if (candidates.empty())
        throw_usage(input +
                    ": no \"TAG: digest: sha256:... size: N\" line (pass the output of a docker push that "
                    "succeeded)");

    const auto& chosen = choose(candidates, image, input, "name the pushed tag in --image",
                                "the log pushed no image to " + image.repository() +
                                    " (pass --image with the repository docker pushed)");
    CapturedDigest captured = make_captured(chosen.digest, "push-output");
    captured.size = chosen.size;
    return captured;
}

CapturedDigest digest_from_kaniko_image_refs(const std::string& text, const Reference& image) {
    const std::string input = "--from-kaniko-image-refs";
    auto candidates = parse_reference_lines(
        text, input, "the file written by kaniko --image-name-with-digest-file or $BUILDER_OUTPUT/images");
    const auto& chosen = choose(candidates, image, input,
                                "name the tag in --image or pass --from-kaniko-image-refs the output of one build");
    return make_captured(chosen.digest, "kaniko-image-refs");
}

CapturedDigest digest_from_jib(const std::string& text, const Reference& image) {
    const std::string input = "--from-jib";
    const std::string what = "jib-image.json from target/ or build/";
    Json doc = parse_json(text, input, what);
    if (!doc.is_object())
        throw_usage(input + ": expected a JSON object (pass " + what + ")");

    if (auto pushed = doc.find("imagePushed");
        pushed != doc.end() && pushed->is_boolean() && !pushed->get<bool>())
        throw_usage(input +
                    ": \"imagePushed\" is false: jib built the image without pushing it (run jib:build / "
                    "jib, not dockerBuild or buildTar)");
    if (auto name = doc.find("image"); name != doc.end()) {
        // The name ties the digest to --image: one that cannot be read is refused, not skipped.
        auto ref = name->is_string() ? try_parse_reference(name->get<std::string>()) : std::nullopt;
        if (!ref)
            throw_usage(input + ": \"image\" " + (name->is_string() ? quote(name->get<std::string>()) : "(not a string)") +
                        " is not an image reference, so the file does not say which image it pushed (pass " + what +
                        ", unedited, or the digest with --digest)");
        if (!same_repository(*ref, image))
            throw_usage(input + ": jib pushed " + name->get<std::string>() + ", not " + image.repository() +
                        " (pass --image with the name jib pushed)");
    }
    auto digest = doc.find("imageDigest");
    if (digest == doc.end() || !digest->is_string())
        throw_usage(input + ": no \"imageDigest\" (pass " + what + ")");
    CapturedDigest captured =
        make_captured(parse_reported_digest(digest->get<std::string>(), input, "imageDigest"), "jib");
    if (auto id = doc.find("imageId"); id != doc.end() && id->is_string())
        captured.config_digest = parse_reported_digest(id->get<std::string>(), input, "imageId");
    return captured;
}

CapturedDigest digest_from_ko_refs(const std::string& text, const Reference& image) {
    const std::string input = "--from-ko-refs";
    auto candidates = parse_reference_lines(text, input, "the file written by ko build --image-refs");
    // A multi-platform build writes the index first, then one line per platform image of the same repository:
    // one unbroken run of lines with one name and different digests. The index is what the tag names; the
    // registry check confirms the later digests are its children.
    std::vector<std::size_t> run;
    for (std::size_t i = 0; i < candidates.size(); ++i)
        if (same_repository(candidates[i].ref, image))
            run.push_back(i);
    bool one_build = run.size() > 1 && run.back() - run.front() + 1 == run.size();
    for (std::size_t k = 0; one_build && k < run.size(); ++k) {
        const Candidate& c = candidates[run[k]];
        one_build = c.name == candidates[run.front()].name;
        for (std::size_t j = 0; one_build && j < k; ++j)
            one_build = candidates[run[j]].digest != c.digest;
    }
    if (one_build) {
        CapturedDigest captured = make_captured(candidates[run.front()].digest, "ko-refs");
        for (std::size_t k = 1; k < run.size(); ++k)
            captured.platform_digests.push_back(candidates[run[k]].digest);
        return captured;
    }
    const auto& chosen = choose(candidates, image, input,
                                "name the tag in --image or pass --from-ko-refs the output of one build");
    return make_captured(chosen.digest, "ko-refs");
}

} // namespace digestflow
