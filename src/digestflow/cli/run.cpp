#include "digestflow/cli/run.hpp"

#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/error.hpp"
#include "digestflow/registry/request_counter.hpp"

#include <iostream>

namespace digestflow::cli {
namespace {

// Last line of defence: whatever a message carries, stderr gets one line with no control characters.
std::string printable(const std::string& message) {
    std::string out;
    for (std::size_t i = 0; i < message.size(); ++i) {
        char c = message[i];
        auto byte = static_cast<unsigned char>(c);
        // C0 controls, DEL, and the lead byte of a UTF-8 C1 control (U+0080..U+009F, e.g. CSI).
        bool c1 = byte == 0xC2 && i + 1 < message.size() && static_cast<unsigned char>(message[i + 1]) < 0xA0 &&
                  static_cast<unsigned char>(message[i + 1]) >= 0x80;
        if (byte < 0x20 || byte == 0x7F || c1) {
            const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xF];
            if (c1) {
                auto next = static_cast<unsigned char>(message[++i]);
                out += "\\x";
                out += hex[next >> 4];
                out += hex[next & 0xF];
            }
        } else {
            out += c;
        }
    }
    return out;
}

int report_failure(const ToolSpec& spec, bool json, int code, const std::string& message,
                   const nlohmann::ordered_json* details = nullptr) {
    std::cerr << spec.name << ": error: " << printable(message) << "\n";
    if (json) {
        // Requests made before the failure, by any client (0 when none existed yet).
        nlohmann::ordered_json doc{{"tool", spec.name}, {"exitCode", code}, {"error", message},
                                   {"requests", registry::process_request_count()}};
        if (details)  // what the tool did before it failed (ReportedError)
            for (auto& [key, value] : details->items()) doc[key] = value;
        std::cout << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    }
    return code;
}

}  // namespace

int run_tool(const ToolSpec& spec, int argc, char** argv, const ToolBody& body) {
    // Known before parsing, so that a usage error is reported as JSON too.
    bool json = false;
    for (int i = 1; i < argc; ++i) json = json || std::string(argv[i]) == "--json";
    try {
        ParsedArgs args = parse_args(spec, argc, argv);
        if (args.has("help")) {
            std::cout << help_text(spec);
            return exit_success;
        }
        if (args.has("version")) {
            std::cout << spec.name << " " << DIGESTFLOW_VERSION << "\n";
            return exit_success;
        }
        if (json && args.out_path() == "-")
            throw_usage("--out - and --json both write to stdout; choose one");
        ToolResult result = body(args);
        if (json) {
            nlohmann::ordered_json doc{{"tool", spec.name}, {"exitCode", result.exit_code}};
            for (auto& [key, value] : result.json.items()) doc[key] = value;
            std::cout << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        } else if (!args.quiet() && !result.text.empty()) {
            // stdout is one thing: with --out - it is the artifact alone, and the report goes to stderr.
            std::ostream& report = args.out_path() == "-" ? std::cerr : std::cout;
            report << result.text;
            if (result.text.back() != '\n') report << "\n";
        }
        return result.exit_code;
    } catch (const ReportedError& e) {
        return report_failure(spec, json, exit_code_for(e.kind()), e.what(), &e.details());
    } catch (const Error& e) {
        return report_failure(spec, json, exit_code_for(e.kind()), e.what());
    } catch (const std::exception& e) {
        return report_failure(spec, json, exit_registry, std::string("unexpected failure: ") + e.what());
    }
}

}  // namespace digestflow::cli
