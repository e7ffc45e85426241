// docs/rest-api.md lists every route the server registers.
#include "rest/routes.h"
#include "rest/tests/fake_controller.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace rmqc::rest {
namespace {

// "| GET, POST | `/connectors/{name}/pause` | ..." -> {"GET /connectors/{name}/pause", "POST ..."}
std::set<std::string> documented_routes(const std::string& path) {
  std::ifstream in(path);
  std::set<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::stringstream ss(line.substr(1));
    std::string cell;
    while (std::getline(ss, cell, '|')) cells.push_back(cell);
    if (cells.size() < 2) continue;
    auto start = cells[1].find('`');
    auto end = cells[1].find('`', start + 1);
    if (start == std::string::npos || end == std::string::npos) continue;
    std::string route = cells[1].substr(start + 1, end - start - 1);
    route = route.substr(0, route.find('?'));
    std::stringstream methods(cells[0]);
    std::string method;
    while (std::getline(methods, method, ',')) {
      method.erase(0, method.find_first_not_of(' '));
      method.erase(method.find_last_not_of(' ') + 1);
      out.insert(method + " " + route);
    }
  }
  return out;
}

TEST(DocsTest, EveryRouteIsDocumented) {
  testing::FakeController fake;
  RouteContext ctx{fake, Redactor({}), RestOptions{}, "x"};
  Router router;
  add_seed_routes(router, ctx);
  add_ops_routes(router, ctx);
  add_kafka_routes(router, ctx);
  add_operation_routes(router, ctx);
  add_ui_routes(router, ctx);
  std::set<std::string> documented = documented_routes("../../docs/rest-api.md");
  ASSERT_FALSE(documented.empty()) << "docs/rest-api.md not found";
  for (std::string route : router.describe()) {
    // ":name" -> "{name}"
    for (std::size_t pos = route.find(':'); pos != std::string::npos; pos = route.find(':')) {
      std::size_t end = route.find('/', pos);
      if (end == std::string::npos) end = route.size();
      route.replace(pos, end - pos, "{" + route.substr(pos + 1, end - pos - 1) + "}");
    }
    EXPECT_TRUE(documented.count(route)) << route << " is not in docs/rest-api.md";
  }
  EXPECT_EQ(router.size(), 79u);  // update docs/rest-api.md when this changes
}

}  // namespace
}  // namespace rmqc::rest
