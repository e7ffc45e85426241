// The web dashboard: GET /ui (and /ui/) is the page, GET /ui/{asset} its script and style sheet,
// all embedded in the binary (ui_assets.h). The page itself only calls the REST API, so it follows
// the same authentication and roles as any client (rest_server.cc guards every route alike).
#include "rest/routes.h"
#include "rest/ui_assets.h"

#include <string>
#include <string_view>

namespace rmqc::rest {
namespace {

const UiAsset* find_asset(std::string_view name) {
  for (const UiAsset& a : ui_assets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// Whether an If-None-Match header value names `etag` ("*", or a list of tags, weak ones too).
bool etag_matches(std::string_view header, std::string_view etag) {
  if (header.find('*') != std::string_view::npos) return true;
  std::size_t pos = 0;
  while ((pos = header.find(etag, pos)) != std::string_view::npos) {
    std::size_t end = pos + etag.size();
    bool left_ok = pos == 0 || header[pos - 1] == ' ' || header[pos - 1] == ',' ||
                   header[pos - 1] == '/';  // W/"..."
    bool right_ok = end == header.size() || header[end] == ' ' || header[end] == ',';
    if (left_ok && right_ok) return true;
    pos = end;
  }
  return false;
}

RestResponse serve(const UiAsset& asset, const RestRequest& req) {
  RestResponse res;
  res.headers.emplace_back("ETag", std::string(asset.etag));
  // Revalidate every time (an upgraded worker serves new files at once); a match costs a 304.
  res.headers.emplace_back("Cache-Control", "no-cache");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (!req.if_none_match.empty() && etag_matches(req.if_none_match, asset.etag)) {
    res.status = 304;
    res.content_type.clear();  // no body
    return res;
  }
  // The page loads only its own files and talks only to this worker; it may not be framed
  // (its buttons change state).
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                           "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                           "base-uri 'none'; form-action 'none'");
  res.headers.emplace_back("X-Frame-Options", "DENY");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.status = 200;
  res.content_type = std::string(asset.content_type);
  res.body = std::string(asset.body);
  return res;
}

}  // namespace

void add_ui_routes(Router& router, const RouteContext&) {
  constexpr ResponseStyle kKafka = ResponseStyle::kKafka;
  // "/ui" and "/ui/" are the same route (the router ignores a trailing slash); the page refers to
  // its files by absolute paths, so both work.
  router.add("GET", "/ui", kKafka, [](const RestRequest& req) {
    const UiAsset* index = find_asset("index.html");
    if (index == nullptr) return error_response(kKafka, 404, "the dashboard is not built in");
    return serve(*index, req);
  });
  router.add("GET", "/ui/:asset", kKafka, [](const RestRequest& req) {
    const UiAsset* asset = find_asset(req.params[0]);
    if (asset == nullptr) return error_response(kKafka, 404, "no such dashboard file");
    return serve(*asset, req);
  });
}

}  // namespace rmqc::rest
