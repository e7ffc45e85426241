#include "base/base64.h"

#include <openssl/evp.h>

namespace rmqc {

void base64_encode_append(const std::uint8_t* data, std::size_t size, std::string& out) {
  std::size_t start = out.size();
  out.resize(start + 4 * ((size + 2) / 3) + 1);  // +1: EVP_EncodeBlock writes a NUL
  int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start), data,
                                static_cast<int>(size));
  out.resize(start + static_cast<std::size_t>(written));
}

std::string base64_encode(std::string_view bytes) {
  std::string out;
  base64_encode_append(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), out);
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.empty()) return std::vector<std::uint8_t>{};
  if (text.size() % 4 != 0) return std::nullopt;
  std::vector<std::uint8_t> out(3 * (text.size() / 4));
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts padding as zero bytes; drop them.
  std::size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

}  // namespace rmqc
