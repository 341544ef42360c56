// capture-digest: record the manifest digest a build pushed into image-digest.json.
#include "digestflow/capture_sources.hpp"
#include "digestflow/ci_facts.hpp"
#include "digestflow/cli/run.hpp"
#include "digestflow/error.hpp"
#include "digestflow/operations/capture.hpp"
#include "digestflow/text_file.hpp"

using namespace digestflow;

namespace {

const cli::ToolSpec spec{
    "capture-digest",
    "--image REF (--digest D | --from-FORMAT FILE | --resolve) [options]",
    "Records the exact manifest digest a build pushed, in a new image-digest.json artifact. Unless --offline,\n"
    "the registry is asked once to confirm the digest is a manifest in that repository; its media type, size\n"
    "and (for an index) every platform child are recorded. An image ID (config digest) is refused.",
    {
        {"image", "REF", "the pushed image: registry/repository[:tag][@digest] (a digest here counts as --digest)"},
        {"digest", "DIGEST", "the manifest digest, e.g. from `docker push` output"},
        {"from-buildx-metadata", "FILE", "docker buildx build/bake --metadata-file output"},
        {"from-digest-file", "FILE", "buildah/podman/skopeo/kaniko --digestfile output"},
        {"from-push-output", "FILE", "a saved `docker push` log (\"TAG: digest: sha256:... size: N\")"},
        {"from-kaniko-image-refs", "FILE", "kaniko --image-name-with-digest-file (or BUILDER_OUTPUT images)"},
        {"from-jib", "FILE", "jib-image.json written by Jib"},
        {"from-ko-refs", "FILE", "ko --image-refs output"},
        {"resolve", "", "no build-tool output: resolve the tag once at the registry and record its digest"},
        {"offline", "", "record the given digest without asking the registry (marked unverified)"},
        {"commit-author", "TEXT", "the source commit's author, \"Name <email>\" (default: CI_COMMIT_AUTHOR, GitHub's push "
                                  "event, else git log in the current folder)"},
        {"force", "", "replace an existing artifact (by default one for the same image and digest keeps its history "
                      "and gains a capture entry; one for another image is refused)"},
    },
    "  capture-digest --image registry.example.com/team/app:build-42 --from-digest-file digest.txt\n"
    "  capture-digest --image 127.0.0.1:5000/team/app:1.0 --resolve --out image-digest.json\n"};

using FileParser = CapturedDigest (*)(const std::string&, const Reference&);

CapturedDigest read_source(const cli::ParsedArgs& args, const Reference& image, int& sources) {
    static const std::vector<std::pair<std::string, FileParser>> file_sources = {
        {"from-buildx-metadata", digest_from_buildx_metadata},
        {"from-push-output", digest_from_push_output},
        {"from-kaniko-image-refs", digest_from_kaniko_image_refs},
        {"from-jib", digest_from_jib},
        {"from-ko-refs", digest_from_ko_refs},
    };
    std::optional<CapturedDigest> found;
    auto take = [&](CapturedDigest d) { ++sources, found = std::move(d); };
    // The parsers name their input by flag ("--from-jib: ..."); the message names the file too.
    auto from_file = [&](const std::string& flag, const std::string& path, const auto& parse) {
        std::string text = read_text_file(path, flag);
        try {
            take(parse(text));
        } catch (const Error& e) {
            std::string message = e.what();
            if (message.rfind(flag, 0) != 0) throw;
            throw Error(e.kind(), flag + " " + path + message.substr(flag.size()));
        }
    };
    if (auto d = args.value("digest")) take(digest_from_flag(*d));
    if (auto f = args.value("from-digest-file"))
        from_file("--from-digest-file", *f, [](const std::string& text) { return digest_from_digest_file(text); });
    for (const auto& [flag, parse] : file_sources)
        if (auto f = args.value(flag))
            from_file("--" + flag, *f, [&, p = parse](const std::string& text) { return p(text, image); });
    if (!found) throw std::logic_error("read_source called without a source");
    return *found;
}

bool has_file_source(const cli::ParsedArgs& args) {
    for (const char* flag : {"digest", "from-buildx-metadata", "from-digest-file", "from-push-output",
                             "from-kaniko-image-refs", "from-jib", "from-ko-refs"})
        if (args.has(flag)) return true;
    return false;
}

cli::ToolResult run(const cli::ParsedArgs& args) {
    auto image_text = args.value("image");
    if (!image_text) throw_usage("--image REF is required: the repository the build pushed to");
    Reference image = Reference::parse(*image_text);

    std::optional<CapturedDigest> given;
    if (has_file_source(args)) {
        int sources = 0;
        given = read_source(args, image, sources);
        if (sources > 1 || args.has("resolve"))
            throw_usage("name exactly one digest source (--digest, one --from-... file, or --resolve)");
    } else if (!args.has("resolve") && !image.digest) {
        throw_usage("name a digest source: --digest, a --from-... build-tool file, or --resolve");
    }
    if (args.has("resolve") && image.digest) throw_usage("--resolve resolves a tag; --image already carries a digest");

    operations::CaptureRequest request{image, given, args.has("offline"), build_facts_from_environment()};
    const std::string author = args.has("commit-author") ? args.value_or("commit-author", "")
                                                         : operations::commit_author(request.build.value("commit", ""));
    if (!author.empty()) request.build["commitAuthor"] = author;
    std::unique_ptr<registry::RegistryClient> client;
    if (!request.offline) client = std::make_unique<registry::RegistryClient>(args.client_options());
    auto result = operations::capture(client.get(), request);

    std::string out = args.out_path();
    Artifact written = operations::artifact_to_write(out, result.artifact, args.has("force"));
    written.save(out);

    ImageInfo info = result.artifact.image();
    cli::ToolResult tool;
    tool.text = "captured " + info.repository + "@" + info.digest.str();
    if (!info.media_type.empty()) tool.text += " (" + info.media_type + ", " + std::to_string(info.size) + " bytes)";
    if (!info.verified) tool.text += " [offline: not verified at the registry]";
    for (const auto& p : info.platforms)
        tool.text += "\n  platform " + p.os + "/" + p.architecture + (p.variant.empty() ? "" : "/" + p.variant) +
                     " " + p.digest;
    if (out != "-") tool.text += "\nwrote " + out;  // with --out - the artifact is stdout; this goes to stderr
    tool.json = {{"artifact", out}, {"image", written.json()["image"]}, {"requests", result.requests}};
    tool.outputs = ci::image_outputs(info.repository, info.digest.str());
    tool.outputs.push_back({"media-type", "IMAGE_MEDIA_TYPE", info.media_type});
    tool.outputs.push_back({"tag", "IMAGE_TAG", info.tag});
    tool.outputs.push_back({"artifact", "", out});  // a path may hold spaces, which dotenv cannot carry
    tool.summary = "### capture-digest\n\n`" + info.repository + "@" + info.digest.str() + "`" +
                   (info.tag.empty() ? "" : " (built as tag `" + info.tag + "`)") +
                   (info.verified ? "" : " — offline, not verified at the registry") + "\n\n";
    return tool;
}

}  // namespace

int main(int argc, char** argv) { return cli::run_tool(spec, argc, argv, run); }
