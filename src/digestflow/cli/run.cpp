#include "digestflow/cli/run.hpp"

#include "digestflow/ci/dotenv.hpp"
#include "digestflow/ci/github.hpp"
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
    if (ci::on_github_actions()) std::cerr << ci::annotation("error", spec.name, message);
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

// Hands the result to the CI platform; returns the exit code (exit_usage when outputs could not be delivered).
int deliver_to_ci(const ToolSpec& spec, const ParsedArgs& args, const ToolResult& result) {
    if (auto dotenv = args.value("dotenv")) ci::write_dotenv(*dotenv, result.outputs);
    if (!ci::on_github_actions()) return result.exit_code;
    if (!result.outputs.empty())
        ci::append_to_variable_file("GITHUB_OUTPUT", ci::github_output_text(result.outputs, ci::random_delimiter()));
    if (!result.summary.empty()) {
        try {
            ci::append_to_variable_file("GITHUB_STEP_SUMMARY", result.summary);
        } catch (const Error& e) {  // the result stands; the summary table is missing, which readers must hear
            std::cerr << spec.name << ": warning: " << printable(e.what()) << "\n";
        }
    }
    if (result.exit_code != exit_success && !result.failure.empty())
        std::cerr << ci::annotation("error", spec.name, result.failure);
    return result.exit_code;
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
        // What the tool did is reported even when its outputs could not be handed on.
        std::string undelivered;
        try {
            result.exit_code = deliver_to_ci(spec, args, result);
        } catch (const Error& e) {
            undelivered = e.what();
            result.exit_code = exit_usage;
        }
        if (json) {
            nlohmann::ordered_json doc{{"tool", spec.name}, {"exitCode", result.exit_code}};
            for (auto& [key, value] : result.json.items()) doc[key] = value;
            if (!undelivered.empty()) doc["error"] = undelivered;
            std::cout << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
        } else if (!args.quiet() && !result.text.empty()) {
            // stdout is one thing: with --out - it is the artifact alone, and the report goes to stderr.
            std::ostream& report = args.out_path() == "-" ? std::cerr : std::cout;
            report << result.text;
            if (result.text.back() != '\n') report << "\n";
        }
        if (!undelivered.empty()) {
            std::cerr << spec.name << ": error: " << printable(undelivered) << "\n";
            if (ci::on_github_actions()) std::cerr << ci::annotation("error", spec.name, undelivered);
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
