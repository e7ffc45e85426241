#include "rmqc/api/value.h"

#include "rmqc/api/errors.h"
#include "rmqc/api/struct.h"

#include "data/json_writer.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstring>
#include <functional>

namespace rmqc {
namespace {

// --- unsigned magnitude helpers for Decimal (big-endian byte arrays) ---

bool is_negative(const Bytes& twos) {
  return !twos.empty() && (twos[0] & 0x80) != 0;
}

// In-place two's complement negation.
void negate(Bytes& bytes) {
  int carry = 1;
  for (auto it = bytes.rbegin(); it != bytes.rend(); ++it) {
    int v = static_cast<std::uint8_t>(~*it) + carry;
    *it = static_cast<std::uint8_t>(v & 0xff);
    carry = v >> 8;
  }
}

// Divides magnitude by 10 in place; returns the remainder.
int divmod10(Bytes& magnitude) {
  int rem = 0;
  for (auto& b : magnitude) {
    int cur = (rem << 8) | b;
    b = static_cast<std::uint8_t>(cur / 10);
    rem = cur % 10;
  }
  return rem;
}

bool all_zero(const Bytes& b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t x) { return x == 0; });
}

// magnitude = magnitude * 10 + digit
void muladd10(Bytes& magnitude, int digit) {
  int carry = digit;
  for (auto it = magnitude.rbegin(); it != magnitude.rend(); ++it) {
    int v = *it * 10 + carry;
    *it = static_cast<std::uint8_t>(v & 0xff);
    carry = v >> 8;
  }
  while (carry > 0) {
    magnitude.insert(magnitude.begin(), static_cast<std::uint8_t>(carry & 0xff));
    carry >>= 8;
  }
}

// Minimal two's complement (as java.math.BigInteger#toByteArray) from sign + magnitude.
Bytes to_twos_complement(Bytes magnitude, bool negative) {
  auto first =
      std::find_if(magnitude.begin(), magnitude.end(), [](std::uint8_t b) { return b != 0; });
  magnitude.erase(magnitude.begin(), first);
  if (magnitude.empty()) return Bytes{0};
  if (magnitude[0] & 0x80) magnitude.insert(magnitude.begin(), 0);
  if (negative) {
    negate(magnitude);
    // Drop redundant leading 0xff bytes (keep the sign bit).
    while (magnitude.size() > 1 && magnitude[0] == 0xff && (magnitude[1] & 0x80)) {
      magnitude.erase(magnitude.begin());
    }
  }
  return magnitude;
}

void hash_combine(std::size_t& seed, std::size_t v) {
  seed ^= v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2);
}

using json::write_floating;
using json::write_integer;
using json::write_string;

void render(const Value& v, std::string& out);

void render_struct(const Struct& s, std::string& out) {
  out += "Struct{";
  const auto& fields = s.schema()->fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    out += fields[i].name;
    out += '=';
    render(s.values()[i], out);
  }
  out += '}';
}

void render(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out += "null";
      break;
    case Value::Kind::kBoolean:
      out += v.as_bool() ? "true" : "false";
      break;
    case Value::Kind::kInt8:
      write_integer(out, int{v.as_int8()});
      break;
    case Value::Kind::kInt16:
      write_integer(out, v.as_int16());
      break;
    case Value::Kind::kInt32:
      write_integer(out, v.as_int32());
      break;
    case Value::Kind::kInt64:
      write_integer(out, v.as_int64());
      break;
    case Value::Kind::kFloat32:
      write_floating(out, v.as_float32());
      break;
    case Value::Kind::kFloat64:
      write_floating(out, v.as_float64());
      break;
    case Value::Kind::kString:
      write_string(out, v.as_string());
      break;
    case Value::Kind::kBytes: {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "0x";
      for (auto b : v.as_bytes()) {
        out += kHex[b >> 4];
        out += kHex[b & 0xf];
      }
      break;
    }
    case Value::Kind::kArray: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out += ',';
        first = false;
        render(e, out);
      }
      out += ']';
      break;
    }
    case Value::Kind::kMap: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) out += ',';
        first = false;
        render(k, out);
        out += ':';
        render(e, out);
      }
      out += '}';
      break;
    }
    case Value::Kind::kStruct:
      render_struct(v.as_struct(), out);
      break;
    case Value::Kind::kDecimal:
      out += v.as_decimal().to_string();
      break;
  }
}

