// Referrers (signatures, attestations, SBOMs pointing at a manifest through `subject`): the fallback tag
// name and the merge of fallback indexes, per the OCI distribution spec's referrers tag schema.
#pragma once

#include "digestflow/digest.hpp"
#include "digestflow/manifest.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace digestflow {

// "sha256-<hex>": the algorithm and the encoded part (truncated to 32 and 64 characters), characters a tag
// may not hold replaced by '-'.
std::string referrers_fallback_tag(const Digest& subject);

// The fallback index to store at the destination: `incoming` as it is when the destination has none
// (byte-identical), else `existing` plus every descriptor of `incoming` it lacks (by digest), descriptors
// kept whole (annotations included). Throws Error(Usage) when either is not an image index.
std::string merge_referrers_index(const std::string& existing, const std::string& incoming);

// Whether a referrer names `subject` as its subject. A referrers listing (API or fallback tag) is only the
// registry's word: each listed manifest must itself point at the digest before it is copied as its referrer.
// The bytes form reads `subject.digest` alone (any manifest type); false for no subject, another digest, a
// malformed one, or bytes that are not a JSON object. Digests compare exactly (algorithm and hex).
bool refers_to(const Manifest& referrer, const Digest& subject);
bool refers_to(std::string_view referrer_bytes, const Digest& subject);

// `index` without the descriptors of `dropped` (referrers that turned out not to refer to the subject), the
// rest kept whole and in order. Throws Error(Usage) when `index` is not an image index.
std::string referrers_index_without(const std::string& index, const std::vector<Digest>& dropped);

}  // namespace digestflow
