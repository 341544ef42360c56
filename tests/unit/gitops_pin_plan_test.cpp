// record pin's splices on small files that each carry one hard case: the bytes that change are exactly the
// image value's, and what cannot be changed safely is refused.
#include "digestflow/error.hpp"
#include "digestflow/gitops/pin_plan.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace digestflow;
using namespace digestflow::gitops;

namespace {

const std::string repo = "localhost:5000/app";
const Digest digest = Digest::of("pin");
const std::string d = digest.str();

FilePin pin(const std::string& text, const std::string& name = "f.yaml", bool keep_tag = false) {
    const YamlFile file = YamlFile::parse(text, name);
    return plan_pins(file, detect_kind(name, file), repo, PinOptions{digest, keep_tag});
}

std::string pinned_text(const std::string& text, const std::string& name = "f.yaml", bool keep_tag = false) {
    const FilePin result = pin(text, name, keep_tag);
    EXPECT_FALSE(result.refused());
    return result.new_text;
}

const std::string pod_head = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n";

TEST(PinPlan, PlainQuotedAndBlockScalarsKeepTheirStyle) {
    EXPECT_EQ(pinned_text(pod_head + "  - name: a\n    image: localhost:5000/app:1 # c\n"),
              pod_head + "  - name: a\n    image: localhost:5000/app@" + d + " # c\n");
    EXPECT_EQ(pinned_text(pod_head + "  - image: 'localhost:5000/app:1'\n"),
              pod_head + "  - image: 'localhost:5000/app@" + d + "'\n");
    EXPECT_EQ(pinned_text(pod_head + "  - image: \"localhost:5000/app:1\"\n"),
              pod_head + "  - image: \"localhost:5000/app@" + d + "\"\n");
    EXPECT_EQ(pinned_text(pod_head + "  - image: >-\n      localhost:5000/app:1\n    name: a\n"),
              pod_head + "  - image: >-\n      localhost:5000/app@" + d + "\n    name: a\n");
    EXPECT_EQ(pinned_text(pod_head + "  - {name: a, image: localhost:5000/app:1}\n"),
              pod_head + "  - {name: a, image: localhost:5000/app@" + d + "}\n");
}

TEST(PinPlan, MultiDocumentKubernetesEveryContainerList) {
    const std::string a = "localhost:5000/app";
    const auto text = [&](const std::string& one, const std::string& two, const std::string& three, const std::string& four) {
        return "# deploy\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata: {name: nightly}\nspec:\n  jobTemplate:\n"
               "    spec:\n      template:\n        spec:\n          containers:\n          - name: job\n            image: " + one +
               "  # nightly\n...\n---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n"
               "    name: debug\n  spec:\n    initContainers:\n    - {name: init, image: " + two + "}\n    containers:\n"
               "    - name: main\n      image: " + three + "\n      args: [\"" + a + ":9\"]\n    ephemeralContainers:\n"
               "    - name: dbg\n      image: " + four + "\n...\n";
    };
    const FilePin result = pin(text(a + ":1", a + ":2", a + ":3", a), "all.yaml");
    ASSERT_EQ(result.sites.size(), 4u);
    EXPECT_EQ(result.sites[0].site.where, "CronJob/nightly containers[0] (job)");
    EXPECT_EQ(result.sites[1].site.where, "Pod/debug initContainers[0] (init)");
    EXPECT_EQ(result.sites[3].site.where, "Pod/debug ephemeralContainers[0] (dbg)");
    const std::string pinned = a + "@" + d;
    EXPECT_EQ(result.new_text, text(pinned, pinned, pinned, pinned));
    const FilePin kept = pin(text(a + ":1", a + ":2", a + ":3", a), "all.yaml", true);
    EXPECT_EQ(kept.new_text, text(a + ":1@" + d, a + ":2@" + d, a + ":3@" + d, pinned));
}

TEST(PinPlan, KeepTagAndMovedDigest) {
    const std::string old = "sha256:" + std::string(64, 'a');
    const FilePin moved = pin(pod_head + "  - image: localhost:5000/app:1@" + old + "\n", "f.yaml", true);
    ASSERT_EQ(moved.sites.size(), 1u);
    EXPECT_EQ(moved.sites[0].outcome, PinOutcome::Moved);
    ASSERT_TRUE(moved.sites[0].previous);
    EXPECT_EQ(moved.sites[0].previous->str(), old);
    EXPECT_EQ(moved.new_text, pod_head + "  - image: localhost:5000/app:1@" + d + "\n");
    const FilePin again = pin(moved.new_text, "f.yaml", true);
    EXPECT_EQ(again.sites[0].outcome, PinOutcome::AlreadyPinned);
    EXPECT_FALSE(again.changed());
}

TEST(PinPlan, MultiByteTextAndByteOrderMarkBeforeTheImage) {
    const std::string text = "\xEF\xBB\xBF# caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x9A\x80\n" + pod_head + "  - image: localhost:5000/app:1\n";
    EXPECT_EQ(pinned_text(text), "\xEF\xBB\xBF# caf\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x9A\x80\n" + pod_head +
                                     "  - image: localhost:5000/app@" + d + "\n");
}

TEST(PinPlan, CrlfStaysCrlf) {
    const std::string text = "services:\r\n  web:\r\n    image: localhost:5000/app:1\r\n";
    EXPECT_EQ(pinned_text(text, "compose.yaml"), "services:\r\n  web:\r\n    image: localhost:5000/app@" + d + "\r\n");
}

TEST(PinPlan, KustomizeNewTagBecomesTheDigestInPlace) {
    const std::string head = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nimages:\n";
    EXPECT_EQ(pinned_text(head + "- name: localhost:5000/app\n  newTag: \"1.0\" # release\n- name: other\n  newTag: x\n"),
              head + "- name: localhost:5000/app\n  digest: \"" + d + "\" # release\n- name: other\n  newTag: x\n");
    EXPECT_EQ(pinned_text(head + "- name: app\n  newName: localhost:5000/app\n"),
              head + "- name: app\n  newName: localhost:5000/app\n  digest: " + d + "\n");
    // Last line without a newline, and CRLF.
    EXPECT_EQ(pinned_text(head + "- name: localhost:5000/app"), head + "- name: localhost:5000/app\n  digest: " + d);
    EXPECT_EQ(pinned_text("images:\r\n  - name: localhost:5000/app\r\n", "kustomization.yaml"),
              "images:\r\n  - name: localhost:5000/app\r\n    digest: " + d + "\r\n");
    EXPECT_EQ(pinned_text(head + "- {name: localhost:5000/app}\n"), head + "- {name: localhost:5000/app, digest: " + d + "}\n");
    // A digest and a newTag: the digest is set, the newTag line goes.
    EXPECT_EQ(pinned_text(head + "- name: localhost:5000/app\n  newTag: v1\n  digest: sha256:" + std::string(64, 'b') + "\n"),
              head + "- name: localhost:5000/app\n  digest: " + d + "\n");
    // --keep-tag keeps newTag.
    EXPECT_EQ(pinned_text(head + "- name: localhost:5000/app\n  newTag: v1\n", "k.yaml", true),
              head + "- name: localhost:5000/app\n  newTag: v1\n  digest: " + d + "\n");
}

TEST(PinPlan, HelmBlocks) {
    EXPECT_EQ(pinned_text("image:\n  registry: localhost:5000\n  repository: app\n  tag: 1.0\n  digest: \"\"\n"),
              "image:\n  registry: localhost:5000\n  repository: app\n  tag: 1.0\n  digest: \"" + d + "\"\n");
    EXPECT_EQ(pinned_text("image:\n  repository: localhost:5000/app\n  digest:\n  pullPolicy: IfNotPresent\n"),
              "image:\n  repository: localhost:5000/app\n  digest: " + d + "\n  pullPolicy: IfNotPresent\n");
    EXPECT_EQ(pinned_text("web:\n  image:\n    repository: localhost:5000/app\n    tag: \"1.0\"\n", "values.yaml", true),
              "web:\n  image:\n    repository: localhost:5000/app\n    tag: \"1.0@" + d + "\"\n");
    EXPECT_EQ(pinned_text("image:\n  repository: localhost:5000/app\n"), "image:\n  repository: localhost:5000/app@" + d + "\n");
    const FilePin refused = pin("image:\n  repository: localhost:5000/app\n  tag: \"1.0\"\n");
    ASSERT_TRUE(refused.refused());
    EXPECT_NE(refused.sites[0].reason.find("--keep-tag"), std::string::npos);
    EXPECT_EQ(refused.new_text, "image:\n  repository: localhost:5000/app\n  tag: \"1.0\"\n");
    EXPECT_TRUE(pin("image:\n  repository: localhost:5000/app\n  tag: \"\"\n", "v.yaml", true).refused());
}

TEST(PinPlan, OnlyImageFieldsAndOnlyTheRepository) {
    const std::string text = pod_head +
                             "  - name: a\n    image: localhost:5001/app:1\n    args: [\"localhost:5000/app:1\"]\n"
                             "  - name: b\n    image: localhost:5000/app-worker:1\n"
                             "    env: [{name: IMAGE, value: \"localhost:5000/app:1\"}]\n";
    const FilePin result = pin(text);
    EXPECT_TRUE(result.sites.empty());
    EXPECT_EQ(result.new_text, text);
}

TEST(PinPlan, EscapedValueIsRefusedNotGuessed) {
    const FilePin result = pin(pod_head + "  - image: \"localhost:5000\\x2Fapp:1\"\n");
    ASSERT_EQ(result.sites.size(), 1u);
    EXPECT_EQ(result.sites[0].outcome, PinOutcome::Refused);
}

TEST(PinPlan, ComposeAnchorIsPinnedOnce) {
    const std::string text = "x-base: &base\n  image: localhost:5000/app:1\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n"
                             "  c:\n    <<: *base\n    image: localhost:5000/app:2\n";
    const FilePin result = pin(text, "compose.yaml");
    EXPECT_EQ(result.sites.size(), 2u);
    EXPECT_EQ(result.new_text, "x-base: &base\n  image: localhost:5000/app@" + d +
                                   "\nservices:\n  a:\n    <<: *base\n  b:\n    <<: *base\n  c:\n    <<: *base\n"
                                   "    image: localhost:5000/app@" + d + "\n");
}

TEST(YamlTree, HostileShapesAreRefusedOrCheap) {
    EXPECT_THROW(YamlFile::parse(std::string(5000, '[') + std::string(5000, ']'), "deep.yaml"), Error);
    EXPECT_THROW(YamlFile::parse("a: \"\xC3\"\n", "bad-utf8.yaml"), Error);
    // Merges of merges, 40 levels of two each: 2^40 paths if a lookup walked every one.
    std::string text = "l0: &l0 {x: 1}\n";
    for (int i = 1; i <= 40; ++i)
        text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " {<<: [*l" + std::to_string(i - 1) + ", *l" +
                std::to_string(i - 1) + "]}\n";
    text += "services:\n  s:\n    <<: *l40\n";
    const YamlFile file = YamlFile::parse(text, "compose.yaml");
    EXPECT_TRUE(find_image_sites(file, FileKind::Compose, repo).empty());
}

TEST(YamlTree, FilesMoveWithoutInvalidatingTheirNodes) {
    std::vector<YamlFile> files;
    for (int i = 0; i < 20; ++i) files.push_back(YamlFile::parse(pod_head + "  - image: localhost:5000/app:1\n", "f.yaml"));
    for (const auto& file : files) EXPECT_EQ(find_image_sites(file, FileKind::Kubernetes, repo).size(), 1u);
}

TEST(YamlTree, SyntaxErrorNamesFileLineAndColumn) {
    try {
        YamlFile::parse("a: b\n c: [\n", "broken.yaml");
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()).rfind("broken.yaml:", 0), 0u) << e.what();
        EXPECT_NE(std::string(e.what()).find("not valid YAML"), std::string::npos);
    }
}

