#pragma once

#include "rmqc/api/errors.h"

#include <exception>
#include <thread>
#include <typeinfo>

namespace rmqc::runtime {

template <typename Fn>
auto ErrorHandler::run(Stage stage, Fn&& fn, const std::function<FailedRecord()>& describe)
    -> Result<std::optional<decltype(fn())>> {
  using T = decltype(fn());
  auto started = std::chrono::steady_clock::now();
  for (int attempt = 0;; ++attempt) {
    std::string message;
    std::string klass;
    try {
      return std::optional<T>(fn());
    } catch (const RetriableException& e) {
      if (retry_allowed(started, attempt)) {
        add(metrics_.record_failures);
        add(metrics_.retries);
        continue;
      }
      // A stop ended the retries: the record is neither failed nor tolerated (its position must
      // not move past it); the caller just stops.
      if (cancelled()) {
        return Error(ErrorCode::kCancelled, std::string("stopped while retrying: ") + e.what());
      }
      message = e.what();
      klass = "RetriableException";
    } catch (const DataException& e) {
      message = e.what();
      klass = "DataException";
    } catch (const ConnectException& e) {
      message = e.what();
      klass = "ConnectException";
    } catch (const std::exception& e) {
      message = e.what();
      klass = typeid(e).name();
    } catch (...) {
      message = "unknown exception";
      klass = "unknown";
    }
    FailedRecord failed = describe ? describe() : FailedRecord{};
    failed.stage = stage;
    failed.error = std::move(message);
    failed.error_class = std::move(klass);
    RMQC_RETURN_IF_ERROR(report(std::move(failed)));
    return std::optional<T>();
  }
}

}  // namespace rmqc::runtime
