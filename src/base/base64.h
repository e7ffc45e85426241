#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rmqc {

// Standard base64 (RFC 4648, with padding), through OpenSSL's codec.
void base64_encode_append(const std::uint8_t* data, std::size_t size, std::string& out);
std::string base64_encode(std::string_view bytes);
// nullopt when text is not valid base64.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace rmqc