TEST(PinPlan, ValuesThatCannotBePinnedSafelyAreRefusedWithTheReason) {
    struct Case {
        std::string text, file, reason;
    };
    const std::vector<Case> cases{
        {pod_head + "  - image: |\n      localhost:5000/app:1\n", "f.yaml", "line break"},
        {pod_head + "  - image: >\n      localhost:5000/app:1\n", "f.yaml", "line break"},
        {"x: &img localhost:5000/app:1\n" + pod_head.substr(0) + "  - image: *img\n", "f.yaml", "anchor &img"},
        {pod_head + "  - image: !custom localhost:5000/app:1\n", "f.yaml", "YAML tag !custom"},
        {"services:\n  web:\n    image: ${REGISTRY:-localhost:5000}/app:1\n", "compose.yaml", "uses variables"},
        {"services:\n  web:\n    image: localhost:5000/app:${TAG}\n", "compose.yaml", "uses variables"},
    };
    for (const Case& c : cases) {
        const FilePin result = pin(c.text, c.file);
        ASSERT_EQ(result.sites.size(), 1u) << c.text;
        EXPECT_EQ(result.sites[0].outcome, PinOutcome::Refused) << c.text;
        EXPECT_NE(result.sites[0].reason.find(c.reason), std::string::npos) << c.text << "\n" << result.sites[0].reason;
        EXPECT_EQ(result.new_text, c.text);
    }
    // A !!str tag and an anchor nobody aliases are harmless: pinned after the properties.
    EXPECT_EQ(pinned_text(pod_head + "  - image: !!str localhost:5000/app:1\n"), pod_head + "  - image: !!str localhost:5000/app@" + d + "\n");
    EXPECT_EQ(pinned_text(pod_head + "  - image: &i localhost:5000/app:1\n"), pod_head + "  - image: &i localhost:5000/app@" + d + "\n");
}

