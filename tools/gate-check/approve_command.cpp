#include "commands.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/error.hpp"
#include "digestflow/gate/duration.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/operations/gate_run.hpp"
#include "digestflow/quote.hpp"

#include <chrono>

namespace digestflow::gate_tool {

std::int64_t now_from(const cli::ParsedArgs& args) {
    if (auto at = args.value("now")) return ledger::parse_time_flag("--now", *at);
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

cli::ToolResult approve(const cli::ParsedArgs& args) {
    for (const char* required : {"policy", "environment", "key", "identity", "out"})
        if (!args.has(required)) throw_usage(std::string("gate-check approve needs --") + required + " (see gate-check approve --help)");
    const Artifact artifact = Artifact::load(args.artifact_path());
    operations::ApprovalRequest request;
    request.policy_path = *args.value("policy");
    request.environment = *args.value("environment");
    request.key_path = *args.value("key");
    request.identity = *args.value("identity");
    request.role = args.value_or("role", "");
    request.comment = args.value_or("comment", "");
    request.now = now_from(args);
    const std::string lifetime = args.value_or("expires", "72h");
    const auto seconds = gate::parse_duration(lifetime);
    constexpr std::int64_t k_max_lifetime = 366 * 86400;  // an approval is for a release, not for ever
    if (!seconds || *seconds == 0 || *seconds > k_max_lifetime)
        throw_usage("--expires " + quote(lifetime) + ": give a duration from 1s to 366d, such as 72h or 7d");
    request.lifetime = *seconds;
    const std::string text = operations::make_approval(artifact, request);
    const std::string out = *args.value("out");
    if (out == "-") throw_usage("--out -: write the approval to a file (it goes into the --approvals folder)");
    write_file_atomically(out, text);
    cli::ToolResult tool;
    const auto image = artifact.image();
    tool.text = "approved " + image.repository + "@" + image.digest.str() + " for " + request.environment + " as " +
                request.identity + (request.role.empty() ? "" : " (" + request.role + ")") + ", until " +
                ledger::format_rfc3339(request.now + request.lifetime) + ": " + out + "\n";
    tool.json = {{"approval", out}, {"approver", request.identity}, {"environment", request.environment},
                 {"digest", image.digest.str()}, {"expires", ledger::format_rfc3339(request.now + request.lifetime)}};
    return tool;
}

}  // namespace

const Command& approve_command() {
    static const Command command{
        "approve",
        {"gate-check approve",
         "--artifact FILE --policy FILE --environment ENV --key KEY --identity PRINCIPAL --out FILE",
         "Writes an approval of the artifact's digest for ENV under the policy: a small JSON statement bound to\n"
         "{repository, digest, environment, policy sha256, role, issued, expires, approver}, signed with\n"
         "`ssh-keygen -Y sign -n digestflow-approval` (so ssh-agent and hardware keys work: --key may be a public\n"
         "key whose private half is in the agent). Refused when the policy's signers file does not allow the key\n"
         "for PRINCIPAL, since such an approval would count for nothing. Put the file in the folder the gate reads\n"
         "with --approvals.",
         {
             {"policy", "FILE", "the policy the approval is given under (its sha256 is bound in)"},
             {"environment", "ENV", "the environment approved"},
             {"key", "KEY", "the SSH key to sign with (~/.ssh/id_ed25519, or its .pub with ssh-agent)"},
             {"identity", "PRINCIPAL", "who approves, as the signers file names them (alice@example.com)"},
             {"role", "ROLE", "the role approved in, for rules that ask for one (security-review)"},
             {"comment", "TEXT", "a note kept in the statement"},
             {"expires", "DURATION", "how long the approval counts (default 72h)"},
             {"now", "TIME", "sign as if at TIME (RFC 3339), for tests and replays"},
         },
         "  gate-check approve --artifact image-digest.json --policy gate-policy.json --environment production \\\n"
         "      --key ~/.ssh/id_ed25519 --identity alice@example.com --out approvals/alice.json\n"},
        approve};
    return command;
}

}  // namespace digestflow::gate_tool
