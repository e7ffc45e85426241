#pragma once

#include <span>
#include <string_view>

namespace rmqc::rest {

// One file of the web dashboard, embedded in the binary at build time (src/rest/ui/embed.cmake
// generates the definitions from src/rest/ui/).
struct UiAsset {
  std::string_view name;          // "app.js": served at /ui/app.js
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view etag;          // strong ETag, quotes included: a digest of the bytes
  std::string_view body;
};

// Every asset; "index.html" is the page served at /ui and /ui/.
std::span<const UiAsset> ui_assets();

}  // namespace rmqc::rest
