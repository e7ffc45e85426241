#pragma once

#include "rmqc/api/connector.h"

namespace rmqc {

// Base of SourceTask and SinkTask: a Component the worker runs on a thread of its own.
class Task : public Component {};

}  // namespace rmqc
