// record pin and verify-digest --manifest as black boxes, judged by the real tools: kubectl kustomize renders
// the pinned kustomization, docker-compose reads the pinned compose file, git keeps one commit per pin, patch
// applies the --dry-run diff; and every real GitOps file in the corpus is either pinned on its image lines only
// or left byte-identical.
#include "support/process.hpp"
#include "support/temp_dir.hpp"
#include "tools.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

using namespace digestflow::testsupport;
namespace fs = std::filesystem;

namespace {

const std::string repo = "localhost:5000/team/web";
const std::string digest = "sha256:" + std::string(60, 'e') + "1234";
const std::string other = "sha256:" + std::string(64, 'f');

std::string artifact_for(const TempDir& dir, const std::string& image, const std::string& d, const std::string& name) {
    const std::string path = dir.file(name);
    const RunResult r = run_tool("capture-digest", {"--image", image, "--digest", d, "--offline", "--out", path});
    EXPECT_EQ(r.exit_code, 0) << r.describe();
    return path;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto nl = text.find('\n', at);
        const std::size_t end = nl == std::string::npos ? text.size() : nl + 1;
        out.push_back(text.substr(at, end - at));
        at = end;
    }
    return out;
}

// Every line a pin changed now carries the digest; the only line it may add is a kustomize entry's `digest:`.
void expect_only_image_lines_changed(const std::string& original, const std::string& after, const std::string& d) {
    const auto a = lines_of(original), b = lines_of(after);
    const bool kustomize_added = b.size() == a.size() + 1;
    ASSERT_TRUE(b.size() == a.size() || kustomize_added) << after;
    std::size_t j = 0;
    for (std::size_t i = 0; i < a.size(); ++i, ++j) {
        if (a[i] == b[j]) continue;
        if (kustomize_added && b[j].find("digest: " + d) != std::string::npos && j + 1 < b.size() && a[i] == b[j + 1]) {
            ++j;
            continue;
        }
        EXPECT_NE(b[j].find(d), std::string::npos) << "changed a line that is not an image value:\n" << a[i] << b[j];
    }
}

RunResult git(const std::string& dir, std::vector<std::string> args) {
    args.insert(args.begin(), {"git", "-C", dir});
    return run_command(args);
}

void init_repo(const std::string& dir) {
    ASSERT_TRUE(git(dir, {"init", "-q"}).ok());
    git(dir, {"config", "user.email", "t@example.invalid"});
    git(dir, {"config", "user.name", "t"});
    git(dir, {"config", "commit.gpgsign", "false"});
}

class PinTest : public ::testing::Test {
protected:
    TempDir dir{"digestflow-pin"};
    std::string artifact = artifact_for(dir, repo + ":1.4", digest, "image-digest.json");
};

TEST_F(PinTest, KubectlKustomizeRendersThePinnedDigest) {
    const std::string k = dir.path() + "/k";
    fs::create_directories(k);
    write_text_file(k + "/kustomization.yaml",
                    "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n"
                    "images:\n- name: " + repo + "\n  newTag: \"1.4\" # the release\n");
    write_text_file(k + "/deployment.yaml",
                    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n"
                    "  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      initContainers:\n      - name: migrate\n"
                    "        image: " + repo + ":0.9\n      containers:\n      - name: web\n        image: " + repo + "\n");
    const RunResult pinned = run_tool("record", {"pin", "--artifact", artifact, k + "/kustomization.yaml"});
    ASSERT_EQ(pinned.exit_code, 0) << pinned.describe();
    EXPECT_EQ(read_text_file(k + "/kustomization.yaml"),
              "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n"
              "images:\n- name: " + repo + "\n  digest: \"" + digest + "\" # the release\n");
    const RunResult rendered = run_command({"kubectl", "kustomize", k});
    ASSERT_EQ(rendered.exit_code, 0) << rendered.describe();
    std::regex image_line("image: (\\S+)");
    std::set<std::string> images;
    for (std::sregex_iterator it(rendered.stdout_text.begin(), rendered.stdout_text.end(), image_line), end; it != end; ++it)
        images.insert((*it)[1]);
    EXPECT_EQ(images, std::set<std::string>{repo + "@" + digest}) << rendered.stdout_text;
    // The rendered output is what verify-digest --manifest - reads.
    RunOptions piped;
    piped.stdin_text = rendered.stdout_text;
    const RunResult verified = run_command({std::string(DIGESTFLOW_TOOLS_DIR) + "/verify-digest/verify-digest", "--artifact",
                                            artifact, "--no-record", "--manifest", "-"}, piped);
    EXPECT_EQ(verified.exit_code, 0) << verified.describe();
    EXPECT_NE(verified.stdout_text.find("stdin:"), std::string::npos) << verified.stdout_text;
}

