#include "digestflow/operations/git_porcelain.hpp"

#include <functional>

namespace digestflow::operations {
namespace {

void for_each_line(std::string_view text, const std::function<void(std::string_view)>& each) {
    while (!text.empty()) {
        const std::size_t end = text.find_first_of("\r\n");
        each(text.substr(0, end));
        if (end == std::string_view::npos)
            break;
        text.remove_prefix(end + 1);
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

}  // namespace

std::vector<PushRefStatus> parse_push_porcelain(std::string_view out) {
    std::vector<PushRefStatus> statuses;
    for_each_line(out, [&](std::string_view line) {
        // "<flag>\t<from>:<to>\t<summary>": the flag is one character, then a tab.
        if (line.size() < 3 || line[1] != '\t')
            return;
        const std::size_t second_tab = line.find('\t', 2);
        if (second_tab == std::string_view::npos)
            return;
        const std::string_view refs = line.substr(2, second_tab - 2);
        const std::size_t colon = refs.rfind(':');
        if (colon == std::string_view::npos)
            return;
        PushRefStatus status;
        status.flag = line[0];
        status.from = std::string(refs.substr(0, colon));
        status.to = std::string(refs.substr(colon + 1));
        std::string_view summary = trim(line.substr(second_tab + 1));
        if (!summary.empty() && summary.back() == ')') {
            const std::size_t open = summary.rfind(" (");
            if (open != std::string_view::npos) {
                status.reason = std::string(summary.substr(open + 2, summary.size() - open - 3));
                summary = trim(summary.substr(0, open));
            }
        }
        status.summary = std::string(summary);
        statuses.push_back(std::move(status));
    });
    return statuses;
}

PushVerdict push_verdict(const std::vector<PushRefStatus>& statuses, std::string_view to_ref) {
    for (const PushRefStatus& status : statuses) {
        if (status.to != to_ref)
            continue;
        if (status.flag == ' ' || status.flag == '*')
            return PushVerdict::Landed;
        // "You are behind": a plain "[rejected]" (fetch first / non-fast-forward) when the remote had moved
        // before our push started, "[remote rejected] (failed to update ref)" when another push landed between
        // the remote's advertisement and our update (receive-pack: "cannot lock ref ... is at X but expected
        // Y"; observed with git 2.39.5). Any other "[remote rejected]" is the remote's policy (a hook, a
        // protected branch): retrying cannot change it.
        if (status.flag == '!' && status.summary == "[rejected]" &&
            (status.reason == "fetch first" || status.reason == "non-fast-forward"))
            return PushVerdict::Behind;
        if (status.flag == '!' && status.summary == "[remote rejected]" && status.reason == "failed to update ref")
            return PushVerdict::Behind;
        return PushVerdict::Refused;
    }
    return PushVerdict::Refused;
}

std::string redact_url_credentials(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t scheme_end = text.find("://", i);
        if (scheme_end == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        const std::size_t authority = scheme_end + 3;
        out.append(text.substr(i, authority - i));
        // git takes the userinfo up to the last '@' before the first '/': so does this (a password may hold '#',
        // '?', '@' or a quote). Stopping only at '/' or a space redacts too much at worst, never too little.
        std::size_t end = authority;
        while (end < text.size() && std::string_view("/ \t\r\n").find(text[end]) == std::string_view::npos)
            ++end;
        const std::string_view host_part = text.substr(authority, end - authority);
        const std::size_t at = host_part.rfind('@');
        if (at != std::string_view::npos) {
            out.append("***");
            out.append(host_part.substr(at));
        } else {
            out.append(host_part);
        }
        i = end;
    }
    return out;
}

std::string remote_lines(std::string_view err) {
    std::string joined;
    for_each_line(err, [&](std::string_view line) {
        if (!line.starts_with("remote:"))
            return;
        const std::string_view words = trim(line.substr(7));
        if (words.empty())
            return;
        if (!joined.empty())
            joined += " / ";
        joined += words;
    });
    return joined;
}

std::string last_error_line(std::string_view err) {
    std::string last_error;
    std::string last_any;
    for_each_line(err, [&](std::string_view line) {
        const std::string_view t = trim(line);
        if (t.empty())
            return;
        last_any = std::string(t);
        if (t.starts_with("fatal:") || t.starts_with("error:"))
            last_error = std::string(t);
    });
    return last_error.empty() ? last_any : last_error;
}

}  // namespace digestflow::operations
