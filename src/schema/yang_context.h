// The libyang wrapper's context side. Nothing outside src/schema includes
// libyang: other parts of the daemon see only these classes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "southgate/driver.h"

struct ly_ctx;

namespace southgate::schema {

struct ModuleSpec {
  std::string name;
  std::string revision;               // empty: newest found
  std::vector<std::string> features;  // empty: none; {"*"}: all
  bool operator<(const ModuleSpec& other) const;
  bool operator==(const ModuleSpec& other) const = default;
};

// An immutable libyang context with a fixed module set. Safe to read from
// many threads at once.
class YangContext {
 public:
  // Compiles `modules` (and what they import, made implemented so that
  // OpenConfig identities resolve) from `search_dirs`.
  static absl::StatusOr<std::shared_ptr<const YangContext>> Build(
      const std::vector<std::string>& search_dirs,
      const std::vector<ModuleSpec>& modules);
  ~YangContext();
  YangContext(const YangContext&) = delete;
  YangContext& operator=(const YangContext&) = delete;

  // Implemented modules with organization and revision, for Capabilities.
  const std::vector<ModelInfo>& Models() const { return models_; }

  // For src/schema internals only.
  ly_ctx* raw() const { return ctx_; }

 private:
  explicit YangContext(ly_ctx* ctx);
  ly_ctx* ctx_;
  std::vector<ModelInfo> models_;
};

// Contexts built once and shared by every device with the same module set.
class ContextCache {
 public:
  explicit ContextCache(std::vector<std::string> search_dirs);
  absl::StatusOr<std::shared_ptr<const YangContext>> Get(
      std::vector<ModuleSpec> modules);
  // The same with `extra_search_dirs` searched before the cache's own (a
  // NETCONF device's downloaded modules): contexts are shared by every
  // caller with the same extra directories and module set.
  absl::StatusOr<std::shared_ptr<const YangContext>> Get(
      std::vector<ModuleSpec> modules,
      const std::vector<std::string>& extra_search_dirs);
  const std::vector<std::string>& search_dirs() const { return search_dirs_; }
  size_t size() const;

 private:
  std::vector<std::string> search_dirs_;
  mutable std::mutex mutex_;
  std::map<std::vector<ModuleSpec>, std::shared_ptr<const YangContext>> cache_;
  std::map<std::pair<std::vector<std::string>, std::vector<ModuleSpec>>,
           std::shared_ptr<const YangContext>>
      extra_cache_;
};

}  // namespace southgate::schema
