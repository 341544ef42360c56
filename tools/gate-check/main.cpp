// gate-check: may this digest be promoted to this environment? `gate-check` evaluates the policy's rules;
// `gate-check approve` writes an SSH-signed approval.
#include "commands.hpp"

#include "digestflow/quote.hpp"

#include <iostream>

using namespace digestflow;

int main(int argc, char** argv) {
    if (argc > 1 && argv[1][0] != '-') {
        const auto& approve = gate_tool::approve_command();
        if (approve.word == argv[1]) return cli::run_tool(approve.spec, argc - 1, argv + 1, approve.body);
        std::cerr << "gate-check: error: unknown command " << quote(std::string(argv[1]).substr(0, 40))
                  << ": the only command is approve (run gate-check --help)\n";
        return 2;
    }
    const auto& evaluate = gate_tool::evaluate_command();
    return cli::run_tool(evaluate.spec, argc, argv, evaluate.body);
}
