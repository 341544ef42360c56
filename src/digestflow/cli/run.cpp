#include "digestflow/cli/run.hpp"

#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/error.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/registry/request_counter.hpp"

#include <iostream>

namespace digestflow::cli {
namespace {

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