[[noreturn]] void wrong_kind(Value::Kind want, Value::Kind got) {
  throw DataException("expected a " + std::string(kind_name(want)) + " value, got " +
                      std::string(kind_name(got)));
}

}  // namespace

// --- Decimal ---

Decimal Decimal::from_unscaled(std::int64_t unscaled, std::int32_t scale) {
  Bytes magnitude(8);
  std::uint64_t mag = unscaled < 0 ? ~static_cast<std::uint64_t>(unscaled) + 1
                                   : static_cast<std::uint64_t>(unscaled);
  for (int i = 7; i >= 0; --i) {
    magnitude[i] = static_cast<std::uint8_t>(mag & 0xff);
    mag >>= 8;
  }
  return Decimal{to_twos_complement(std::move(magnitude), unscaled < 0), scale};
}

bool Decimal::parse(std::string_view text, Decimal& out) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  Bytes magnitude;
  std::int64_t fraction_digits = 0;
  bool any_digit = false;
  bool in_fraction = false;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      muladd10(magnitude, c - '0');
      any_digit = true;
      if (in_fraction) ++fraction_digits;
    } else if (c == '.' && !in_fraction) {
      in_fraction = true;
    } else {
      break;
    }
  }
  if (!any_digit) return false;
  std::int64_t exponent = 0;
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return false;
    ++i;
    if (i < text.size() && text[i] == '+') ++i;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), exponent);
    if (ec != std::errc() || end != text.data() + text.size()) return false;
  }
  std::int64_t scale = fraction_digits - exponent;
  if (scale > INT32_MAX || scale < INT32_MIN) return false;
  out.unscaled = to_twos_complement(std::move(magnitude), negative);
  out.scale = static_cast<std::int32_t>(scale);
  return true;
}

std::string Decimal::to_string() const {
  Bytes magnitude = unscaled;
  bool negative = is_negative(magnitude);
  if (negative) negate(magnitude);
  std::string digits;
  while (!all_zero(magnitude)) digits += static_cast<char>('0' + divmod10(magnitude));
  if (digits.empty()) digits = "0";
  std::reverse(digits.begin(), digits.end());
  std::string out = negative ? "-" : "";
  if (scale <= 0) {
    out += digits;
    if (digits != "0") out.append(static_cast<std::size_t>(-static_cast<std::int64_t>(scale)), '0');
    return out;
  }
  auto s = static_cast<std::size_t>(scale);
  if (digits.size() <= s) digits.insert(0, s - digits.size() + 1, '0');
  out.append(digits, 0, digits.size() - s);
  out += '.';
  out.append(digits, digits.size() - s, s);
  return out;
}

bool Decimal::to_int64(std::int64_t& out) const {
  if (unscaled.empty() || unscaled.size() > 8) return false;
  std::uint64_t v = is_negative(unscaled) ? ~std::uint64_t{0} : 0;
  for (auto b : unscaled) v = (v << 8) | b;
  out = static_cast<std::int64_t>(v);
  return true;
}

#define RMQC_VALUE_ACCESSOR(ret, name, type, want)   \
  ret Value::name() const {                          \
    if (const auto* p = std::get_if<type>(&data_)) { \
      return *p;                                     \
    }                                                \
    wrong_kind(Kind::want, kind());                  \
  }
RMQC_VALUE_ACCESSOR(bool, as_bool, bool, kBoolean)
RMQC_VALUE_ACCESSOR(std::int8_t, as_int8, std::int8_t, kInt8)
RMQC_VALUE_ACCESSOR(std::int16_t, as_int16, std::int16_t, kInt16)
RMQC_VALUE_ACCESSOR(std::int32_t, as_int32, std::int32_t, kInt32)
RMQC_VALUE_ACCESSOR(std::int64_t, as_int64, std::int64_t, kInt64)
RMQC_VALUE_ACCESSOR(float, as_float32, float, kFloat32)
RMQC_VALUE_ACCESSOR(double, as_float64, double, kFloat64)
RMQC_VALUE_ACCESSOR(const std::string&, as_string, std::string, kString)
RMQC_VALUE_ACCESSOR(const Bytes&, as_bytes, Bytes, kBytes)
RMQC_VALUE_ACCESSOR(const ValueList&, as_array, ValueList, kArray)
RMQC_VALUE_ACCESSOR(const ValueMap&, as_map, ValueMap, kMap)
RMQC_VALUE_ACCESSOR(const Decimal&, as_decimal, Decimal, kDecimal)
#undef RMQC_VALUE_ACCESSOR