TEST_F(PinTest, DockerComposeReadsThePinnedFile) {
    const std::string file = dir.file("compose.yaml");
    const std::string text = "x-web: &web\n  image: " + repo + ":1.4 # shared\n  restart: always\nservices:\n"
                             "  api:\n    <<: *web\n  worker:\n    <<: *web\n    command: [\"--image\", \"" + repo + ":1.4\"]\n"
                             "  cron:\n    image: \"" + repo + ":1.3\"\n  db:\n    image: postgres:16\n";
    write_text_file(file, text);
    const RunResult pinned = run_tool("record", {"pin", "--artifact", artifact, file});
    ASSERT_EQ(pinned.exit_code, 0) << pinned.describe();
    const std::string after = read_text_file(file);
    const auto before_lines = lines_of(text), after_lines = lines_of(after);
    ASSERT_EQ(before_lines.size(), after_lines.size());
    int changed = 0;
    for (std::size_t i = 0; i < before_lines.size(); ++i)
        if (before_lines[i] != after_lines[i]) {
            ++changed;
            EXPECT_NE(after_lines[i].find(repo + "@" + digest), std::string::npos) << after_lines[i];
        }
    EXPECT_EQ(changed, 2);  // the anchor's line once, and cron's
    const RunResult config = run_command({"docker-compose", "-f", file, "config"});
    ASSERT_EQ(config.exit_code, 0) << config.describe();
    std::size_t count = 0;
    for (std::size_t at = 0; (at = config.stdout_text.find("image: " + repo + "@" + digest, at)) != std::string::npos; ++at) ++count;
    EXPECT_EQ(count, 3u) << config.stdout_text;
    EXPECT_NE(config.stdout_text.find("image: postgres:16"), std::string::npos);
    EXPECT_NE(config.stdout_text.find(repo + ":1.4"), std::string::npos) << "the command argument must stay";
}

TEST_F(PinTest, DryRunDiffAppliesWithPatchAndWritesNothing) {
    const std::string file = dir.file("web.yaml");
    const std::string text = "apiVersion: v1\r\nkind: Pod\r\nmetadata:\r\n  name: p\r\nspec:\r\n  containers:\r\n"
                             "  - name: a # first\r\n    image: '" + repo + ":1.4'\r\n  - name: b\r\n    image: " + repo +
                             "@" + other + "\r\n";
    write_text_file(file, text);
    // Run from the folder with a relative name, as a user would: the labels are a/web.yaml and b/web.yaml.
    RunOptions here;
    here.working_dir = dir.path();
    const RunResult dry =
        run_command({std::string(DIGESTFLOW_TOOLS_DIR) + "/record/record", "pin", "--artifact", artifact, "--dry-run", "web.yaml"}, here);
    ASSERT_EQ(dry.exit_code, 0) << dry.describe();
    EXPECT_EQ(read_text_file(file), text);
    EXPECT_NE(dry.stdout_text.find("moved from " + other), std::string::npos) << dry.stdout_text;
    const std::string diff = dry.stdout_text.substr(dry.stdout_text.find("--- "));
    const std::string patch_text = diff.substr(0, diff.find("dry run:"));
    RunOptions in_dir;
    in_dir.stdin_text = patch_text;
    in_dir.working_dir = dir.path();
    const RunResult patched = run_command({"patch", "-p1", "--binary", "-s"}, in_dir);
    ASSERT_EQ(patched.exit_code, 0) << patched.describe() << patch_text;
    const std::string via_patch = read_text_file(file);
    write_text_file(file, text);
    ASSERT_EQ(run_tool("record", {"pin", "--artifact", artifact, file}).exit_code, 0);
    EXPECT_EQ(read_text_file(file), via_patch);
    EXPECT_NE(via_patch.find("image: '" + repo + "@" + digest + "'\r\n"), std::string::npos);
}

