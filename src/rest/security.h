#pragma once

#include "rmqc/base/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc::rest {

// What a credential may do: kRead = GET and HEAD of the routes that do not mutate (the seeds'
// mutating GET aliases need kAdmin), kAdmin = every route.
enum class Role { kRead, kAdmin };

// The REST API's security settings (worker keys rest.*, docs/operations.md#security). Empty
// credential lists = no authentication (every request is allowed, as before).
struct SecurityOptions {
  // PEM files; both set = the listeners speak HTTPS only.
  std::string tls_cert_file;
  std::string tls_key_file;
  // "user:role:password" or "user:role:sha256:<64 hex digits>" (the SHA-256 of the password).
  std::vector<std::string> basic_users;
  // "name:role:token" or "name:role:sha256:<64 hex digits>" (the SHA-256 of the token).
  std::vector<std::string> bearer_tokens;
  // Exact paths served without credentials (GET/HEAD only).
  std::vector<std::string> public_paths = {"/health", "/ready"};
  // Origins allowed cross-origin requests ("*" = any); empty = CORS off (no CORS headers, no
  // preflight answers).
  std::vector<std::string> cors_allowed_origins;
};

struct AuthDecision {
  int status = 0;  // 0 = allowed; else 401 or 403
  std::string message;
  std::string principal;  // the credential's name when one matched
};

// Checks the Authorization header of a request against the configured credentials. Secrets are
// compared in constant time; hashed ones are hashed (SHA-256) first. Thread-safe (immutable).
class Authenticator {
 public:
  // kInvalidConfig naming the bad entry (never quoting its secret).
  static Result<Authenticator> create(const SecurityOptions& options);

  bool enabled() const { return !credentials_.empty(); }
  bool has_basic() const { return has_basic_; }
  bool has_bearer() const { return has_bearer_; }
  // `mutating`: the request changes state (admin role needed).
  AuthDecision check(std::string_view authorization, bool mutating) const;
  // The WWW-Authenticate values a 401 carries (one per scheme configured).
  std::vector<std::string> challenges() const;

 private:
  struct Credential {
    bool bearer = false;
    std::string name;
    Role role = Role::kRead;
    bool hashed = false;
    std::string secret;  // the plain secret, or the 32 raw bytes of its SHA-256
  };
  bool matches(const Credential& c, std::string_view secret) const;

  std::vector<Credential> credentials_;
  bool has_basic_ = false;
  bool has_bearer_ = false;
};

// Cross-origin requests (off unless origins are configured).
class CorsPolicy {
 public:
  explicit CorsPolicy(std::vector<std::string> allowed_origins);
  bool enabled() const { return !origins_.empty(); }
  bool allows(std::string_view origin) const;
  // The Access-Control-Allow-Origin value for an allowed origin.
  std::string allow_origin(std::string_view origin) const;

 private:
  std::vector<std::string> origins_;
  bool any_ = false;
};

// SHA-256 of `text` as 64 lowercase hex digits (for hashing passwords and tokens).
std::string sha256_hex(std::string_view text);

}  // namespace rmqc::rest
