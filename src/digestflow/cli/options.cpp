#include "digestflow/cli/options.hpp"

#include "digestflow/error.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <algorithm>
#include <cctype>

#include <sys/stat.h>

namespace digestflow::cli {
namespace {

const FlagSpec* find_flag(const ToolSpec& spec, const std::string& name) {
    for (const auto& f : spec.flags)
        if (f.name == name) return &f;
    for (const auto& f : common_flags())
        if (f.name == name) return &f;
    return nullptr;
}

void append_flag_help(std::string& out, const FlagSpec& flag) {
    std::string left = "  " + (flag.short_name ? std::string("-") + flag.short_name + ", " : std::string()) + "--" +
                       flag.name + (flag.value_name.empty() ? "" : " " + flag.value_name);
    if (left.size() < 32) left.resize(32, ' ');
    else left += "\n" + std::string(32, ' ');
    out += left + flag.help + (flag.repeatable ? " (repeatable)" : "") + "\n";
}

// --timeout SECONDS: a whole number from 1 to 99999.
std::chrono::seconds parse_timeout(const std::string& text) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos || text.size() > 5 ||
        std::stoi(text) == 0)
        throw_usage("--timeout " + quote(text) + ": give a whole number of seconds, 1 or more");
    return std::chrono::seconds(std::stoi(text));
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Every value is checked as given, before any work: a flag that is never used is still wrong.
void validate_values(const ParsedArgs& parsed, const std::string& hint) {
    if (auto timeout = parsed.value("timeout")) parse_timeout(*timeout);
    for (const auto& [name, values] : parsed.m_values) {
        for (const auto& value : values) {
            if (!value.empty() && (is_space(value.front()) || is_space(value.back())))
                throw_usage("--" + name + " " + quote(value) +
                            ": the value starts or ends with whitespace; flags are taken as given: remove it" +
                            hint);
        }
    }
    // A host that can never match (empty, a URL, a path) would silently leave the registry secure-only.
    for (const auto& host : parsed.values("insecure-registry")) {
        const bool host_chars = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
            return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' || c == '[' ||
                   c == ']';
        });
        if (!host_chars)
            throw_usage("--insecure-registry " + quote(host) +
                        ": expected HOST[:PORT] as in the image reference, e.g. 127.0.0.1:5000 (no scheme, no path)" +
                        hint);
    }
    // OpenSSL opens --ca-file itself, blocking on a FIFO: only a regular file is handed to it.
    if (auto ca = parsed.value("ca-file")) {
        struct stat st {};
        const bool exists = ::stat(ca->c_str(), &st) == 0;
        if (!exists || !S_ISREG(st.st_mode))
            throw_usage("--ca-file " + quote(*ca) + ": " + (exists ? "not a regular file" : "the file does not exist") +
                        "; name a PEM file with the CA certificates");
    }
    if (auto config = parsed.value("registry-config")) {
        if (config->empty()) throw_usage("--registry-config is empty: name a docker config.json or auth.json" + hint);
        struct stat st {};
        if (::stat(config->c_str(), &st) != 0)
            throw_usage("--registry-config " + quote(*config) +
                        ": the file does not exist; fix the path or log in first (docker login / podman login)");
        // Read and parsed now, with the reader and parser the credential lookup uses, so a broken file is
        // reported before any work rather than at the first 401. Empty is fine (docker accepts it too).
        const std::string origin = "registry credentials file " + *config;
        std::string text = read_text_file(*config, "--registry-config");
        if (text.find_first_not_of(" \t\r\n") != std::string::npos)
            parse_json_input_unordered(text, JsonInput{origin, "; fix or remove it", true});
    }
}

}  // namespace