TEST_F(PinTest, CommitMakesOneCommitAndGitLogShowsTheDigestHistory) {
    const std::string g = dir.path() + "/g";
    fs::create_directories(g);
    init_repo(g);
    const std::string file = g + "/deploy.yaml";
    write_text_file(file, "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: " + repo + ":1.4\n");
    git(g, {"add", "deploy.yaml"});
    ASSERT_TRUE(git(g, {"commit", "-qm", "by tag"}).ok());
    const std::string ledger = dir.file("ledger.jsonl");

    const RunResult first = run_tool("record", {"pin", "--artifact", artifact, "--environment", "staging", "--ledger",
                                                ledger, "--commit", file});
    ASSERT_EQ(first.exit_code, 0) << first.describe();
    EXPECT_EQ(git(g, {"rev-list", "--count", "HEAD"}).stdout_text, "2\n");
    const std::string subject = git(g, {"log", "-1", "--format=%s"}).stdout_text;
    EXPECT_EQ(subject, "pin staging: " + repo + "@" + digest + "\n");
    // The same digest again: nothing changes, no commit.
    ASSERT_EQ(run_tool("record", {"pin", "--artifact", artifact, "--commit", file}).exit_code, 0);
    EXPECT_EQ(git(g, {"rev-list", "--count", "HEAD"}).stdout_text, "2\n");
    // A second digest moves it: the log shows both pins.
    const std::string second = artifact_for(dir, repo + ":1.5", other, "second.json");
    ASSERT_EQ(run_tool("record", {"pin", "--artifact", second, "--commit", file}).exit_code, 0);
    const RunResult log = run_command({"sh", "-c", "git -C '" + g + "' log -p -- deploy.yaml | grep 'image:'"});
    EXPECT_NE(log.stdout_text.find("+  - image: " + repo + "@" + other), std::string::npos) << log.stdout_text;
    EXPECT_NE(log.stdout_text.find("+  - image: " + repo + "@" + digest), std::string::npos) << log.stdout_text;
    EXPECT_NE(log.stdout_text.find("-  - image: " + repo + ":1.4"), std::string::npos) << log.stdout_text;

    // Uncommitted changes are refused before anything is written.
    const std::string dirty = read_text_file(file) + "# local edit\n";
    write_text_file(file, dirty);
    const RunResult refused = run_tool("record", {"pin", "--artifact", artifact, "--commit", file});
    EXPECT_EQ(refused.exit_code, 2) << refused.describe();
    EXPECT_EQ(read_text_file(file), dirty);
    git(g, {"checkout", "--", "deploy.yaml"});

    // A hook that refuses the commit: the file is put back byte for byte, nothing committed or staged.
    const std::string before = read_text_file(file);
    write_text_file(g + "/.git/hooks/pre-commit", "#!/bin/sh\necho no >&2\nexit 1\n");
    fs::permissions(g + "/.git/hooks/pre-commit", fs::perms::owner_all);
    const RunResult hooked = run_tool("record", {"pin", "--artifact", artifact, "--commit", file});
    EXPECT_EQ(hooked.exit_code, 2) << hooked.describe();
    EXPECT_EQ(read_text_file(file), before);
    EXPECT_EQ(git(g, {"status", "--porcelain"}).stdout_text, "");
    EXPECT_EQ(git(g, {"rev-list", "--count", "HEAD"}).stdout_text, "3\n");
}

TEST_F(PinTest, HeldEnvironmentRefusesAnotherDigest) {
    const std::string ledger = dir.file("ledger.jsonl");
    ASSERT_EQ(run_tool("record", {"--artifact", artifact, "--environment", "prod", "--ledger", ledger}).exit_code, 0);
    const RunResult held = run_tool("record", {"hold", "--ledger", ledger, "--environment", "prod", "--reason", "INC-1"});
    ASSERT_EQ(held.exit_code, 0) << held.describe();
    const std::string file = dir.file("d.yaml");
    const std::string text = "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: " + repo + ":1.4\n";
    write_text_file(file, text);
    const std::string second = artifact_for(dir, repo + ":1.5", other, "second.json");
    const RunResult refused = run_tool("record", {"pin", "--artifact", second, "--environment", "prod", "--ledger", ledger, file});
    EXPECT_EQ(refused.exit_code, 1) << refused.describe();
    EXPECT_NE(refused.stderr_text.find("record release"), std::string::npos) << refused.describe();
    EXPECT_EQ(read_text_file(file), text);
    const RunResult allowed = run_tool("record", {"pin", "--artifact", artifact, "--environment", "prod", "--ledger", ledger, file});
    EXPECT_EQ(allowed.exit_code, 0) << allowed.describe();
}

