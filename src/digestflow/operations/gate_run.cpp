#include "digestflow/operations/gate_run.hpp"

#include "digestflow/error.hpp"
#include "digestflow/gate/ssh_wire.hpp"
#include "digestflow/gate/sshsig.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/operations/subprocess.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <filesystem>

namespace digestflow::operations {

namespace {

std::string text_at(const nlohmann::ordered_json& object, const char* key) {
    auto it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::optional<std::int64_t> capture_time(const nlohmann::ordered_json& doc) {
    if (auto history = doc.find("history"); history != doc.end() && history->is_array())
        for (const auto& entry : *history)
            if (entry.is_object() && text_at(entry, "step") == "capture")
                if (auto at = ledger::parse_rfc3339(text_at(entry, "at"))) return at;
    if (auto build = doc.find("build"); build != doc.end() && build->is_object())
        if (auto at = ledger::parse_rfc3339(text_at(*build, "at"))) return at;
    return std::nullopt;
}

}  // namespace

gate::GateInputs gate_inputs_of(const Artifact& artifact) {
    gate::GateInputs inputs;
    const ImageInfo image = artifact.image();
    inputs.repository = image.repository;
    inputs.digest = image.digest.str();
    for (const auto& platform : image.platforms) inputs.child_digests.push_back(platform.digest);
    const auto& doc = artifact.json();
    if (auto build = doc.find("build"); build != doc.end() && build->is_object()) {
        inputs.builder = text_at(*build, "by");
        inputs.commit_author = text_at(*build, "commitAuthor");
    }
    inputs.captured_at = capture_time(doc);
    return inputs;
}

GateRun run_gate(const Artifact& artifact, const GateRequest& request) {
    GateRun run;
    run.policy = std::make_unique<gate::Policy>(gate::Policy::load(request.policy_path));
    run.policy->rules_for(request.environment);  // an unknown environment is bad input before anything else
    run.inputs = gate_inputs_of(artifact);
    run.inputs.environment = request.environment;
    run.inputs.deployer = request.deployer;
    run.inputs.now = request.now;
    run.inputs.ledger_path = request.ledger_path;
    run.inputs.evidence = request.evidence;
    if (!request.approvals_dir.empty()) {
        if (run.policy->signers_path().empty())
            throw_usage(request.policy_path + " names no \"signers\" file, so no approval can be checked");
        const gate::AllowedSigners signers = gate::AllowedSigners::load(run.policy->signers_path());
        const gate::ApprovalBinding binding{run.inputs.repository, run.inputs.digest, request.environment,
                                            run.policy->sha256(), request.now};
        for (const std::string& file : gate::approval_files(request.approvals_dir))
            run.inputs.approvals.push_back(gate::check_approval(file, binding, signers));
    }
    run.decision = gate::evaluate(*run.policy, run.inputs);
    return run;
}

nlohmann::ordered_json gate_history_entry(const GateRun& run, bool replay) {
    // "at" is when the gate ran (filled in by append_history); a replay also says the time it evaluated as.
    nlohmann::ordered_json entry{{"step", "gate"}, {"environment", run.inputs.environment},
                                 {"decision", run.decision.allow ? "allow" : "deny"}, {"policy", run.policy->sha256()}};
    nlohmann::ordered_json approvals = nlohmann::ordered_json::array();
    for (const auto* verdict : run.decision.approvals_used)
        approvals.push_back({{"approver", verdict->statement.approver}, {"signature", verdict->signature_sha256}});
    entry["approvals"] = approvals;
    nlohmann::ordered_json evidence = nlohmann::ordered_json::object();
    for (const auto& [name, digest] : run.decision.evidence_digests) evidence[name] = digest;
    entry["evidence"] = evidence;
    if (replay) entry["evaluatedAt"] = ledger::format_rfc3339(run.inputs.now);
    return entry;
}

std::string make_approval(const Artifact& artifact, const ApprovalRequest& request) {
    const gate::Policy policy = gate::Policy::load(request.policy_path);
    policy.rules_for(request.environment);
    if (policy.signers_path().empty())
        throw_usage(request.policy_path + " names no \"signers\" file: an approval under it could never be checked");
    const gate::AllowedSigners signers = gate::AllowedSigners::load(policy.signers_path());
    gate::ApprovalStatement statement;
    const ImageInfo image = artifact.image();
    statement.repository = image.repository;
    statement.digest = image.digest.str();
    statement.environment = request.environment;
    statement.policy = policy.sha256();
    statement.approver = request.identity;
    statement.role = request.role;
    statement.comment = request.comment;
    statement.issued = request.now;
    statement.expires = request.now + request.lifetime;
    const std::string text = statement.to_json();

    ProgramRun sign;
    sign.argv = {"ssh-keygen", "-q", "-Y", "sign", "-f", request.key_path, "-n", gate::k_approval_namespace};
    sign.stdin_text = text;  // signing stdin writes to stdout: no FILE.sig, no overwrite prompt
    sign.timeout = std::chrono::seconds(120);  // a hardware key waits for a touch
    sign.timeout_kind = ErrorKind::Usage;
    sign.install_hint = "; install openssh-client (ssh-keygen signs approvals)";
    const ProgramResult signed_run = run_program(sign);
    if (!signed_run.ok()) {
        std::string why = signed_run.err.substr(0, signed_run.err.find('\n'));
        throw_usage("ssh-keygen -Y sign with " + quote(request.key_path) + " failed (exit " +
                    std::to_string(signed_run.exit_code) + "): " + printable(why));
    }
    gate::SshSignature signature = [&] {
        try {
            return gate::parse_ssh_signature(signed_run.out);
        } catch (const gate::SshFormatError& e) {
            throw_usage(std::string("ssh-keygen wrote no SSH signature: ") + e.what());
        }
    }();
    if (!gate::verify_ssh_signature(signature, text, gate::k_approval_namespace).valid)
        throw_usage("the signature ssh-keygen made does not verify; nothing was written");
    const gate::SignerDecision allowed = signers.check(request.identity, signature.key, gate::k_approval_namespace, request.now);
    if (!allowed.allowed)
        throw_usage("this approval would not count: " + allowed.why + " (add the key to " + policy.signers_path() +
                    " for " + request.identity + ", or sign with the key listed there)");
    return gate::approval_file_text(text, signed_run.out);
}

}  // namespace digestflow::operations
