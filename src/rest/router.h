#pragma once

#include "rest/rest_server.h"

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace rmqc::rest {

// A request as the routes see it: no httplib types, so route code compiles without httplib.
struct RestRequest {
  std::string method;
  std::string target;                             // raw path + query, as received
  std::multimap<std::string, std::string> query;  // decoded
  std::string body;
  std::vector<std::string> params;  // values of the route's ":name" segments, decoded, in order
  std::string if_none_match;        // the If-None-Match header (the dashboard's files), or empty

  const std::string* query_value(std::string_view key) const;
  std::vector<std::string> query_values(std::string_view key) const;
};

struct RestResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

using RouteHandler = std::function<RestResponse(const RestRequest&)>;

// Method + path-pattern routing ("/connectors/:name/tasks/:task/status"). Among the routes whose
// pattern fits the path, the one with literal segments earliest wins (/connectors/list beats
// /connectors/:name); a path that fits only routes of other methods gets 405 with Allow.
class Router {
 public:
  // mutating: a GET that changes state (the seeds' aliases); HEAD never runs those.
  void add(std::string method, std::string_view pattern, ResponseStyle error_style,
           RouteHandler handler, bool mutating = false);

  // Fills request.params and runs the route, or answers 404 / 405. HEAD runs the GET route.
  RestResponse dispatch(RestRequest& request) const;
  // Whether the request would change state: every method but GET, HEAD and OPTIONS, and the
  // GET routes registered as mutating (what the read role may not do).
  bool mutates(const RestRequest& request) const;

  std::size_t size() const { return routes_.size(); }
  // "GET /connectors/:name/config" for every route, in registration order (docs test).
  std::vector<std::string> describe() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // ":x" = parameter
    ResponseStyle error_style;
    RouteHandler handler;
    bool mutating = false;
  };
  // The route that serves `method` for these segments (HEAD: the non-mutating GET), or null;
  // `any`/`allowed` (optional) get the most specific route of any method and their methods.
  const Route* match(const std::vector<std::string>& segments, std::string_view method,
                     const Route** any, std::vector<std::string>* allowed) const;
  std::vector<Route> routes_;
};

// Splits the path of a raw request target into percent-decoded segments; false when the
// encoding is malformed. "/a/b%2Fc/" -> {"a", "b/c"}.
bool split_path(std::string_view target, std::vector<std::string>& segments);
std::string percent_decode(std::string_view text, bool plus_as_space, bool& ok);
// Encodes everything but unreserved characters, for a name put into a path (Location header).
std::string percent_encode_segment(std::string_view text);

}  // namespace rmqc::rest