const std::vector<FlagSpec>& common_flags() {
    static const std::vector<FlagSpec> flags = {
        {"artifact", "PATH", "the image-digest.json artifact (default: image-digest.json)"},
        {"out", "PATH", "where to write the artifact (default: rewrite --artifact in place; - for stdout)"},
        {"json", "", "print the result as one JSON object on stdout"},
        {"quiet", "", "print nothing but errors"},
        {"registry-config", "PATH",
         "docker config.json with credentials (default: $DOCKER_CONFIG/config.json, ~/.docker/config.json, "
         "then containers auth.json)"},
        {"insecure-registry", "HOST[:PORT]", "allow plain HTTP or unverified TLS for this registry", true},
        {"ca-file", "PATH", "extra CA certificates (PEM) to trust for registry TLS"},
        {"timeout", "SECONDS",
         "longest time one request may take, connect to last byte; a streamed blob may run longer while bytes "
         "keep moving (default: 30)"},
        {"dotenv", "FILE",
         "also write the results as KEY=VALUE lines for GitLab's artifacts:reports:dotenv (IMAGE_DIGEST, ...)"},
        {"help", "", "show this help and exit"},
        {"version", "", "print the version and exit"},
    };
    return flags;
}

std::optional<std::string> ParsedArgs::value(const std::string& name) const {
    auto found = m_values.find(name);
    if (found == m_values.end() || found->second.empty()) return std::nullopt;
    return found->second.back();
}

std::vector<std::string> ParsedArgs::values(const std::string& name) const {
    auto found = m_values.find(name);
    return found == m_values.end() ? std::vector<std::string>{} : found->second;
}

registry::ClientOptions ParsedArgs::client_options() const {
    registry::ClientOptions options;
    options.registry_config = value("registry-config");
    options.transport.ca_file = value_or("ca-file", "");
    for (const auto& host : values("insecure-registry")) options.transport.insecure_hosts.insert(host);
    if (auto timeout = value("timeout")) options.transport.timeout = parse_timeout(*timeout);
    return options;
}

ParsedArgs parse_args(const ToolSpec& spec, int argc, char** argv) {
    ParsedArgs parsed;
    const std::string hint = " (run " + spec.name + " --help)";
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (!spec.operands.empty() && (arg == "--" || arg.empty() || arg[0] != '-' || arg == "-")) {
            if (arg == "--")
                for (++i; i < argc; ++i) parsed.m_operands.emplace_back(argv[i]);
            else
                parsed.m_operands.push_back(arg);
            continue;
        }
        if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
            for (const auto& f : spec.flags)
                if (f.short_name == arg[1]) arg = "--" + f.name;
        }
        if (arg.rfind("--", 0) != 0 || arg.size() == 2)
            throw_usage("unexpected argument " + quote(arg) + hint);
        std::string name = arg.substr(2);
        std::optional<std::string> inline_value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            inline_value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        const FlagSpec* flag = find_flag(spec, name);
        if (!flag) throw_usage("unknown flag " + quote("--" + name) + hint);
        // --help and --version may repeat; with a value they fall through to the switch check below.
        if ((name == "help" || name == "version") && !inline_value) {
            parsed.m_values[name].push_back("");
            continue;
        }
        std::string value;
        if (flag->value_name.empty()) {
            if (inline_value) throw_usage("--" + name + " takes no value" + hint);
        } else if (inline_value) {
            value = *inline_value;
        } else {
            if (i + 1 >= argc) throw_usage("--" + name + " needs a value: " + flag->value_name + hint);
            value = argv[++i];
        }
        auto& slot = parsed.m_values[name];
        if (!slot.empty() && !flag->repeatable) throw_usage("--" + name + " was given more than once" + hint);
        slot.push_back(value);
    }
    validate_values(parsed, hint);
    return parsed;
}

std::string help_text(const ToolSpec& spec) {
    std::string out = "Usage: " + spec.name + " " + spec.synopsis + "\n\n" + spec.description + "\n\nOptions:\n";
    for (const auto& flag : spec.flags) append_flag_help(out, flag);
    out += "\nCommon options:\n";
    for (const auto& flag : common_flags()) append_flag_help(out, flag);
    out += "\nExit codes: 0 success/match, 1 the check said no (mismatch, moved tag), 2 usage error or bad "
           "input,\n            3 registry or network failure, 4 authentication or authorization refused.\n";
    if (!spec.examples.empty()) out += "\nExamples:\n" + spec.examples;
    return out;
}

}  // namespace digestflow::cli
