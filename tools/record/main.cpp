// record: the deployment ledger by digest. `record` appends a deployment; the words after it name the other
// commands (history, verify, rollback-target, incident, hold, release, repair, pin), each with its own --help.
#include "commands.hpp"

#include "digestflow/cli/run.hpp"
#include "digestflow/quote.hpp"

#include <array>
#include <iostream>
#include <string>

using namespace digestflow;

int main(int argc, char** argv) {
    const std::array<const record_tool::Command*, 9> commands{
        &record_tool::append_command(),   &record_tool::history_command(), &record_tool::verify_command(),
        &record_tool::rollback_target_command(), &record_tool::incident_command(), &record_tool::hold_command(),
        &record_tool::release_command(),  &record_tool::repair_command(), &record_tool::pin_command()};
    if (argc > 1 && argv[1][0] != '-') {
        for (const auto* command : commands)
            if (!command->word.empty() && command->word == argv[1])
                return cli::run_tool(command->spec, argc - 1, argv + 1, command->body);
        std::cerr << "record: error: unknown command " << quote(std::string(argv[1]).substr(0, 40))
                  << ": use history, verify, rollback-target, incident, hold, release, repair or pin (run record --help)\n";
        return 2;
    }
    return cli::run_tool(commands[0]->spec, argc, argv, commands[0]->body);
}
