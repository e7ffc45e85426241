#pragma once

// Struct, a record of a STRUCT schema, is defined in value.h (a Value holds it in place); this
// header brings it together with the schema types its callers use.
#include "rmqc/api/schema.h"
#include "rmqc/api/value.h"
