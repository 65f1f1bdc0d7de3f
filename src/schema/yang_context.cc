#include "schema/yang_context.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "schema/ly_util.h"
#include "spdlog/spdlog.h"

namespace southgate::schema {
namespace {

using internal::LyError;

// Modules libyang loads by itself; listed in Models() only when requested.
const std::set<std::string, std::less<>>& InternalModules() {
  static const auto* modules = new std::set<std::string, std::less<>>{
      "ietf-yang-metadata",     "yang",
      "ietf-inet-types",        "ietf-yang-types",
      "ietf-datastores",        "ietf-yang-library",
      "ietf-yang-schema-mount", "ietf-yang-structure-ext"};
  return *modules;
}

std::string FirstLine(const char* text) {
  if (!text) return "";
  std::string line(text);
  absl::StripLeadingAsciiWhitespace(&line);
  size_t end = line.find('\n');
  if (end != std::string::npos) line.resize(end);
  absl::StripTrailingAsciiWhitespace(&line);
  return line;
}

std::string OpenConfigVersion(const lys_module* module) {
  if (!module->parsed) return "";
  const lysp_ext_instance* exts = module->parsed->exts;
  LY_ARRAY_COUNT_TYPE i;
  LY_ARRAY_FOR(exts, i) {
    std::string_view name = exts[i].name ? exts[i].name : "";
    size_t colon = name.find(':');
    if (colon != std::string_view::npos) name = name.substr(colon + 1);
    if (name == "openconfig-version" && exts[i].argument) {
      return exts[i].argument;
    }
  }
  return "";
}

void AddSearchDirs(ly_ctx* ctx, const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    spdlog::warn("YANG search directory {} does not exist", dir);
    return;
  }
  ly_ctx_set_searchdir(ctx, dir.c_str());
  std::vector<std::string> subdirs;
  for (auto it = fs::recursive_directory_iterator(
           dir,
           fs::directory_options::follow_directory_symlink |
               fs::directory_options::skip_permission_denied,
           ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (it->is_directory(ec)) {
      if (!name.empty() && name[0] == '.') {
        it.disable_recursion_pending();
        continue;
      }
      subdirs.push_back(it->path().string());
    }
  }
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& sub : subdirs) ly_ctx_set_searchdir(ctx, sub.c_str());
}

}  // namespace

bool ModuleSpec::operator<(const ModuleSpec& other) const {
  return std::tie(name, revision, features) <
         std::tie(other.name, other.revision, other.features);
}

YangContext::YangContext(ly_ctx* ctx) : ctx_(ctx) {}

YangContext::~YangContext() {
  if (ctx_) ly_ctx_destroy(ctx_);
}

