#include "rocketmq/protocol/acl.h"

#include "base/base64.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace rmqc::rocketmq {

std::string acl_signature(std::string_view secret_key, const ExtFields& fields,
                          std::string_view body) {
  // ExtFields is ordered by byte-wise key comparison, which is Java's TreeMap order for the
  // ASCII names RocketMQ uses.
  std::string content;
  for (const auto& [k, v] : fields) {
    if (k != acl::kSignature) content += v;
  }
  content.append(body);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha1(), secret_key.data(), static_cast<int>(secret_key.size()),
       reinterpret_cast<const unsigned char*>(content.data()), content.size(), mac, &mac_len);
  std::string out;
  base64_encode_append(mac, mac_len, out);
  return out;
}

void sign_request(RemotingCommand& request, std::string_view access_key,
                  std::string_view secret_key) {
  request.ext_fields.erase(std::string(acl::kSignature));
  request.ext_fields[std::string(acl::kAccessKey)] = std::string(access_key);
  request.ext_fields[std::string(acl::kSignature)] =
      acl_signature(secret_key, request.ext_fields, request.body);
}

}  // namespace rmqc::rocketmq