TEST(PinPlan, ImagesOutsideContainerListsAndNotInData) {
    const std::string text = "apiVersion: tekton.dev/v1\nkind: Task\nmetadata:\n  name: t\n  annotations:\n"
                             "    image: localhost:5000/app:1\nspec:\n  steps:\n  - name: s\n    image: localhost:5000/app:1\n"
                             "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  image: localhost:5000/app:1\n";
    const FilePin result = pin(text);
    ASSERT_EQ(result.sites.size(), 1u);
    EXPECT_EQ(result.sites[0].site.where, "Task/t spec.steps[0].image");
    EXPECT_EQ(result.sites[0].site.line, 10u);
}

TEST(PinPlan, HelmLabelsAnnotationsAndGlobalRegistry) {
    const std::string text = "global:\n  imageRegistry: localhost:5000\npodAnnotations:\n  image: localhost:5000/app:1\n"
                             "commonLabels: {image: localhost:5000/app:1}\nimage:\n  registry: docker.io\n  repository: app\n"
                             "  tag: \"1\"\n  digest: \"\"\n";
    const FilePin result = pin(text, "values.yaml");
    ASSERT_EQ(result.sites.size(), 1u);  // the block, with the global registry; not the annotation or label
    EXPECT_EQ(result.sites[0].site.where, "image");
    const std::string tail = "  digest: \"" + d + "\"\n";
    EXPECT_EQ(result.new_text.substr(result.new_text.size() - tail.size()), tail);
}

