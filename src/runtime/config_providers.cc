#include "runtime/config_providers.h"

#include "base/file_util.h"
#include "config/properties.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>

namespace rmqc::runtime {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMinSecretSize = 3;

std::string canonical_path(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::weakly_canonical(fs::path(path), ec);
  if (ec) return fs::path(path).lexically_normal().string();
  return p.string();
}

// The reference "${provider:rest}" at `pos` (value[pos] == '$'): provider and rest, and where
// it ends; nullopt when it is not one.
struct Reference {
  std::string_view provider;
  std::string_view rest;
  std::size_t end = 0;  // one past '}'
};

std::optional<Reference> reference_at(std::string_view value, std::size_t pos) {
  if (value.substr(pos, 2) != "${") return std::nullopt;
  std::size_t close = value.find('}', pos + 2);
  if (close == std::string_view::npos) return std::nullopt;
  std::string_view inner = value.substr(pos + 2, close - pos - 2);
  std::size_t colon = inner.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  std::string_view provider = inner.substr(0, colon);
  if (!std::all_of(provider.begin(), provider.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return std::nullopt;
  }
  return Reference{provider, inner.substr(colon + 1), close + 1};
}

}  // namespace

ConfigProviders::ConfigProviders(const config::WorkerConfig& c) {
  for (const auto& p : c.config_providers) {
    env_ |= p == "env";
    file_ |= p == "file";
    dir_ |= p == "dir";
  }
  env_allowlist_ = c.config_provider_env_allowlist;
  for (const auto& p : c.config_provider_file_allowed_paths) {
    file_paths_.push_back(canonical_path(p));
  }
  for (const auto& p : c.config_provider_dir_allowed_paths) {
    dir_paths_.push_back(canonical_path(p));
  }
}

bool ConfigProviders::references(std::string_view value) const {
  if (!enabled()) return false;
  for (std::size_t pos = value.find("${"); pos != std::string_view::npos;
       pos = value.find("${", pos + 1)) {
    if (reference_at(value, pos)) return true;
  }
  return false;
}

bool ConfigProviders::path_allowed(const std::string& canonical,
                                   const std::vector<std::string>& allowed) {
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) {
    if (canonical == a) return true;
    std::string prefix = a.ends_with('/') ? a : a + "/";
    return canonical.starts_with(prefix);
  });
}

Result<std::string> ConfigProviders::lookup(std::string_view provider, std::string_view path,
                                            std::string_view key) const {
  if (provider == "env") {
    if (!env_) return Error(ErrorCode::kInvalidConfig, "the env provider is not enabled");
    bool allowed = std::any_of(env_allowlist_.begin(), env_allowlist_.end(), [&](const auto& a) {
      if (a.ends_with('*')) return key.starts_with(std::string_view(a).substr(0, a.size() - 1));
      return key == a;
    });
    if (!allowed) {
      return Error(
          ErrorCode::kInvalidConfig,
          "variable " + std::string(key) + " is not in config.providers.env.param.allowlist");
    }
    const char* v = std::getenv(std::string(key).c_str());
    if (!v) return Error(ErrorCode::kInvalidConfig, "variable " + std::string(key) + " is not set");
    return std::string(v);
  }
  if (provider == "file" || provider == "dir") {
    const bool file = provider == "file";
    if (!(file ? file_ : dir_)) {
      return Error(ErrorCode::kInvalidConfig,
                   "the " + std::string(provider) + " provider is not enabled");
    }
    if (path.empty() || path.front() != '/') {
      return Error(ErrorCode::kInvalidConfig, "needs an absolute path");
    }
    std::string target = std::string(path);
    if (!file) {
      if (key.empty() || key.find('/') != std::string_view::npos || key == "." || key == "..") {
        return Error(ErrorCode::kInvalidConfig, "a file name in the directory is needed");
      }
      target += "/" + std::string(key);
    }
    std::string canonical = canonical_path(target);
    const auto& allowed = file ? file_paths_ : dir_paths_;
    if (!path_allowed(canonical, allowed)) {
      return Error(ErrorCode::kInvalidConfig, canonical + " is not under config.providers." +
                                                  std::string(provider) + ".param.allowed.paths");
    }
    if (file) {
      auto props = config::load_properties_file(canonical);
      if (!props.ok()) {
        return Error(ErrorCode::kInvalidConfig,
                     "cannot read " + canonical + ": " + props.error().message());
      }
      const std::string* v = props->find(key);
      if (!v) {
        return Error(ErrorCode::kInvalidConfig, "no key " + std::string(key) + " in " + canonical);
      }
      return *v;
    }
    auto text = read_file(canonical);
    if (!text.ok()) {
      return Error(ErrorCode::kInvalidConfig, "cannot read " + canonical);
    }
    std::string content = std::move(text).value();
    // One trailing newline (what `echo secret > file` leaves) is not part of the value.
    if (content.ends_with('\n')) content.pop_back();
    if (content.ends_with('\r')) content.pop_back();
    return content;
  }
  return Error(ErrorCode::kInvalidConfig,
               "unknown config provider '" + std::string(provider) + "' (env, file, dir)");
}

