#include "cdc/mysql/table_changes.h"

#include <cctype>

namespace rmqc::connectors::cdc::mysql {
namespace {

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

bool contains_ci(std::string_view text, std::string_view word) {
  return upper(text).find(upper(word)) != std::string::npos;
}

// The display width or length in COLUMN_TYPE's parentheses ("int(11)" -> 11), if any.
std::optional<std::int64_t> type_length(std::string_view column_type) {
  const auto open = column_type.find('(');
  if (open == std::string_view::npos) return std::nullopt;
  std::int64_t n = 0;
  std::size_t i = open + 1;
  if (i >= column_type.size() || !std::isdigit(static_cast<unsigned char>(column_type[i]))) {
    return std::nullopt;
  }
  for (; i < column_type.size() && std::isdigit(static_cast<unsigned char>(column_type[i])); ++i) {
    n = n * 10 + (column_type[i] - '0');
    if (n > 0x7fffffff) return std::nullopt;
  }
  return n;
}

// ENUM('a','b') / SET('x','y') values: quotes removed, '' unescaped.
std::vector<std::string> enum_values(std::string_view column_type) {
  std::vector<std::string> out;
  const auto open = column_type.find('(');
  if (open == std::string_view::npos) return out;
  std::size_t i = open + 1;
  while (i < column_type.size()) {
    if (column_type[i] != '\'') {
      ++i;
      continue;
    }
    std::string v;
    ++i;
    while (i < column_type.size()) {
      if (column_type[i] == '\'' && i + 1 < column_type.size() && column_type[i + 1] == '\'') {
        v += '\'';
        i += 2;
      } else if (column_type[i] == '\'') {
        ++i;
        break;
      } else {
        v += column_type[i++];
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

bool is_text_type(const std::string& t) {
  return t == "CHAR" || t == "VARCHAR" || t == "TINYTEXT" || t == "TEXT" || t == "MEDIUMTEXT" ||
         t == "LONGTEXT" || t == "BINARY" || t == "VARBINARY" || t == "ENUM" || t == "SET";
}

bool is_integer_type(const std::string& t) {
  return t == "TINYINT" || t == "SMALLINT" || t == "MEDIUMINT" || t == "INT" || t == "INTEGER" ||
         t == "BIGINT";
}

std::optional<std::int32_t> narrow(std::optional<std::int64_t> v) {
  if (!v || *v < 0 || *v > 0x7fffffff) return std::nullopt;
  return static_cast<std::int32_t>(*v);
}

Value opt_int(std::optional<std::int32_t> v) {
  return v ? Value(*v) : Value();
}
Value opt_string(const std::optional<std::string>& v) {
  return v ? Value(*v) : Value();
}

// COLUMN_DEFAULT as Debezium's defaultValueExpression: MariaDB quotes string defaults ('abc')
// and spells a missing one NULL.
Value default_expression(const std::optional<std::string>& raw) {
  if (!raw || *raw == "NULL") return Value();
  const std::string& v = *raw;
  if (v.size() < 2 || v.front() != '\'' || v.back() != '\'') return Value(v);
  std::string out;
  for (std::size_t i = 1; i + 1 < v.size(); ++i) {
    out += v[i];
    if (v[i] == '\'' && i + 2 < v.size() && v[i + 1] == '\'') ++i;
  }
  return Value(std::move(out));
}

const SchemaPtr& column_schema() {
  static const SchemaPtr s =
      SchemaBuilder::struct_()
          .name("io.debezium.connector.schema.Column")
          .field("name", SchemaBuilder::string().build())
          .field("jdbcType", SchemaBuilder::int32().build())
          .field("nativeType", SchemaBuilder::int32().optional().build())
          .field("typeName", SchemaBuilder::string().build())
          .field("typeExpression", SchemaBuilder::string().optional().build())
          .field("charsetName", SchemaBuilder::string().optional().build())
          .field("length", SchemaBuilder::int32().optional().build())
          .field("scale", SchemaBuilder::int32().optional().build())
          .field("position", SchemaBuilder::int32().build())
          .field("optional", SchemaBuilder::bool_().optional().build())
          .field("autoIncremented", SchemaBuilder::bool_().optional().build())
          .field("generated", SchemaBuilder::bool_().optional().build())
          .field("comment", SchemaBuilder::string().optional().build())
          .field("defaultValueExpression", SchemaBuilder::string().optional().build())
          .field("enumValues",
                 SchemaBuilder::array(SchemaBuilder::string().build()).optional().build())
          .build();
  return s;
}

}  // namespace

std::int32_t jdbc_type(std::string_view data_type, std::string_view column_type) {
  const std::string t = upper(data_type);
  if (t == "BIT") return -7;
  if (t == "TINYINT") return type_length(column_type) == 1 ? -7 : -6;  // TINYINT(1): BIT
  if (t == "BOOL" || t == "BOOLEAN") return 16;
  if (t == "SMALLINT") return 5;
  if (t == "MEDIUMINT" || t == "INT" || t == "INTEGER" || t == "YEAR") return 4;
  if (t == "BIGINT") return -5;
  if (t == "FLOAT") return 6;
  if (t == "DOUBLE" || t == "DOUBLE PRECISION") return 8;
  if (t == "REAL") return 7;
  if (t == "DECIMAL" || t == "DEC" || t == "FIXED") return 3;
  if (t == "NUMERIC") return 2;
  if (t == "CHAR" || t == "ENUM" || t == "SET") return 1;
  if (t == "VARCHAR" || t == "TINYTEXT" || t == "TEXT" || t == "MEDIUMTEXT" || t == "LONGTEXT") {
    return 12;
  }
  if (t == "BINARY") return -2;
  if (t == "VARBINARY") return -3;
  if (t == "TINYBLOB" || t == "BLOB" || t == "MEDIUMBLOB" || t == "LONGBLOB") return 2004;
  if (t == "DATE") return 91;
  if (t == "TIME") return 92;
  if (t == "DATETIME") return 93;
  if (t == "TIMESTAMP") return 2014;  // TIMESTAMP_WITH_TIMEZONE
  return 1111;                        // OTHER: JSON, GEOMETRY and its subtypes, ...
}

const SchemaPtr& table_schema_struct() {
  static const SchemaPtr s =
      SchemaBuilder::struct_()
          .name("io.debezium.connector.schema.Table")
          .optional()
          .field("defaultCharsetName", SchemaBuilder::string().optional().build())
          .field("primaryKeyColumnNames",
                 SchemaBuilder::array(SchemaBuilder::string().build()).optional().build())
          .field("columns", SchemaBuilder::array(column_schema()).build())
          .field("comment", SchemaBuilder::string().optional().build())
          .build();
  return s;
}

const SchemaPtr& table_change_schema() {
  static const SchemaPtr s = SchemaBuilder::struct_()
                                 .name("io.debezium.connector.schema.Change")
                                 .field("type", SchemaBuilder::string().build())
                                 .field("id", SchemaBuilder::string().build())
                                 .field("table", table_schema_struct())
                                 .build();
  return s;
}

Struct describe_table(const TableInfo& table) {
  ValueList columns;
  columns.reserve(table.columns.size());
  for (const ColumnInfo& c : table.columns) {
    const std::string type = upper(c.data_type);
    const bool is_unsigned = contains_ci(c.column_type, "unsigned");
    std::string type_name = type;
    if (is_unsigned) type_name += " UNSIGNED";
    std::optional<std::int32_t> length;
    std::optional<std::int32_t> scale;
    if (is_text_type(type)) {
      if (type != "ENUM" && type != "SET") length = narrow(c.char_max_length);
    } else if (type == "DECIMAL" || type == "NUMERIC" || type == "FLOAT" || type == "DOUBLE") {
      if (type_length(c.column_type)) {
        length = narrow(c.numeric_precision);
        scale = narrow(c.numeric_scale);
      }
    } else if (is_integer_type(type) || type == "BIT" || type == "YEAR") {
      length = narrow(type_length(c.column_type));
      if (type == "BIT" && !length) length = 1;
    } else if (type == "TIME" || type == "DATETIME" || type == "TIMESTAMP") {
      if (c.datetime_precision && *c.datetime_precision > 0) length = narrow(c.datetime_precision);
    }
    const bool auto_increment = contains_ci(c.extra, "auto_increment");
    const bool generated_column = contains_ci(c.extra, "GENERATED");
    Struct col(column_schema());
    col.put("name", Value(c.name));
    col.put("jdbcType", Value(jdbc_type(c.data_type, c.column_type)));
    col.put("typeName", Value(type_name));
    col.put("typeExpression", Value(type_name));
    col.put("charsetName", opt_string(c.charset));
    col.put("length", opt_int(length));
    col.put("scale", opt_int(scale));
    col.put("position", Value(c.position));
    col.put("optional", Value(c.nullable));
    col.put("autoIncremented", Value(auto_increment));
    col.put("generated", Value(auto_increment || generated_column));
    col.put("comment", c.comment.empty() ? Value() : Value(c.comment));
    col.put("defaultValueExpression", default_expression(c.default_value));
    if (type == "ENUM" || type == "SET") {
      ValueList values;
      for (auto& v : enum_values(c.column_type)) values.emplace_back(std::move(v));
      col.put("enumValues", Value(std::move(values)));
    }
    columns.emplace_back(std::move(col));
  }
  ValueList keys;
  for (const auto& k : table.primary_key) keys.emplace_back(k);
  Struct out(table_schema_struct());
  out.put("defaultCharsetName", opt_string(table.charset));
  out.put("primaryKeyColumnNames", Value(std::move(keys)));
  out.put("columns", Value(std::move(columns)));
  out.put("comment", table.comment.empty() ? Value() : Value(table.comment));
  return out;
}

Struct table_change(std::string_view type, const TableRef& id, std::optional<Struct> table) {
  Struct out(table_change_schema());
  out.put("type", Value(std::string(type)));
  out.put("id", Value("\"" + id.ns + "\".\"" + id.table + "\""));
  if (table) out.put("table", Value(std::move(*table)));
  return out;
}

}  // namespace rmqc::connectors::cdc::mysql
