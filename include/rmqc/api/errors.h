#pragma once

#include <stdexcept>
#include <string>

namespace rmqc {

// Exceptions connector code may throw. The worker catches them at the task boundary: a
// RetriableException is retried (per errors.retry.*), anything else fails the record or the task
// according to errors.tolerance. Runtime, client and broker code use Result/Error instead.
class ConnectException : public std::runtime_error {
 public:
  explicit ConnectException(const std::string& message) : std::runtime_error(message) {}
};

// The operation may succeed if tried again (a database failover, a busy downstream).
class RetriableException : public ConnectException {
 public:
  explicit RetriableException(const std::string& message) : ConnectException(message) {}
};

// A value does not fit its schema, or a typed accessor was used on the wrong type.
class DataException : public ConnectException {
 public:
  explicit DataException(const std::string& message) : ConnectException(message) {}
};

// SchemaBuilder misuse: a field on a non-struct, a duplicate field name, a bad default.
class SchemaBuilderException : public DataException {
 public:
  explicit SchemaBuilderException(const std::string& message) : DataException(message) {}
};

}  // namespace rmqc
