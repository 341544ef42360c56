#include "registry_commands.hpp"

#include "ledger_flags.hpp"

#include "digestflow/error.hpp"
#include "digestflow/ledger/entry.hpp"
#include "digestflow/ledger/recording.hpp"
#include "digestflow/quote.hpp"
#include "digestflow/reference.hpp"
#include "digestflow/registry/client.hpp"

namespace digestflow::record_tool {

operations::AttachedEntry attach_line(const cli::ParsedArgs& args, const ImageInfo& image,
                                      const std::string& environment, const std::string& line) {
    registry::RegistryClient client(args.client_options());
    // Media type and size unknown (an offline capture): attach_entry asks the registry.
    Descriptor subject{image.media_type, image.digest, image.size, std::nullopt, ""};
    return operations::attach_entry(client, Reference::parse(image.repository), subject, environment, line);
}

cli::ToolResult registry_history(const cli::ParsedArgs& args) {
    for (const char* other : {"ledger", "digest", "at", "since", "until"})
        if (args.has(other))
            throw_usage("--registry reads the entries attached in the registry alone: drop --" + std::string(other));
    const std::string text = *args.value("registry");
    Reference image = Reference::parse(text);
    if (!image.digest)
        throw_usage("--registry " + quote(text) + " names no digest: give REPOSITORY@DIGEST (a tag is never resolved here)");
    const std::string env = environment(args, true);
    registry::RegistryClient client(args.client_options());
    auto attached = operations::attached_entries(client, image);

    cli::ToolResult tool;
    tool.json["registry"] = image.with_digest(*image.digest).str();
    tool.json["entries"] = nlohmann::ordered_json::array();
    for (const auto& found : attached) {
        ledger::Entry entry = ledger::parse_line(found.line, "the entry attached as " + found.manifest.str());
        if (!env.empty() && entry.environment != env) continue;
        auto doc = entry_json(0, ledger::line_hash(found.line), found.line);
        doc.erase("line");
        doc["artifact"] = found.manifest.str();
        doc["foundThrough"] = found.how;
        tool.json["entries"].push_back(std::move(doc));
        tool.text += printable(entry.at + "  " + ledger::describe(entry) + (entry.by.empty() ? "" : "  by " + entry.by)) +
                     "  [" + found.manifest.str() + "]\n";
    }
    if (tool.json["entries"].empty())
        tool.text = "no deployment entries" + (env.empty() ? std::string() : " for " + env) + " are attached to " +
                    tool.json["registry"].get<std::string>();
    else
        tool.text += "(found through the " + attached.front().how + ")";
    return tool;
}

}  // namespace digestflow::record_tool
