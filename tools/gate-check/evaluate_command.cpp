#include "commands.hpp"

#include "digestflow/artifact.hpp"
#include "digestflow/ci/markdown.hpp"
#include "digestflow/cli/exit_codes.hpp"
#include "digestflow/error.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/operations/gate_run.hpp"
#include "digestflow/quote.hpp"

#include <cstdlib>
#include <iostream>
#include <set>

namespace digestflow::gate_tool {

namespace {

std::map<std::string, std::string> evidence_flags(const cli::ParsedArgs& args) {
    std::map<std::string, std::string> out;
    for (const std::string& value : args.values("evidence")) {
        const auto eq = value.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == value.size())
            throw_usage("--evidence " + quote(value) + ": write NAME=FILE, NAME as the policy's check rule names it");
        if (!out.emplace(value.substr(0, eq), value.substr(eq + 1)).second)
            throw_usage("--evidence " + quote(value.substr(0, eq)) + " given twice: give one file per check");
    }
    return out;
}

void refuse_unused_evidence(const operations::GateRun& run, const std::string& environment) {
    std::set<std::string> checks;
    for (const auto& rule : run.policy->rules_for(environment))
        if (rule.type == gate::Rule::Type::Check) checks.insert(rule.name);
    for (const auto& [name, file] : run.inputs.evidence)
        if (!checks.count(name))
            throw_usage("--evidence " + quote(name) + ": the policy has no check named so for " + environment +
                        " (a typo would leave the evidence unread)");
}

// Markdown for $GITHUB_STEP_SUMMARY: one row per rule.
std::string summary_markdown(const operations::GateRun& run) {
    std::string out = "### gate-check " + run.inputs.environment + ": " + (run.decision.allow ? "allow" : "**deny**") +
                      "\n\n`" + run.inputs.repository + "@" + run.inputs.digest + "`, policy `" + run.policy->sha256() +
                      "`\n\n| rule | result | why |\n|---|---|---|\n";
    for (const auto& r : run.decision.results)
        out += "| " + std::string(gate::rule_type_name(r.rule->type)) + " | " + (r.pass ? "pass" : "**fail**") + " | " +
               ci::markdown_cell(r.reason) + " |\n";
    return out + "\n";
}

cli::ToolResult evaluate(const cli::ParsedArgs& args) {
    for (const char* required : {"policy", "environment"})
        if (!args.has(required)) throw_usage(std::string("gate-check needs --") + required + " (see gate-check --help)");
    Artifact artifact = Artifact::load(args.artifact_path());
    operations::GateRequest request;
    request.policy_path = *args.value("policy");
    request.environment = *args.value("environment");
    request.approvals_dir = args.value_or("approvals", "");
    request.ledger_path = args.value_or("ledger", "");
    request.evidence = evidence_flags(args);
    request.deployer = args.value_or("deployer", current_actor());
    if (args.has("deployer") && request.deployer.find_first_not_of(" \t") == std::string::npos)
        throw_usage("--deployer is empty: name who runs the gate (an unset CI variable?)");
    request.now = now_from(args);
    const operations::GateRun run = operations::run_gate(artifact, request);
    refuse_unused_evidence(run, request.environment);

    cli::ToolResult tool;
    tool.json = {{"environment", request.environment}, {"decision", run.decision.allow ? "allow" : "deny"},
                 {"digest", run.inputs.digest}, {"policy", run.policy->sha256()}, {"at", ledger::format_rfc3339(request.now)},
                 {"rules", nlohmann::ordered_json::array()}};
    std::size_t passed = 0;
    for (const auto& r : run.decision.results) {
        passed += r.pass ? 1 : 0;
        const std::string name = gate::rule_type_name(r.rule->type);
        tool.text += std::string(r.pass ? "pass  " : "FAIL  ") + name + ": " + printable(r.reason) + "\n";
        tool.json["rules"].push_back({{"rule", name}, {"path", r.rule->path}, {"pass", r.pass}, {"reason", r.reason},
                                      {"details", r.details}});
    }
    tool.text += std::string(run.decision.allow ? "ALLOW " : "DENY  ") + request.environment + ": " +
                 std::to_string(passed) + " of " + std::to_string(run.decision.results.size()) + " rules pass (" +
                 run.inputs.repository + "@" + run.inputs.digest + ", policy " + run.policy->sha256() + ")\n";
    if (!args.has("dry-run")) {
        artifact.append_history(operations::gate_history_entry(run, args.has("now")));
        artifact.save(args.out_path());
    }
    tool.exit_code = run.decision.allow ? cli::exit_success : cli::exit_check_failed;
    tool.outputs = ci::image_outputs(run.inputs.repository, run.inputs.digest);
    tool.outputs.push_back({"decision", "GATE_DECISION", run.decision.allow ? "allow" : "deny"});
    tool.outputs.push_back({"environment", "GATE_ENVIRONMENT", request.environment});
    tool.outputs.push_back({"policy", "GATE_POLICY", run.policy->sha256()});
    tool.summary = summary_markdown(run);
    for (const auto& r : run.decision.results)
        if (!r.pass) {
            tool.failure = "denied for " + request.environment + ": " + gate::rule_type_name(r.rule->type) + ": " + r.reason;
            break;
        }
    return tool;
}

}  // namespace

const Command& evaluate_command() {
    static const Command command{
        "",
        {"gate-check",
         "--artifact FILE --policy FILE --environment ENV [--approvals DIR] [--ledger FILE] [--evidence NAME=FILE]...",
         "Decides whether the artifact's digest may be promoted to ENV: evaluates every rule the policy requires\n"
         "for ENV (promoted-from, approvals, check, window, age) and prints one line per rule with the reason,\n"
         "then ALLOW or DENY. Every rule is evaluated even after one fails. Appends a \"gate\" entry to the\n"
         "artifact's history (environment, decision, policy sha256, approvals used, evidence digests) unless\n"
         "--dry-run, and a Markdown table to $GITHUB_STEP_SUMMARY when it is set.\n"
         "Exit 0 allow, 1 deny, 2 a bad policy, approval, evidence or artifact file.",
         {
             {"policy", "FILE", "the policy (JSON, schema/gate-policy.schema.json)"},
             {"environment", "ENV", "the environment to promote to"},
             {"approvals", "DIR", "the folder of approval files (every *.json in it)"},
             {"ledger", "FILE", "the deployment ledger record writes (for promoted-from)"},
             {"evidence", "NAME=FILE", "the file a check rule named NAME reads (Trivy, Grype or a result)", true},
             {"deployer", "NAME", "who runs the gate (default: $GITLAB_USER_LOGIN, $GITHUB_ACTOR or $USER)"},
             {"now", "TIME", "evaluate as if at TIME (RFC 3339): replay a decision"},
             {"dry-run", "", "evaluate and print; write nothing"},
         },
         "  gate-check --artifact image-digest.json --policy gate-policy.json --environment production \\\n"
         "      --approvals approvals/ --ledger deployments.jsonl --evidence trivy=trivy.json\n"},
        evaluate};
    return command;
}

}  // namespace digestflow::gate_tool