void SecretScrubber::add(std::string value, std::string reference) {
  if (value.size() < kMinSecretSize || value == reference) return;
  for (const auto& [v, r] : secrets_) {
    if (v == value) return;
  }
  auto at = std::find_if(secrets_.begin(), secrets_.end(),
                         [&](const auto& s) { return s.first.size() < value.size(); });
  secrets_.emplace(at, std::move(value), std::move(reference));
}

std::string SecretScrubber::scrub(std::string text) const {
  for (const auto& [value, reference] : secrets_) {
    for (std::size_t pos = text.find(value); pos != std::string::npos;
         pos = text.find(value, pos + reference.size())) {
      text.replace(pos, value.size(), reference);
    }
  }
  return text;
}

Result<KeyValue> ConfigProviders::resolve(const KeyValue& config, SecretScrubber* secrets) const {
  if (!enabled()) return config;
  KeyValue out = config;
  for (const auto& [k, value] : config) {
    if (value.find("${") == std::string::npos) continue;
    std::string resolved;
    bool changed = false;
    std::size_t pos = 0;
    while (pos < value.size()) {
      std::size_t at = value.find("${", pos);
      if (at == std::string::npos) break;
      auto ref = reference_at(value, at);
      if (!ref) {
        resolved.append(value, pos, at + 2 - pos);
        pos = at + 2;
        continue;
      }
      resolved.append(value, pos, at - pos);
      std::string_view path;
      std::string_view key = ref->rest;
      if (ref->provider != "env") {
        std::size_t colon = ref->rest.find(':');
        if (colon == std::string_view::npos) {
          return Error(ErrorCode::kInvalidConfig,
                       "config key " + k + ": " + value.substr(at, ref->end - at) +
                           ": expected ${" + std::string(ref->provider) + ":<path>:<key>}");
        }
        path = ref->rest.substr(0, colon);
        key = ref->rest.substr(colon + 1);
      }
      auto v = lookup(ref->provider, path, key);
      if (!v.ok()) {
        return Error(ErrorCode::kInvalidConfig, "config key " + k + ": " +
                                                    value.substr(at, ref->end - at) + ": " +
                                                    v.error().message());
      }
      if (secrets) secrets->add(*v, value.substr(at, ref->end - at));
      resolved += *v;
      changed = true;
      pos = ref->end;
    }
    if (!changed) continue;
    if (pos < value.size()) resolved.append(value, pos, std::string::npos);
    out.put(k, std::move(resolved));
  }
  return out;
}

KeyValue ConfigProviders::unresolve(KeyValue task_config, const KeyValue& raw,
                                    const KeyValue& resolved) const {
  if (!enabled()) return task_config;
  std::map<std::string, std::string, std::less<>> back;  // resolved value -> raw value
  for (const auto& [k, v] : raw) {
    if (!references(v)) continue;
    const std::string* r = resolved.find(k);
    if (r && !r->empty() && *r != v) back.emplace(*r, v);
  }
  if (back.empty()) return task_config;
  for (const auto& [k, v] : KeyValue(task_config)) {
    if (auto it = back.find(v); it != back.end()) task_config.put(k, it->second);
  }
  return task_config;
}

}  // namespace rmqc::runtime