const Struct& Value::as_struct() const {
  if (const auto* s = get_struct_if()) return *s;
  wrong_kind(Kind::kStruct, kind());
}
ValueList& Value::as_array() {
  if (auto* p = std::get_if<ValueList>(&data_)) return *p;
  wrong_kind(Kind::kArray, kind());
}
ValueMap& Value::as_map() {
  if (auto* p = std::get_if<ValueMap>(&data_)) return *p;
  wrong_kind(Kind::kMap, kind());
}
Struct& Value::as_struct() {
  if (auto* s = get_struct_if()) return *s;
  wrong_kind(Kind::kStruct, kind());
}

bool Value::to_int64(std::int64_t& out) const {
  switch (kind()) {
    case Kind::kInt8:
      out = as_int8();
      return true;
    case Kind::kInt16:
      out = as_int16();
      return true;
    case Kind::kInt32:
      out = as_int32();
      return true;
    case Kind::kInt64:
      out = as_int64();
      return true;
    default:
      return false;
  }
}

const Value* Value::find(std::string_view key) const {
  const auto* map = std::get_if<ValueMap>(&data_);
  if (!map) return nullptr;
  for (const auto& [k, v] : *map) {
    const auto* s = k.get_if<std::string>();
    if (s && *s == key) return &v;
  }
  return nullptr;
}

bool Value::operator==(const Value& other) const {
  if (data_.index() != other.data_.index()) return false;
  if (const auto* a = get_struct_if()) return *a == *other.get_struct_if();
  return data_ == other.data_;
}

std::size_t Value::hash() const {
  std::size_t seed = data_.index();
  switch (kind()) {
    case Kind::kNull:
      break;
    case Kind::kBoolean:
      hash_combine(seed, as_bool());
      break;
    case Kind::kInt8:
      hash_combine(seed, std::hash<int>{}(as_int8()));
      break;
    case Kind::kInt16:
      hash_combine(seed, std::hash<int>{}(as_int16()));
      break;
    case Kind::kInt32:
      hash_combine(seed, std::hash<int>{}(as_int32()));
      break;
    case Kind::kInt64:
      hash_combine(seed, std::hash<std::int64_t>{}(as_int64()));
      break;
    case Kind::kFloat32:
      hash_combine(seed, std::bit_cast<std::uint32_t>(as_float32()));
      break;
    case Kind::kFloat64:
      hash_combine(seed, std::bit_cast<std::uint64_t>(as_float64()));
      break;
    case Kind::kString:
      hash_combine(seed, std::hash<std::string>{}(as_string()));
      break;
    case Kind::kBytes: {
      const auto& b = as_bytes();
      hash_combine(seed, std::hash<std::string_view>{}(
                             std::string_view(reinterpret_cast<const char*>(b.data()), b.size())));
      break;
    }
    case Kind::kArray:
      for (const auto& e : as_array()) hash_combine(seed, e.hash());
      break;
    case Kind::kMap:
      for (const auto& [k, v] : as_map()) {
        hash_combine(seed, k.hash());
        hash_combine(seed, v.hash());
      }
      break;
    case Kind::kStruct:
      for (const auto& v : as_struct().values()) hash_combine(seed, v.hash());
      break;
    case Kind::kDecimal: {
      const auto& d = as_decimal();
      hash_combine(seed, Value(d.unscaled).hash());
      hash_combine(seed, std::hash<int>{}(d.scale));
      break;
    }
  }
  return seed;
}

std::string Value::to_string() const {
  if (const auto* s = get_if<std::string>()) return *s;
  std::string out;
  render(*this, out);
  return out;
}

std::string_view kind_name(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBoolean:
      return "BOOLEAN";
    case Value::Kind::kInt8:
      return "INT8";
    case Value::Kind::kInt16:
      return "INT16";
    case Value::Kind::kInt32:
      return "INT32";
    case Value::Kind::kInt64:
      return "INT64";
    case Value::Kind::kFloat32:
      return "FLOAT32";
    case Value::Kind::kFloat64:
      return "FLOAT64";
    case Value::Kind::kString:
      return "STRING";
    case Value::Kind::kBytes:
      return "BYTES";
    case Value::Kind::kArray:
      return "ARRAY";
    case Value::Kind::kMap:
      return "MAP";
    case Value::Kind::kStruct:
      return "STRUCT";
    case Value::Kind::kDecimal:
      return "DECIMAL";
  }
  return "unknown";
}

}  // namespace rmqc