TEST(PinPlan, ValuesFileWithAServicesKeyIsNotCompose) {
    const std::string text = "services:\n  web: {type: ClusterIP, port: 80}\nimage:\n  repository: localhost:5000/app\n";
    const YamlFile file = YamlFile::parse(text, "values.yaml");
    EXPECT_EQ(detect_kind("values.yaml", file), FileKind::HelmValues);
    EXPECT_EQ(detect_kind("other.yaml", file), FileKind::HelmValues);  // "image" is no compose top-level key
    EXPECT_EQ(detect_kind("compose.yaml", YamlFile::parse("x-a: 1\nservices:\n  s: {image: a}\n", "c")), FileKind::Compose);
}

TEST(YamlTree, DuplicateKeysAreRefused) {
    try {
        YamlFile::parse(pod_head + "  - image: localhost:5000/app:1\n    image: nginx\n", "dup.yaml");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("dup.yaml:8: duplicate key \"image\" (first at line 7)"), std::string::npos) << e.what();
    }
    // Merge keys may repeat (a list of merges is the usual form, but repeated << is seen in the wild).
    EXPECT_NO_THROW(YamlFile::parse("a: &a {x: 1}\nb: &b {y: 1}\nc:\n  <<: *a\n  <<: *b\n", "m.yaml"));
}

