#include "jdbc/common/dialect_registry.h"

#include <algorithm>
#include <cctype>
#include <mutex>

namespace rmqc::connectors::jdbc {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// Short names users write for dialect.name, and the scheme each means.
std::string_view short_name_scheme(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kShort[] = {
      {"mysql", "mysql"},         {"mariadb", "mariadb"}, {"postgresql", "postgresql"},
      {"postgres", "postgresql"}, {"sqlite", "sqlite"},   {"sqlite3", "sqlite"},
  };
  for (const auto& [short_name, scheme] : kShort) {
    if (iequals(name, short_name)) return scheme;
  }
  return {};
}

std::mutex& installed_mutex() {
  static std::mutex m;
  return m;
}

std::shared_ptr<const DialectRegistry>& installed_slot() {
  static std::shared_ptr<const DialectRegistry> slot;
  return slot;
}

}  // namespace

void DialectRegistry::add(std::shared_ptr<const Dialect> dialect) {
  if (!dialect) return;
  for (auto& existing : dialects_) {
    if (iequals(existing->name(), dialect->name())) {
      existing = std::move(dialect);
      return;
    }
  }
  dialects_.push_back(std::move(dialect));
}

const Dialect* DialectRegistry::find_by_scheme(std::string_view scheme) const {
  for (const auto& d : dialects_) {
    for (std::string_view s : d->url_schemes()) {
      if (iequals(s, scheme)) return d.get();
    }
  }
  return nullptr;
}

const Dialect* DialectRegistry::find_by_name(std::string_view name) const {
  for (const auto& d : dialects_) {
    if (iequals(d->name(), name)) return d.get();
  }
  if (std::string_view scheme = short_name_scheme(name); !scheme.empty()) {
    return find_by_scheme(scheme);
  }
  return nullptr;
}

std::vector<std::string> DialectRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(dialects_.size());
  for (const auto& d : dialects_) out.emplace_back(d->name());
  return out;
}

Result<const Dialect*> DialectRegistry::resolve(std::string_view scheme,
                                                std::string_view dialect_name) const {
  auto known = [this] {
    std::string list;
    for (const auto& n : names()) list += (list.empty() ? "" : ", ") + n;
    return list.empty() ? std::string("none") : list;
  };
  if (!dialect_name.empty()) {
    if (const Dialect* d = find_by_name(dialect_name)) return d;
    return Error(ErrorCode::kInvalidConfig, "dialect.name '" + std::string(dialect_name) +
                                                "' is not a known dialect (known: " + known() +
                                                ")");
  }
  if (const Dialect* d = find_by_scheme(scheme)) return d;
  return Error(ErrorCode::kInvalidConfig,
               "no dialect serves connection.url scheme 'jdbc:" + std::string(scheme) +
                   ":' (known dialects: " + known() + ")");
}

std::shared_ptr<const DialectRegistry> DialectRegistry::installed() {
  std::lock_guard lock(installed_mutex());
  if (!installed_slot()) installed_slot() = std::make_shared<const DialectRegistry>();
  return installed_slot();
}

void DialectRegistry::install(std::shared_ptr<const DialectRegistry> registry) {
  std::lock_guard lock(installed_mutex());
  installed_slot() = std::move(registry);
}

}  // namespace rmqc::connectors::jdbc
