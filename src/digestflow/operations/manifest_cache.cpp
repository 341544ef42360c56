#include "digestflow/operations/manifest_cache.hpp"

#include "digestflow/error.hpp"

namespace digestflow::operations {

ManifestCache::Entry ManifestCache::lookup(registry::RegistryClient& client, const Reference& by_digest,
                                          bool retry_failed_wait) {
    if (!by_digest.digest) throw_usage("only a manifest named by its digest is kept: " + by_digest.str());
    const std::string key = by_digest.with_digest(*by_digest.digest).str();
    std::promise<Entry> fetching;
    std::unique_lock lock(m_mutex);
    if (auto found = m_entries.find(key); found != m_entries.end()) {
        auto answer = found->second;
        lock.unlock();  // another worker's fetch: wait for it without holding up the others
        if (!retry_failed_wait) return answer.get();
        try {
            return answer.get();
        } catch (...) {
            // One tampered answer or a failure past its retries fails that fetch's caller; the waiters ask
            // once more (sharing that fetch among them), and that answer stands.
            return lookup(client, by_digest, false);
        }
    }
    m_entries.emplace(key, fetching.get_future().share());
    lock.unlock();

    auto forget = [&] {
        std::lock_guard relock(m_mutex);
        m_entries.erase(key);
    };
    try {
        auto fetched = client.get_manifest(by_digest);  // hashed against the digest
        Entry entry = fetched ? std::make_shared<const registry::FetchedManifest>(std::move(*fetched)) : nullptr;
        if (!entry) forget();
        fetching.set_value(entry);
        return entry;
    } catch (...) {
        forget();
        fetching.set_exception(std::current_exception());
        throw;
    }
}

}  // namespace digestflow::operations
