#include "digestflow/gate/approval.hpp"

#include "digestflow/base64.hpp"
#include "digestflow/digest.hpp"
#include "digestflow/error.hpp"
#include "digestflow/gate/ssh_wire.hpp"
#include "digestflow/gate/sshsig.hpp"
#include "digestflow/json_input.hpp"
#include "digestflow/ledger/timestamp.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/text_file.hpp"

#include <algorithm>
#include <filesystem>

namespace digestflow::gate {

namespace {

using nlohmann::ordered_json;

constexpr std::size_t k_max_approval_bytes = 64 * 1024;
constexpr const char* k_statement_type = "digestflow-approval/v1";

std::string string_member(const ordered_json& object, const char* key, const std::string& origin, bool required = true) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) {
        if (required) throw_usage(origin + ": \"" + key + "\" is missing (not a digestflow approval?)");
        return "";
    }
    if (!it->is_string()) throw_usage(origin + ": \"" + key + "\" must be a string");
    return it->get<std::string>();
}

std::int64_t time_member(const ordered_json& object, const char* key, const std::string& origin) {
    const std::string text = string_member(object, key, origin);
    const auto seconds = ledger::parse_rfc3339(text);
    if (!seconds) throw_usage(origin + ": \"" + key + "\" " + quote(text) + " is not an RFC 3339 time");
    return *seconds;
}

}  // namespace

std::string ApprovalStatement::to_json() const {
    ordered_json out{{"type", k_statement_type}, {"repository", repository}, {"digest", digest},
                     {"environment", environment}, {"policy", policy}, {"approver", approver}};
    if (!role.empty()) out["role"] = role;
    if (!comment.empty()) out["comment"] = comment;
    out["issued"] = ledger::format_rfc3339(issued);
    out["expires"] = ledger::format_rfc3339(expires);
    return out.dump();
}

ApprovalStatement ApprovalStatement::from_json(std::string_view text, const std::string& origin) {
    const ordered_json document = parse_json_input(text, {origin + ", its statement", "", false});
    if (!document.is_object()) throw_usage(origin + ": the statement is not a JSON object");
    if (string_member(document, "type", origin) != k_statement_type)
        throw_usage(origin + ": the statement's type is not " + std::string(k_statement_type));
    ApprovalStatement out;
    out.repository = string_member(document, "repository", origin);
    out.digest = string_member(document, "digest", origin);
    out.environment = string_member(document, "environment", origin);
    out.policy = string_member(document, "policy", origin);
    out.approver = string_member(document, "approver", origin);
    out.role = string_member(document, "role", origin, false);
    out.comment = string_member(document, "comment", origin, false);
    out.issued = time_member(document, "issued", origin);
    out.expires = time_member(document, "expires", origin);
    return out;
}

std::string approval_file_text(const std::string& statement_text, const std::string& armored_signature) {
    ordered_json out{{"digestflowApproval", 1}, {"statement", statement_text}, {"signature", armored_signature}};
    return out.dump(2) + "\n";
}

ApprovalVerdict check_approval(const std::string& path, const ApprovalBinding& binding, const AllowedSigners& signers) {
    InputFileOptions options;
    options.max_bytes = k_max_approval_bytes;
    const ordered_json file = parse_json_input(read_text_file(path, "approval", options), {path, " (an approval written by gate-check approve)", false});
    if (!file.is_object() || !file.contains("digestflowApproval"))
        throw_usage(path + ": not a digestflow approval (no \"digestflowApproval\" member); write approvals with gate-check approve");
    if (!file["digestflowApproval"].is_number_integer() || file["digestflowApproval"].get<std::int64_t>() != 1)
        throw_usage(path + ": digestflowApproval " + file["digestflowApproval"].dump() +
                    " is not version 1 (written by a newer digestflow?): this one reads version 1 only");
    ApprovalVerdict verdict;
    verdict.file = path;
    const std::string statement_text = string_member(file, "statement", path);
    verdict.statement = ApprovalStatement::from_json(statement_text, path);
    SshSignature signature = [&] {
        try {
            return parse_ssh_signature(string_member(file, "signature", path));
        } catch (const SshFormatError& e) {
            throw_usage(path + ": the signature is not an SSH signature: " + e.what());
        }
    }();
    verdict.key_fingerprint = signature.key.fingerprint();
    std::string blob_for_hash = signature.signature;
    verdict.signature_sha256 = Digest::of(blob_for_hash).str();
    const ApprovalStatement& s = verdict.statement;
    auto refuse = [&](std::string why) {
        verdict.why = std::move(why);
        return verdict;
    };
    const SignatureCheck checked = verify_ssh_signature(signature, statement_text, k_approval_namespace);
    if (!checked.valid) return refuse("signature: " + checked.why);
    if (s.digest != binding.digest) return refuse("it approves " + s.digest + ", not " + binding.digest);
    if (s.repository != binding.repository) return refuse("it approves repository " + s.repository + ", not " + binding.repository);
    if (s.environment != binding.environment) return refuse("it approves environment " + s.environment + ", not " + binding.environment);
    if (s.policy != binding.policy) return refuse("it was given under policy " + s.policy + ", not this one (" + binding.policy + ")");
    if (s.expires < s.issued) return refuse("it expires before it was issued");
    if (binding.now > s.expires) return refuse("it expired at " + ledger::format_rfc3339(s.expires));
    if (binding.now < s.issued) return refuse("it is issued in the future (" + ledger::format_rfc3339(s.issued) + ")");
    const SignerDecision signer = signers.check(s.approver, signature.key, k_approval_namespace, binding.now);
    if (!signer.allowed) return refuse(signer.why);
    verdict.valid = true;
    return verdict;
}

std::vector<std::string> approval_files(const std::string& dir) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw_usage("--approvals " + quote(dir) + " is not a directory: give the folder holding the approval files");
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".json") continue;
        std::error_code type_error;
        if (!std::filesystem::is_regular_file(entry.status(type_error)))  // a link is followed: what it names counts
            throw_usage(quote(entry.path().string()) + " in --approvals is not a regular file: remove it, or put approval "
                        "files only in that folder");
        out.push_back(entry.path().string());
    }
    if (ec) throw_usage("--approvals " + quote(dir) + ": cannot list it: " + ec.message());
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace digestflow::gate
