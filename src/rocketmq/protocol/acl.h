#pragma once

#include "rmqc/base/result.h"

#include "rocketmq/protocol/remoting_command.h"

#include <string>
#include <string_view>

namespace rmqc::rocketmq {

// RocketMQ's plain ACL (spec 1.7): a request carries extFields AccessKey and
//   Signature = base64(HMAC-SHA1(secretKey, values of all extFields sorted by key, Signature
//               excluded, concatenated, followed by the body)).
namespace acl {
inline constexpr std::string_view kAccessKey = "AccessKey";
inline constexpr std::string_view kSignature = "Signature";
inline constexpr std::string_view kSecurityToken = "SecurityToken";
}  // namespace acl

std::string acl_signature(std::string_view secret_key, const ExtFields& fields,
                          std::string_view body);

// Adds AccessKey and Signature (call after every other extField is set).
void sign_request(RemotingCommand& request, std::string_view access_key,
                  std::string_view secret_key);

// Checks a signed request; `secret_for` returns the secret of an access key, or nullptr for an
// unknown key. Errors carry RocketMQ's messages (kPermissionDenied).
template <typename SecretLookup>
Result<void> verify_request(const RemotingCommand& request, SecretLookup&& secret_for) {
  const std::string* key = request.ext(acl::kAccessKey);
  const std::string* signature = request.ext(acl::kSignature);
  if (!key || key->empty() || !signature) {
    return Error(ErrorCode::kPermissionDenied, "No accessKey is configured");
  }
  const std::string* secret = secret_for(*key);
  if (!secret) return Error(ErrorCode::kPermissionDenied, "No acl config for " + *key);
  if (acl_signature(*secret, request.ext_fields, request.body) != *signature) {
    return Error(ErrorCode::kPermissionDenied, "Check signature failed for accessKey=" + *key);
  }
  return {};
}

}  // namespace rmqc::rocketmq