TEST_F(PinTest, VerifyManifestNamesEachUnpinnedLine) {
    const std::string file = dir.file("d.yaml");
    write_text_file(file, "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: " + repo + ":1.4\n  - image: " + repo +
                              "@" + other + "\n  - image: " + repo + "@" + digest + "\n");
    const RunResult r = run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--manifest", file});
    EXPECT_EQ(r.exit_code, 1) << r.describe();
    EXPECT_NE(r.stdout_text.find(file + ":5 "), std::string::npos) << r.stdout_text;
    EXPECT_NE(r.stdout_text.find(file + ":6 "), std::string::npos) << r.stdout_text;
    EXPECT_NE(r.stdout_text.find(other), std::string::npos) << r.stdout_text;
    EXPECT_NE(r.stdout_text.find("match    " + file + ":7 "), std::string::npos) << r.stdout_text;

    const std::string absent = dir.file("other.yaml");
    write_text_file(absent, "kind: Pod\napiVersion: v1\nspec:\n  containers:\n  - image: nginx\n");
    EXPECT_EQ(run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--manifest", absent}).exit_code, 1);
    EXPECT_EQ(run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--allow-absent", "--manifest", absent}).exit_code, 0);
    write_text_file(absent, "a: [\n");
    const RunResult bad = run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--manifest", absent});
    EXPECT_EQ(bad.exit_code, 2) << bad.describe();
    EXPECT_NE(bad.stderr_text.find(absent + ":2:"), std::string::npos) << bad.describe();
}

TEST_F(PinTest, ArgoCdOverrideBesideAKustomizationIsRefusedUnlessPinnedToo) {
    const std::string app = dir.path() + "/app";
    fs::create_directories(app);
    const std::string kustomization = "images:\n- name: " + repo + "\n  newTag: \"1.4\"\n";
    const std::string override_text = "kustomize:\n  images:\n  - " + repo + ":1.3\n";
    write_text_file(app + "/kustomization.yaml", kustomization);
    write_text_file(app + "/.argocd-source-web.yaml", override_text);
    const RunResult refused = run_tool("record", {"pin", "--artifact", artifact, app + "/kustomization.yaml"});
    EXPECT_EQ(refused.exit_code, 2) << refused.describe();
    EXPECT_NE(refused.stdout_text.find(".argocd-source-web.yaml"), std::string::npos) << refused.describe();
    EXPECT_EQ(read_text_file(app + "/kustomization.yaml"), kustomization);
    // verify-digest --manifest makes the same check: a pinned kustomization under a tag override is no pass.
    fs::create_directories(app + "/pinned");
    write_text_file(app + "/pinned/kustomization.yaml", "images:\n- name: " + repo + "\n  digest: " + digest + "\n");
    write_text_file(app + "/pinned/.argocd-source.yaml", override_text);
    const RunResult verified = run_tool("verify-digest", {"--artifact", artifact, "--no-record", "--manifest",
                                                          app + "/pinned/kustomization.yaml"});
    EXPECT_EQ(verified.exit_code, 1) << verified.describe();
    EXPECT_NE(verified.stdout_text.find("MISMATCH \"" + app + "/pinned/.argocd-source.yaml\" sets kustomize images"),
              std::string::npos) << verified.describe();
    const RunResult both = run_tool("record", {"pin", "--artifact", artifact, app + "/kustomization.yaml",
                                               app + "/.argocd-source-web.yaml"});
    ASSERT_EQ(both.exit_code, 0) << both.describe();
    EXPECT_EQ(read_text_file(app + "/.argocd-source-web.yaml"), "kustomize:\n  images:\n  - " + repo + "@" + digest + "\n");
}

// Every real GitOps file: for each repository its image fields name (found here by a regex, independently of
// the code under test), a pin changes only lines that then carry the digest, or leaves the file byte-identical.
TEST_F(PinTest, CorpusFilesArePinnedOnImageLinesOnlyOrLeftAlone) {
    const std::string corpus = std::string(DIGESTFLOW_CORPUS_DIR) + "/gitops/files";
    ASSERT_TRUE(fs::exists(corpus)) << corpus;
    std::regex field("^\\s*-?\\s*(image|repository|newName|name):\\s*['\"]?([a-z0-9][a-z0-9.:/_-]*[a-z0-9])");
    std::size_t files = 0, pinned_pairs = 0, untouched = 0;
    for (const auto& entry : fs::recursive_directory_iterator(corpus)) {
        if (!entry.is_regular_file()) continue;
        ++files;
        const std::string original = read_text_file(entry.path().string());
        std::set<std::string> candidates;
        std::istringstream in(original);
        for (std::string line; std::getline(in, line);) {
            std::smatch m;
            if (std::regex_search(line, m, field)) candidates.insert(m[2].str().substr(0, m[2].str().find('@')));
        }
        const std::string copy_dir = dir.path() + "/corpus/" + entry.path().parent_path().filename().string();
        fs::create_directories(copy_dir);
        const std::string copy = copy_dir + "/" + entry.path().filename().string();
        for (const auto& candidate : candidates) {
            const std::string candidate_artifact = dir.file("candidate.json");
            fs::remove(candidate_artifact);
            if (run_tool("capture-digest", {"--image", candidate, "--digest", digest, "--offline", "--out",
                                            candidate_artifact}).exit_code != 0)
                continue;
            write_text_file(copy, original);
            const RunResult r = run_tool("record", {"pin", "--artifact", candidate_artifact, copy});
            const std::string after = read_text_file(copy);
            SCOPED_TRACE(entry.path().string() + " pinned to " + candidate + ": " + r.describe());
            if (r.exit_code != 0) {
                EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2);
                EXPECT_EQ(after, original);
                ++untouched;
                continue;
            }
            ++pinned_pairs;
            expect_only_image_lines_changed(original, after, digest);
            const RunResult verified = run_tool("verify-digest", {"--artifact", candidate_artifact, "--no-record",
                                                                  "--manifest", copy});
            EXPECT_EQ(verified.exit_code, 0) << verified.describe();
            const RunResult again = run_tool("record", {"pin", "--artifact", candidate_artifact, copy});
            EXPECT_EQ(again.exit_code, 0);
            EXPECT_EQ(read_text_file(copy), after) << "a second pin must change nothing";
        }
    }
    EXPECT_GE(files, 60u);
    EXPECT_GE(pinned_pairs, 100u) << "the corpus run pinned too little to mean anything";
    std::cout << files << " corpus files, " << pinned_pairs << " pins, " << untouched << " left byte-identical\n";
}

// Inputs from a hostile or careless repository: an artifact named as a values file, a file name with a terminal
// escape, a name with a space in the --dry-run diff, a torn ledger line.
TEST_F(PinTest, HostileFileNamesAndInputsAreHandled) {
    const std::string before = read_text_file(artifact);
    const RunResult json_file = run_tool("record", {"pin", "--artifact", artifact, artifact});
    EXPECT_EQ(json_file.exit_code, 2) << json_file.describe();
    EXPECT_NE(json_file.stderr_text.find("is JSON and not a Kubernetes object"), std::string::npos) << json_file.describe();
    EXPECT_EQ(read_text_file(artifact), before);

    const std::string deployment = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - image: " + repo + ":1\n";
    const std::string escaped = dir.file("x\x1b[31mred.yaml");
    write_text_file(escaped, deployment);
    const RunResult shown = run_tool("record", {"pin", "--artifact", artifact, "--dry-run", escaped});
    EXPECT_EQ(shown.exit_code, 0) << shown.describe();
    EXPECT_EQ(shown.stdout_text.find('\x1b'), std::string::npos) << shown.stdout_text;
    EXPECT_NE(shown.stdout_text.find("\\x1b[31mred.yaml"), std::string::npos) << shown.stdout_text;

    // GNU patch reads a name up to a TAB: without one it would look for a file named up to the space.
    const std::string spaced = dir.file("web app.yaml");
    write_text_file(spaced, deployment);
    const RunResult diff = run_tool("record", {"pin", "--artifact", artifact, "--dry-run", spaced});
    ASSERT_EQ(diff.exit_code, 0) << diff.describe();
    EXPECT_NE(diff.stdout_text.find("--- a/" + spaced + "\t\n+++ b/" + spaced + "\t\n"), std::string::npos) << diff.stdout_text;

    const std::string ledger = dir.file("ledger.jsonl");
    write_text_file(ledger, "{\"v\":1,\"prev\":\"sha256:00");
    const RunResult torn = run_tool("record", {"pin", "--artifact", artifact, "--environment", "prod", "--ledger", ledger,
                                               "--dry-run", spaced});
    EXPECT_NE(torn.stderr_text.find("torn line"), std::string::npos) << torn.describe();
}

// --commit where git's environment or the file's shape could send the commit elsewhere, and stdin that is empty.
TEST_F(PinTest, CommitGoesToTheFilesRepositoryAndStdinMustHoldYaml) {
    const std::string pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - image: " + repo + ":1\n";
    auto make_repo = [&](const std::string& name) {
        const std::string path = dir.path() + "/" + name;
        fs::create_directories(path + "/sub");
        init_repo(path);
        write_text_file(path + "/sub/web.yaml", pod);
        git(path, {"add", "-A"});
        git(path, {"commit", "-qm", "init"});
        return path;
    };
    const std::string mine = make_repo("mine"), other = make_repo("other");
    // A GIT_DIR exported by a hook or a CI step must not send the pin commit to another repository.
    const RunResult pinned = run_tool("record", {"pin", "--artifact", artifact, "--commit", mine + "/sub/web.yaml"},
                                      {{"GIT_DIR", other + "/.git"}});
    ASSERT_EQ(pinned.exit_code, 0) << pinned.describe();
    EXPECT_EQ(git(mine, {"log", "--format=%s"}).stdout_text.find("pin "), 0u);
    EXPECT_EQ(git(other, {"log", "--format=%s"}).stdout_text, "init\n");
    // The commit names the file by its path in the repository.
    EXPECT_NE(git(mine, {"log", "-1", "--format=%b"}).stdout_text.find("sub/web.yaml:6"), std::string::npos);

    // A link to a tracked file of the same work tree: the commit holds the target.
    const std::string linked = make_repo("linked");
    fs::create_symlink("sub/web.yaml", linked + "/link.yaml");
    git(linked, {"add", "link.yaml"});
    git(linked, {"commit", "-qm", "link"});
    const RunResult through = run_tool("record", {"pin", "--artifact", artifact, "--commit", linked + "/link.yaml"});
    ASSERT_EQ(through.exit_code, 0) << through.describe();
    EXPECT_NE(git(linked, {"show", "--stat", "--format=", "HEAD"}).stdout_text.find("sub/web.yaml"), std::string::npos);

    // A hook that refuses without a word: the message still says what happened and where.
    const std::string hooked = make_repo("hooked");
    write_text_file(hooked + "/.git/hooks/commit-msg", "#!/bin/sh\nexit 1\n");
    fs::permissions(hooked + "/.git/hooks/commit-msg", fs::perms::owner_all);
    const RunResult refused = run_tool("record", {"pin", "--artifact", artifact, "--commit", hooked + "/sub/web.yaml"});
    EXPECT_EQ(refused.exit_code, 2) << refused.describe();
    EXPECT_NE(refused.stderr_text.find("exited 1 with no message"), std::string::npos) << refused.describe();
    EXPECT_EQ(read_text_file(hooked + "/sub/web.yaml"), pod);

    // compose.override.yaml beside compose.yaml wins when compose runs: refused unless named too.
    const std::string compose = dir.path() + "/compose";
    fs::create_directories(compose);
    write_text_file(compose + "/compose.yaml", "services:\n  web:\n    image: " + repo + ":1\n");
    write_text_file(compose + "/compose.override.yaml", "services:\n  web:\n    image: " + repo + ":2\n");
    const RunResult overridden = run_tool("record", {"pin", "--artifact", artifact, compose + "/compose.yaml"});
    EXPECT_EQ(overridden.exit_code, 2) << overridden.describe();
    EXPECT_NE(overridden.stdout_text.find("compose.override.yaml\" sets an image"), std::string::npos) << overridden.describe();
    const RunResult both = run_tool("record", {"pin", "--artifact", artifact, compose + "/compose.yaml", compose + "/compose.override.yaml"});
    EXPECT_EQ(both.exit_code, 0) << both.describe();

    // Nothing on stdin is a failed producer, also under --allow-absent.
    RunOptions empty_stdin;
    empty_stdin.stdin_text = "";
    const RunResult empty = run_command({std::string(DIGESTFLOW_TOOLS_DIR) + "/verify-digest/verify-digest", "--artifact", artifact, "--no-record", "--allow-absent",
                                         "--manifest", "-"}, empty_stdin);
    EXPECT_EQ(empty.exit_code, 2) << empty.describe();
    EXPECT_NE(empty.stderr_text.find("stdin is empty"), std::string::npos) << empty.describe();
}

// A pin never writes a file the tools could not read back (16 MiB): refused, nothing written.
TEST_F(PinTest, PinThatWouldOutgrowTheInputLimitIsRefused) {
    std::string text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n";
    for (int i = 0; i < 20; ++i) text += "  - image: " + repo + ":1\n";
    text += "# " + std::string(16 * 1024 * 1024 - text.size() - 100, 'x') + "\n";
    const std::string file = dir.file("big.yaml");
    write_text_file(file, text);
    const RunResult r = run_tool("record", {"pin", "--artifact", artifact, file});
    EXPECT_EQ(r.exit_code, 2) << r.describe().substr(0, 2000);
    EXPECT_NE(r.stdout_text.find("would grow past 16 MiB"), std::string::npos);
    EXPECT_EQ(read_text_file(file), text);
}

// tests/vectors/gitops: real-world-shaped files and the exact bytes record pin must leave (see its README).
TEST_F(PinTest, GoldenFiles) {
    const fs::path vectors = fs::path(DIGESTFLOW_VECTORS_DIR) / "gitops";
    const std::string golden_digest = "sha256:7f3a5c0e9b1d2468ace013579bdf2468ace013579bdf2468ace013579bdf2468";
    const std::string golden_artifact = artifact_for(dir, "localhost:5000/app:1.4", golden_digest, "golden.json");
    std::size_t cases = 0, expected_files = 0;
    for (const auto& folder : fs::directory_iterator(vectors)) {
        if (!folder.is_directory()) continue;
        ++cases;
        SCOPED_TRACE(folder.path().string());
        const fs::path work = fs::path(dir.path()) / "golden" / folder.path().filename();
        fs::create_directories(work);
        std::vector<std::string> args{"pin", "--artifact", golden_artifact};
        if (fs::exists(folder.path() / "flags")) {
            std::istringstream flags(read_text_file((folder.path() / "flags").string()));
            for (std::string flag; flags >> flag;) args.push_back(flag);
        }
        std::vector<std::pair<fs::path, fs::path>> inputs;  // the copy pinned, the original beside its .pinned
        for (const auto& file : fs::directory_iterator(folder.path())) {
            const std::string name = file.path().filename().string();
            if (name == "flags" || file.path().extension() == ".pinned") continue;
            fs::copy_file(file.path(), work / name);
            inputs.emplace_back(work / name, file.path());
            args.push_back((work / name).string());
        }
        const RunResult r = run_tool("record", args);
        ASSERT_EQ(r.exit_code, 0) << r.describe();
        std::vector<std::string> pinned_files;
        for (const auto& [copy, original] : inputs) {
            const std::string expected_path = original.string() + ".pinned";
            const std::string before = read_text_file(original.string());
            const std::string after = read_text_file(copy.string());
            if (!fs::exists(expected_path)) {
                EXPECT_EQ(after, before) << copy << " names no image of the repository: it must stay byte-identical";
                continue;
            }
            ++expected_files;
            EXPECT_EQ(after, read_text_file(expected_path)) << copy;
            expect_only_image_lines_changed(before, after, golden_digest);
            pinned_files.push_back(copy.string());
        }
        // The real tools render what was written: every image of the repository comes out pinned.
        std::string rendered;
        if (fs::exists(work / "kustomization.yaml")) rendered = run_checked({"kubectl", "kustomize", work.string()}).stdout_text;
        if (fs::exists(work / "compose.yaml"))
            rendered = run_checked({"docker-compose", "-f", (work / "compose.yaml").string(), "config"}).stdout_text;
        std::istringstream lines(rendered);
        for (std::string line; std::getline(lines, line);)
            if (line.find("image: localhost:5000/app") != std::string::npos && line.find("localhost:5000/app-") == std::string::npos)
                EXPECT_NE(line.find("localhost:5000/app@" + golden_digest), std::string::npos) << line;
        std::vector<std::string> verify{"--artifact", golden_artifact, "--no-record", "--manifest"};
        verify.insert(verify.end(), pinned_files.begin(), pinned_files.end());
        const RunResult verified = run_tool("verify-digest", verify);
        EXPECT_EQ(verified.exit_code, 0) << verified.describe();
    }
    EXPECT_GE(cases, 6u);
    EXPECT_GE(expected_files, 6u);
}

}  // namespace