TEST(PinPlan, FluxAndArgoCdObjectsCarryImagesOutsidePodSpecs) {
    const std::string text =
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: web}\nspec:\n  values:\n"
        "    image:\n      repository: localhost:5000/app\n      digest: \"\"\n"
        "  postRenderers:\n  - kustomize:\n      images:\n      - name: localhost:5000/app\n        newTag: \"2\"\n"
        "---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\nspec:\n"
        "  images:\n  - name: localhost:5000/app\n    newTag: \"1\"\n"
        "---\napiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  source:\n"
        "    kustomize:\n      images: [\"localhost:5000/app:1\"]\n"
        "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\nstatus:\n"
        "  containerStatuses:\n  - image: localhost:5000/app:1\n";
    const YamlFile file = YamlFile::parse(text, "gitops.yaml");
    ASSERT_EQ(detect_kind("gitops.yaml", file), FileKind::Kubernetes);
    const FilePin result = plan_pins(file, FileKind::Kubernetes, repo, PinOptions{digest, false});
    std::vector<std::string> where;
    for (const auto& site : result.sites) where.push_back(site.site.where);
    EXPECT_EQ(where, (std::vector<std::string>{"HelmRelease/web spec.values.image",
                                               "HelmRelease/web spec.postRenderers[0].kustomize.images[0] (localhost:5000/app)",
                                               "Kustomization/apps spec.images[0] (localhost:5000/app)",
                                               "Application/a spec.source.kustomize.images[0]"}));  // never status
    EXPECT_FALSE(result.refused());
    EXPECT_NE(result.new_text.find("      digest: \"" + d + "\"\n"), std::string::npos);
    EXPECT_NE(result.new_text.find("images: [\"localhost:5000/app@" + d + "\"]"), std::string::npos);
}

TEST(PinPlan, ArgoCdHelmParametersAndValuesStringsAreReportedNotSkipped) {
    const std::string text = "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: a}\nspec:\n  source:\n"
                             "    helm:\n      parameters:\n      - {name: image.tag, value: \"1\"}\n"
                             "      - {name: replicas, value: \"2\"}\n      values: |\n        image:\n          tag: \"1\"\n";
    const FilePin result = pin(text);
    ASSERT_EQ(result.sites.size(), 2u);
    EXPECT_TRUE(result.refused());
    EXPECT_NE(result.sites[0].reason.find("Helm parameter"), std::string::npos);
    EXPECT_NE(result.sites[1].reason.find("YAML inside a string"), std::string::npos);
    EXPECT_EQ(result.new_text, text);
}

TEST(PinPlan, SharedHelmAnchorIsSplicedOnceAndFluxScanTargetsAreLeftAlone) {
    // One block merged into two places: the same bytes get one edit (never sha256:…sha256:…).
    const std::string helm = "base: &img\n  repository: localhost:5000/app\n  digest: \"\"\nworker:\n  image:\n    <<: *img\n"
                             "cron:\n  image:\n    <<: *img\n";
    const FilePin shared = pin(helm, "values.yaml");
    EXPECT_FALSE(shared.refused());
    EXPECT_EQ(shared.new_text, "base: &img\n  repository: localhost:5000/app\n  digest: \"" + d +
                                   "\"\nworker:\n  image:\n    <<: *img\ncron:\n  image:\n    <<: *img\n");
    // An image volume is pinned; a Flux ImageRepository names a repository to scan and is not.
    const std::string k8s = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: []\n  volumes:\n"
                            "  - name: data\n    image: {reference: localhost:5000/app:1}\n---\n"
                            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata: {name: app}\n"
                            "spec:\n  image: localhost:5000/app\n";
    const FilePin result = pin(k8s);
    ASSERT_EQ(result.sites.size(), 1u);
    EXPECT_EQ(result.sites[0].site.where, "Pod/p spec.volumes[0].image.reference");
    EXPECT_NE(result.new_text.find("reference: localhost:5000/app@" + d + "}"), std::string::npos);
    EXPECT_NE(result.new_text.find("  image: localhost:5000/app\n"), std::string::npos);
}

}  // namespace
