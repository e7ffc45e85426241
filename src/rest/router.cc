#include "rest/router.h"

#include "rest/responses.h"

#include <algorithm>
#include <cctype>
#include <exception>

namespace rmqc::rest {

const std::string* RestRequest::query_value(std::string_view key) const {
  auto it = query.find(std::string(key));
  return it == query.end() ? nullptr : &it->second;
}

std::vector<std::string> RestRequest::query_values(std::string_view key) const {
  std::vector<std::string> values;
  auto [first, last] = query.equal_range(std::string(key));
  for (auto it = first; it != last; ++it) values.push_back(it->second);
  return values;
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string percent_decode(std::string_view text, bool plus_as_space, bool& ok) {
  ok = true;
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      int hi = i + 2 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = hi >= 0 ? hex_value(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        ok = false;
        return {};
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string percent_encode_segment(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

bool split_path(std::string_view target, std::vector<std::string>& segments) {
  segments.clear();
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view raw = path.substr(pos, next - pos);
    // Empty segments ("//", leading and trailing "/") carry no meaning.
    if (!raw.empty()) {
      bool ok = false;
      segments.push_back(percent_decode(raw, false, ok));
      if (!ok) return false;
    }
    pos = next + 1;
  }
  return true;
}

void Router::add(std::string method, std::string_view pattern, ResponseStyle error_style,
                 RouteHandler handler, bool mutating) {
  Route route{std::move(method), std::string(pattern), {},
              error_style,       std::move(handler),   mutating};
  split_path(pattern, route.segments);
  routes_.push_back(std::move(route));
}

std::vector<std::string> Router::describe() const {
  std::vector<std::string> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.method + " " + r.pattern);
  return out;
}

const Router::Route* Router::match(const std::vector<std::string>& segments,
                                   std::string_view method, const Route** any,
                                   std::vector<std::string>* allowed) const {
  auto fits = [&](const Route& r) {
    if (r.segments.size() != segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (r.segments[i][0] != ':' && r.segments[i] != segments[i]) return false;
    }
    return true;
  };
  // Literal segments earlier in the path make a route more specific.
  auto more_specific = [](const Route& a, const Route& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      bool la = a.segments[i][0] != ':';
      bool lb = b.segments[i][0] != ':';
      if (la != lb) return la;
    }
    return false;
  };
  bool head = method == "HEAD";
  auto serves = [&](const Route& r) {
    return head ? r.method == "GET" && !r.mutating : r.method == method;
  };
  const Route* best = nullptr;
  for (const auto& r : routes_) {
    if (!fits(r)) continue;
    if (any && (!*any || more_specific(r, **any))) *any = &r;
    if (allowed && std::find(allowed->begin(), allowed->end(), r.method) == allowed->end()) {
      allowed->push_back(r.method);
    }
    if (serves(r) && (!best || more_specific(r, *best))) best = &r;
  }
  return best;
}

bool Router::mutates(const RestRequest& request) const {
  if (request.method == "HEAD" || request.method == "OPTIONS") return false;
  if (request.method != "GET") return true;
  // The seed's GET /connectors/{name}?config= creates or updates.
  if (request.query_value("config")) return true;
  std::vector<std::string> segments;
  if (!split_path(request.target, segments)) return false;
  const Route* route = match(segments, request.method, nullptr, nullptr);
  return route && route->mutating;
}

RestResponse Router::dispatch(RestRequest& request) const {
  std::vector<std::string> segments;
  if (!split_path(request.target, segments)) {
    return error_response(ResponseStyle::kKafka, 400, "malformed percent-encoding in the path");
  }
  const Route* any = nullptr;
  std::vector<std::string> allowed;
  const Route* best = match(segments, request.method, &any, &allowed);
  if (!best) {
    if (!any) {
      return error_response(
          ResponseStyle::kKafka, 404,
          "no such endpoint: " + request.method + " " +
              std::string(request.target.substr(0, request.target.find_first_of("?#"))));
    }
    std::string allow;
    for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
    RestResponse res = error_response(any->error_style, 405,
                                      "method " + request.method + " not allowed; use " + allow);
    res.headers.emplace_back("Allow", allow);
    return res;
  }
  request.params.clear();
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (best->segments[i][0] == ':') request.params.push_back(std::move(segments[i]));
  }
  // A throwing controller or a bug in a route answers 500; it never takes the server down.
  try {
    return best->handler(request);
  } catch (const std::exception& e) {
    return error_response(best->error_style, 500, std::string("internal error: ") + e.what());
  } catch (...) {
    return error_response(best->error_style, 500, "internal error");
  }
}

}  // namespace rmqc::rest
