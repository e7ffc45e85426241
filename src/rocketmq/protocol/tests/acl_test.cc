#include "rocketmq/protocol/acl.h"

#include "rocketmq/protocol/request_code.h"

#include <gtest/gtest.h>

#include <map>

namespace rmqc::rocketmq {
namespace {

TEST(AclTest, SignatureIsHmacSha1OfSortedValuesAndBody) {
  // HMAC-SHA1("secret", "v1" "v2" "body"), keys sorted: a=v1, b=v2. Computed independently with
  // `printf 'v1v2body' | openssl dgst -sha1 -hmac secret -binary | base64`.
  ExtFields fields{{"b", "v2"}, {"a", "v1"}};
  EXPECT_EQ(acl_signature("secret", fields, "body"), "C9raqMn2m8OlqJiS9MNuP7YjYmw=");
}

TEST(AclTest, SignedRequestsVerify) {
  std::map<std::string, std::string> accounts{{"ak", "sk"}};
  auto lookup = [&](const std::string& key) -> const std::string* {
    auto it = accounts.find(key);
    return it == accounts.end() ? nullptr : &it->second;
  };
  auto request = RemotingCommand::request(request_code::SEND_MESSAGE_V2, {{"b", "topic"}});
  request.body = "payload";
  EXPECT_EQ(verify_request(request, lookup).error().message(), "No accessKey is configured");
  sign_request(request, "ak", "sk");
  EXPECT_TRUE(verify_request(request, lookup).ok());
  request.body = "tampered";
  EXPECT_EQ(verify_request(request, lookup).error().message(),
            "Check signature failed for accessKey=ak");
  sign_request(request, "ak", "wrong secret");
  EXPECT_FALSE(verify_request(request, lookup).ok());
  sign_request(request, "nobody", "sk");
  EXPECT_EQ(verify_request(request, lookup).error().message(), "No acl config for nobody");
}

}  // namespace
}  // namespace rmqc::rocketmq