absl::StatusOr<std::shared_ptr<const YangContext>> YangContext::Build(
    const std::vector<std::string>& search_dirs,
    const std::vector<ModuleSpec>& modules) {
  internal::SetUpLogging();
  ly_ctx* raw = nullptr;
  if (ly_ctx_new(nullptr,
                 LY_CTX_REF_IMPLEMENTED | LY_CTX_DISABLE_SEARCHDIR_CWD |
                     LY_CTX_EXPLICIT_COMPILE,
                 &raw) != LY_SUCCESS) {
    return absl::InternalError("cannot create a libyang context");
  }
  std::shared_ptr<YangContext> context(new YangContext(raw));
  for (const auto& dir : search_dirs) AddSearchDirs(raw, dir);

  std::set<std::string, std::less<>> requested;
  for (const auto& spec : modules) {
    requested.insert(spec.name);
    std::vector<const char*> features;
    for (const auto& feature : spec.features)
      features.push_back(feature.c_str());
    features.push_back(nullptr);
    const lys_module* module = ly_ctx_load_module(
        raw, spec.name.c_str(),
        spec.revision.empty() ? nullptr : spec.revision.c_str(),
        features.data());
    if (!module) {
      return LyError(
          raw, absl::StatusCode::kNotFound,
          absl::StrCat("cannot load YANG module ", spec.name,
                       spec.revision.empty() ? "" : "@", spec.revision,
                       " from [", absl::StrJoin(search_dirs, ", "), "]"));
    }
  }
  // Identities of an imported module are usable in data only once it is
  // implemented (all over OpenConfig): implement imported modules that define
  // identities but no data, so that no unrequested data tree appears.
  std::vector<lys_module*> identity_modules;
  uint32_t scan = 0;
  while (lys_module* module = ly_ctx_get_module_iter(raw, &scan)) {
    if (module->implemented || !module->parsed) continue;
    if (!module->latest_revision) continue;
    const lysp_module* parsed = module->parsed;
    if (LY_ARRAY_COUNT(parsed->identities) == 0 || parsed->data ||
        parsed->augments || LY_ARRAY_COUNT(parsed->deviations) > 0) {
      continue;
    }
    identity_modules.push_back(module);
  }
  for (lys_module* module : identity_modules) {
    if (lys_set_implemented(module, nullptr) != LY_SUCCESS) {
      return LyError(raw, absl::StatusCode::kInvalidArgument,
                     absl::StrCat("cannot implement ", module->name));
    }
  }
  if (ly_ctx_compile(raw) != LY_SUCCESS) {
    return LyError(raw, absl::StatusCode::kInvalidArgument,
                   "cannot compile YANG modules");
  }

  uint32_t index = 0;
  const lys_module* module;
  while ((module = ly_ctx_get_module_iter(raw, &index))) {
    if (!module->implemented) continue;
    if (InternalModules().count(module->name) &&
        !requested.count(module->name)) {
      continue;
    }
    ModelInfo info;
    info.name = module->name;
    info.organization = FirstLine(module->org);
    info.version = OpenConfigVersion(module);
    if (info.version.empty() && module->revision) {
      info.version = module->revision;
    }
    context->models_.push_back(std::move(info));
  }
  std::sort(
      context->models_.begin(), context->models_.end(),
      [](const ModelInfo& a, const ModelInfo& b) { return a.name < b.name; });
  return std::shared_ptr<const YangContext>(std::move(context));
}

ContextCache::ContextCache(std::vector<std::string> search_dirs)
    : search_dirs_(std::move(search_dirs)) {}

absl::StatusOr<std::shared_ptr<const YangContext>> ContextCache::Get(
    std::vector<ModuleSpec> modules) {
  for (auto& spec : modules)
    std::sort(spec.features.begin(), spec.features.end());
  std::sort(modules.begin(), modules.end());
  modules.erase(std::unique(modules.begin(), modules.end()), modules.end());
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = cache_.find(modules);
  if (it != cache_.end()) return it->second;
  auto context = YangContext::Build(search_dirs_, modules);
  if (!context.ok()) return context.status();
  cache_.emplace(modules, *context);
  return *context;
}

absl::StatusOr<std::shared_ptr<const YangContext>> ContextCache::Get(
    std::vector<ModuleSpec> modules,
    const std::vector<std::string>& extra_search_dirs) {
  if (extra_search_dirs.empty()) return Get(std::move(modules));
  for (auto& spec : modules)
    std::sort(spec.features.begin(), spec.features.end());
  std::sort(modules.begin(), modules.end());
  modules.erase(std::unique(modules.begin(), modules.end()), modules.end());
  auto key = std::make_pair(extra_search_dirs, modules);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = extra_cache_.find(key);
  if (it != extra_cache_.end()) return it->second;
  std::vector<std::string> dirs = extra_search_dirs;
  dirs.insert(dirs.end(), search_dirs_.begin(), search_dirs_.end());
  auto context = YangContext::Build(dirs, modules);
  if (!context.ok()) return context.status();
  extra_cache_.emplace(std::move(key), *context);
  return *context;
}

size_t ContextCache::size() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return cache_.size() + extra_cache_.size();
}

}  // namespace southgate::schema
