#include "rest/security.h"

#include "base/base64.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

namespace rmqc::rest {
namespace {

constexpr std::string_view kSha256Prefix = "sha256:";

std::string sha256_raw(std::string_view text) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string sha256_hex(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string raw = sha256_raw(text);
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

Result<Authenticator> Authenticator::create(const SecurityOptions& options) {
  Authenticator a;
  auto add = [&a](const std::string& entry, bool bearer) -> Result<void> {
    const char* key = bearer ? "rest.auth.bearer.tokens" : "rest.auth.basic.users";
    std::string_view e = trim(entry);
    std::size_t c1 = e.find(':');
    std::size_t c2 = c1 == std::string_view::npos ? c1 : e.find(':', c1 + 1);
    if (c2 == std::string_view::npos) {
      return Error(ErrorCode::kInvalidConfig, std::string(key) + ": entry '" +
                                                  std::string(e.substr(0, c1)) +
                                                  "' is not name:role:secret");
    }
    Credential c;
    c.bearer = bearer;
    c.name = std::string(e.substr(0, c1));
    std::string_view role = e.substr(c1 + 1, c2 - c1 - 1);
    std::string_view secret = e.substr(c2 + 1);
    if (c.name.empty()) return Error(ErrorCode::kInvalidConfig, std::string(key) + ": empty name");
    if (role == "admin") {
      c.role = Role::kAdmin;
    } else if (role == "read") {
      c.role = Role::kRead;
    } else {
      return Error(ErrorCode::kInvalidConfig, std::string(key) + ": entry '" + c.name +
                                                  "' has role '" + std::string(role) +
                                                  "'; use read or admin");
    }
    if (secret.substr(0, kSha256Prefix.size()) == kSha256Prefix) {
      std::string_view hex = secret.substr(kSha256Prefix.size());
      if (hex.size() != 2 * SHA256_DIGEST_LENGTH) {
        return Error(ErrorCode::kInvalidConfig,
                     std::string(key) + ": entry '" + c.name + "': sha256: needs 64 hex digits");
      }
      c.hashed = true;
      for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = hex_digit(hex[i]);
        int lo = hex_digit(hex[i + 1]);
        if (hi < 0 || lo < 0) {
          return Error(ErrorCode::kInvalidConfig,
                       std::string(key) + ": entry '" + c.name + "': sha256: needs hex digits");
        }
        c.secret.push_back(static_cast<char>(hi * 16 + lo));
      }
    } else {
      c.secret = std::string(secret);
    }
    if (c.secret.empty()) {
      return Error(ErrorCode::kInvalidConfig,
                   std::string(key) + ": entry '" + c.name + "' has an empty secret");
    }
    if (!bearer && c.name.find(':') != std::string::npos) {
      return Error(ErrorCode::kInvalidConfig, std::string(key) + ": a user name has no ':'");
    }
    (bearer ? a.has_bearer_ : a.has_basic_) = true;
    a.credentials_.push_back(std::move(c));
    return {};
  };
  for (const auto& e : options.basic_users) RMQC_RETURN_IF_ERROR(add(e, false));
  for (const auto& e : options.bearer_tokens) RMQC_RETURN_IF_ERROR(add(e, true));
  return a;
}

bool Authenticator::matches(const Credential& c, std::string_view secret) const {
  if (c.hashed) return equal_constant_time(sha256_raw(secret), c.secret);
  return equal_constant_time(secret, c.secret);
}

std::vector<std::string> Authenticator::challenges() const {
  std::vector<std::string> out;
  if (has_basic_) out.emplace_back("Basic realm=\"rmq-connect\", charset=\"UTF-8\"");
  if (has_bearer_) out.emplace_back("Bearer realm=\"rmq-connect\"");
  return out;
}

AuthDecision Authenticator::check(std::string_view authorization, bool mutating) const {
  AuthDecision d;
  if (!enabled()) return d;
  authorization = trim(authorization);
  const Credential* found = nullptr;
  if (authorization.empty()) {
    d.status = 401;
    d.message = "authentication required";
    return d;
  }
  if (has_basic_ && iequals_prefix(authorization, "Basic ")) {
    auto decoded = base64_decode(trim(authorization.substr(6)));
    if (decoded) {
      std::string_view pair(reinterpret_cast<const char*>(decoded->data()), decoded->size());
      std::size_t colon = pair.find(':');
      if (colon != std::string_view::npos) {
        std::string_view user = pair.substr(0, colon);
        std::string_view password = pair.substr(colon + 1);
        for (const auto& c : credentials_) {
          if (!c.bearer && c.name == user && matches(c, password)) {
            found = &c;
            break;
          }
        }
      }
    }
  } else if (has_bearer_ && iequals_prefix(authorization, "Bearer ")) {
    std::string_view token = trim(authorization.substr(7));
    // Every token is compared (no early exit on the first byte of a name).
    for (const auto& c : credentials_) {
      if (c.bearer && matches(c, token) && !found) found = &c;
    }
  }
  if (!found) {
    d.status = 401;
    d.message = "invalid credentials";
    return d;
  }
  d.principal = found->name;
  if (mutating && found->role != Role::kAdmin) {
    d.status = 403;
    d.message = "'" + found->name + "' has the read role; this request needs admin";
  }
  return d;
}

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins) {
  for (auto& o : allowed_origins) {
    std::string_view t = trim(o);
    while (!t.empty() && t.back() == '/') t.remove_suffix(1);
    if (t.empty()) continue;
    if (t == "*") any_ = true;
    origins_.emplace_back(t);
  }
}

bool CorsPolicy::allows(std::string_view origin) const {
  if (origins_.empty() || origin.empty()) return false;
  if (any_) return true;
  return std::any_of(origins_.begin(), origins_.end(), [&](const std::string& o) {
    return o.size() == origin.size() && iequals_prefix(origin, o);
  });
}

std::string CorsPolicy::allow_origin(std::string_view origin) const {
  return any_ ? std::string("*") : std::string(origin);
}

}  // namespace rmqc::rest
