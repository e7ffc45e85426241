// Debezium's SMTs for its change event envelope: ExtractNewRecordState (the row state instead of
// the envelope, for sinks such as JDBC) and ByLogicalTableRouter (many physical tables into one
// logical topic, keys kept unique).
#include "transforms/transform_support.h"

namespace rmqc::transforms {
namespace {

constexpr std::string_view kDebeziumPackage = "io.debezium.transforms.";

// An envelope has before, after and op (source may be absent in hand-made records).
bool is_envelope(const Schema& s) {
  return s.type() == FieldType::kStruct && s.field("op") != nullptr &&
         s.field("after") != nullptr && s.field("before") != nullptr;
}

// --- ExtractNewRecordState -----------------------------------------------------------------

// What happens to delete events and to the tombstones after them
// (delete.tombstone.handling.mode; the older drop.tombstones + delete.handling.mode map onto it).
enum class DeleteMode { kDrop, kTombstone, kRewrite, kRewriteWithTombstone, kDeleteToTombstone };

// One envelope field copied into the row or the headers: "op", "table" (from source when the
// envelope has no such field), "source.ts_ms"; "name:alias" renames the output.
struct FieldRef {
  std::string parent;  // "" = the envelope (falling back to source), else "source", ...
  std::string field;
  std::string output;  // without the prefix
};

std::vector<FieldRef> parse_field_refs(const std::string& list) {
  std::vector<FieldRef> out;
  for (auto item : split_list(list)) {
    FieldRef ref;
    std::string alias;
    if (auto colon = item.find(':'); colon != std::string::npos) {
      alias = item.substr(colon + 1);
      item.resize(colon);
    }
    if (auto dot = item.find('.'); dot != std::string::npos) {
      ref.parent = item.substr(0, dot);
      ref.field = item.substr(dot + 1);
      ref.output = ref.parent + "_" + ref.field;
    } else {
      ref.field = item;
      ref.output = item;
    }
    if (!alias.empty()) ref.output = alias;
    out.push_back(std::move(ref));
  }
  return out;
}

// Where a FieldRef's value lives in an envelope: (field of the envelope, field of that struct or
// -1).
struct FieldPath {
  int outer = -1;
  int inner = -1;
  SchemaPtr schema;
};

FieldPath resolve(const Schema& envelope, const FieldRef& ref) {
  FieldPath p;
  auto in_struct = [&](std::string_view parent, std::string_view name) {
    const Field* outer = envelope.field(parent);
    if (outer == nullptr || outer->schema->type() != FieldType::kStruct) return false;
    const Field* inner = outer->schema->field(name);
    if (inner == nullptr) return false;
    p.outer = outer->index;
    p.inner = inner->index;
    p.schema = inner->schema;
    return true;
  };
  if (!ref.parent.empty()) {
    in_struct(ref.parent, ref.field);
  } else if (const Field* f = envelope.field(ref.field)) {
    p.outer = f->index;
    p.schema = f->schema;
  } else {
    in_struct("source", ref.field);
  }
  return p;
}

const Value* value_at(const Struct& envelope, const FieldPath& p) {
  if (p.outer < 0) return nullptr;
  const Value& outer = envelope.values()[static_cast<std::size_t>(p.outer)];
  if (p.inner < 0) return &outer;
  const Struct* s = outer.get_struct_if();
  return s == nullptr ? nullptr : &s->values()[static_cast<std::size_t>(p.inner)];
}

class ExtractNewRecordState final : public Configured<Transform> {
 public:
  ConfigDef config_def() const override {
    using T = ConfigDef::Type;
    using I = ConfigDef::Importance;
    ConfigDef def;
    def.define("drop.tombstones", T::kBoolean, "true", I::kMedium,
               "Drop tombstone records (null value). Superseded by "
               "delete.tombstone.handling.mode.");
    def.define("delete.handling.mode", T::kString, "drop", I::kMedium,
               "Delete events: drop them, pass them as a record with a null value (none), or "
               "rewrite them as the old row with __deleted=true (rewrite). Superseded by "
               "delete.tombstone.handling.mode.",
               one_of_exact({"drop", "none", "rewrite"}));
    def.define("delete.tombstone.handling.mode", T::kString, "", I::kMedium,
               "Deletes and tombstones together: drop (both), tombstone (keep tombstones only), "
               "rewrite (old row with __deleted, tombstones dropped), rewrite-with-tombstone "
               "(rewrite and keep tombstones), delete-to-tombstone (the delete becomes a "
               "tombstone). Empty: from drop.tombstones and delete.handling.mode.",
               one_of_exact({"", "drop", "tombstone", "rewrite", "rewrite-with-tombstone",
                             "delete-to-tombstone"}));
    def.define("add.fields", T::kList, "", I::kMedium,
               "Envelope fields to add to the row (op, ts_ms, table, db, lsn, source.ts_ms, ...; "
               "name:alias renames), named <add.fields.prefix><name> with '.' as '_'.");
    def.define("add.fields.prefix", T::kString, "__", I::kLow, "Prefix of the added fields.");
    def.define("add.headers", T::kList, "", I::kMedium,
               "Envelope fields to add as headers, named like add.fields.");
    def.define("add.headers.prefix", T::kString, "__", I::kLow, "Prefix of the added headers.");
    def.define("route.by.field", T::kString, "", I::kLow,
               "A row field whose value becomes the record's topic.");
    return def;
  }

  void configure(const KeyValue& c) override {
    const std::string combined = c.get_string("delete.tombstone.handling.mode");
    const bool drop_tombstones = c.get_string("drop.tombstones") == "true";
    if (combined == "drop") {
      mode_ = DeleteMode::kDrop;
      keep_tombstones_ = false;
    } else if (combined == "tombstone") {
      mode_ = DeleteMode::kTombstone;
      keep_tombstones_ = true;
    } else if (combined == "rewrite") {
      mode_ = DeleteMode::kRewrite;
      keep_tombstones_ = false;
    } else if (combined == "rewrite-with-tombstone") {
      mode_ = DeleteMode::kRewriteWithTombstone;
      keep_tombstones_ = true;
    } else if (combined == "delete-to-tombstone") {
      mode_ = DeleteMode::kDeleteToTombstone;
      keep_tombstones_ = false;
    } else {
      const std::string old = c.get_string("delete.handling.mode");
      mode_ = old == "rewrite" ? DeleteMode::kRewrite
              : old == "none"  ? DeleteMode::kDeleteToTombstone
                               : DeleteMode::kDrop;
      keep_tombstones_ = !drop_tombstones;
    }
    fields_ = parse_field_refs(c.get_string("add.fields"));
    headers_ = parse_field_refs(c.get_string("add.headers"));
    field_prefix_ = c.get_string("add.fields.prefix");
    header_prefix_ = c.get_string("add.headers.prefix");
    route_by_ = c.get_string("route.by.field");
  }

  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    if (record.value.is_null()) {
      if (!keep_tombstones_) return std::nullopt;
      return record;
    }
    // The struct's own schema decides (a record's value_schema could disagree with its value).
    if (const Struct* s = record.value.get_struct_if(); s != nullptr && is_envelope(*s->schema())) {
      return from_struct(std::move(record));
    }
    if (record.value.get_if<ValueMap>() != nullptr && !record.value_schema) {
      return from_map(std::move(record));
    }
    return record;  // not a change event (a heartbeat, a schema change): unchanged
  }

 private:
  bool rewriting() const {
    return mode_ == DeleteMode::kRewrite || mode_ == DeleteMode::kRewriteWithTombstone;
  }

  // The row schema with the added fields, per envelope schema.
  struct Plan {
    SchemaPtr out;  // nullptr: the row's own schema (nothing added)
    std::vector<FieldPath> fields;
    std::vector<FieldPath> headers;
    int deleted_slot = -1;
    int op_field = -1;
    int before_field = -1;
    int after_field = -1;
  };

  Plan make_plan(const SchemaPtr& envelope) const {
    Plan p;
    p.op_field = envelope->field("op")->index;
    p.before_field = envelope->field("before")->index;
    p.after_field = envelope->field("after")->index;
    const SchemaPtr& row = envelope->field("after")->schema;
    for (const auto& ref : headers_) p.headers.push_back(resolve(*envelope, ref));
    if (fields_.empty() && !rewriting()) return p;
    auto b = copy_struct_header(*row);
    for (const auto& f : row->fields()) b.field(f.name, f.schema);
    for (const auto& ref : fields_) {
      FieldPath path = resolve(*envelope, ref);
      SchemaPtr s = path.schema ? copy_schema(*path.schema).optional().build()
                                : SchemaBuilder::string().optional().build();
      b.field(field_prefix_ + ref.output, std::move(s));
      p.fields.push_back(std::move(path));
    }
    if (rewriting()) {
      p.deleted_slot = static_cast<int>(row->fields().size() + fields_.size());
      b.field(field_prefix_ + "deleted", SchemaBuilder::string().optional().build());
    }
    p.out = b.build();
    return p;
  }

  std::optional<ConnectRecord> from_struct(ConnectRecord record) {
    Struct& env = record.value.as_struct();
    const SchemaPtr envelope_schema = env.schema();
    auto plan = plans_.get(envelope_schema, [&](const SchemaPtr& e) { return make_plan(e); });
    const Value& op_value = env.values()[static_cast<std::size_t>(plan->op_field)];
    const std::string* op = op_value.get_if<std::string>();
    const bool is_delete = op != nullptr && *op == "d";
    if (op != nullptr && *op == "t") return std::nullopt;  // truncates have no row

    for (std::size_t i = 0; i < headers_.size(); ++i) {
      const Value* v = value_at(env, plan->headers[i]);
      if (v != nullptr && !v->is_null()) {
        record.extensions.put(header_prefix_ + headers_[i].output, header_text(*v));
      }
    }
    if (is_delete) {
      switch (mode_) {
        case DeleteMode::kDrop:
        case DeleteMode::kTombstone:
          return std::nullopt;
        case DeleteMode::kDeleteToTombstone:
          record.value_schema = nullptr;
          record.value = Value();
          return record;
        case DeleteMode::kRewrite:
        case DeleteMode::kRewriteWithTombstone:
          break;
      }
    }
    const int row_field = is_delete ? plan->before_field : plan->after_field;
    Value row = std::move(env.values()[static_cast<std::size_t>(row_field)]);
    const SchemaPtr row_schema =
        envelope_schema->fields()[static_cast<std::size_t>(row_field)].schema;
    if (plan->out && !row.is_null()) {
      Struct out(plan->out);
      const std::size_t row_width = row_schema->fields().size();
      for (std::size_t i = 0; i < fields_.size(); ++i) {
        if (const Value* v = value_at(env, plan->fields[i])) {
          out.values()[row_width + i] = *v;
        }
      }
      if (plan->deleted_slot >= 0) {
        out.values()[static_cast<std::size_t>(plan->deleted_slot)] =
            Value(std::string(is_delete ? "true" : "false"));
      }
      rebuild_struct(row.as_struct(), std::move(out));
    }
    record.value_schema = plan->out ? plan->out : row_schema;
    record.value = std::move(row);
    route(record);
    return record;
  }

  std::optional<ConnectRecord> from_map(ConnectRecord record) {
    ValueMap& env = *record.value.get_if<ValueMap>();
    Value* op_value = find_entry(env, "op");
    if (op_value == nullptr || find_entry(env, "after") == nullptr) return record;
    const std::string* op = op_value->get_if<std::string>();
    const bool is_delete = op != nullptr && *op == "d";
    if (op != nullptr && *op == "t") return std::nullopt;
    auto lookup = [&](const FieldRef& ref) -> const Value* {
      if (ref.parent.empty()) {
        if (Value* v = find_entry(env, ref.field)) return v;
      }
      Value* parent = find_entry(env, ref.parent.empty() ? "source" : ref.parent);
      ValueMap* m = parent == nullptr ? nullptr : parent->get_if<ValueMap>();
      return m == nullptr ? nullptr : find_entry(*m, ref.field);
    };
    for (const auto& ref : headers_) {
      const Value* v = lookup(ref);
      if (v != nullptr && !v->is_null()) {
        record.extensions.put(header_prefix_ + ref.output, header_text(*v));
      }
    }
    if (is_delete && !rewriting()) {
      if (mode_ != DeleteMode::kDeleteToTombstone) return std::nullopt;
      record.value = Value();
      return record;
    }
    Value row = std::move(*find_entry(env, is_delete ? "before" : "after"));
    if (ValueMap* m = row.get_if<ValueMap>()) {
      for (const auto& ref : fields_) {
        const Value* v = lookup(ref);
        set_entry(*m, field_prefix_ + ref.output, v == nullptr ? Value() : *v);
      }
      if (rewriting()) {
        set_entry(*m, field_prefix_ + "deleted", Value(std::string(is_delete ? "true" : "false")));
      }
    }
    record.value = std::move(row);
    route(record);
    return record;
  }

  void route(ConnectRecord& record) const {
    if (route_by_.empty()) return;
    const Value* v = nullptr;
    if (Struct* s = record.value.get_struct_if()) {
      if (const Field* f = s->schema()->field(route_by_)) v = &s->get(*f);
    } else if (ValueMap* m = record.value.get_if<ValueMap>()) {
      v = find_entry(*m, route_by_);
    }
    if (v != nullptr && !v->is_null()) record.set_topic(header_text(*v));
  }

  DeleteMode mode_ = DeleteMode::kDrop;
  bool keep_tombstones_ = false;
  std::vector<FieldRef> fields_;
  std::vector<FieldRef> headers_;
  std::string field_prefix_;
  std::string header_prefix_;
  std::string route_by_;
  SchemaCache<Plan> plans_;
};

// --- ByLogicalTableRouter ------------------------------------------------------------------

// Routes topics matching topic.regex to topic.replacement. Rows of different physical tables
// then share a topic, so (key.enforce.uniqueness) the key gains a field naming the physical
// table: the original topic, or key.field.regex/key.field.replacement applied to it. Key, row and
// envelope schemas are renamed after the new topic, as Debezium does.
class ByLogicalTableRouter final : public Configured<Transform> {
 public:
  ConfigDef config_def() const override {
    using T = ConfigDef::Type;
    using I = ConfigDef::Importance;
    ConfigDef def;
    def.define("topic.regex", T::kString, std::nullopt, I::kHigh,
               "RE2 regular expression matched against the whole topic.", valid_regex());
    def.define("topic.replacement", T::kString, std::nullopt, I::kHigh,
               "The logical topic; $1 or ${name} insert groups of the match.");
    def.define("key.enforce.uniqueness", T::kBoolean, "true", I::kMedium,
               "Add a key field naming the physical table, so keys stay unique.");
    def.define("key.field.name", T::kString, "__dbz__physicalTableIdentifier", I::kLow,
               "Name of that key field.");
    def.define("key.field.regex", T::kString, "", I::kLow,
               "Optional RE2 regular expression applied to the original topic to compute the "
               "key field's value (with key.field.replacement).");
    def.define("key.field.replacement", T::kString, "", I::kLow,
               "The key field's value when key.field.regex matches; $1 inserts groups.");
    return def;
  }

  void configure(const KeyValue& c) override {
    topic_re_ = compile_regex("topic.regex", c.get_string("topic.regex"));
    topic_rewrite_ = java_replacement_to_rewrite("topic.replacement",
                                                 c.get_string("topic.replacement"), *topic_re_);
    unique_ = c.get_string("key.enforce.uniqueness") == "true";
    key_field_ = c.get_string("key.field.name");
    if (const auto& re = c.get_string("key.field.regex"); !re.empty()) {
      key_re_ = compile_regex("key.field.regex", re);
      key_rewrite_ = java_replacement_to_rewrite("key.field.replacement",
                                                 c.get_string("key.field.replacement"), *key_re_);
    }
  }

  std::optional<ConnectRecord> do_transform(ConnectRecord record) override {
    const std::string old_topic(record.topic());
    std::string topic;
    if (!full_match_rewrite(*topic_re_, topic_rewrite_, old_topic, topic)) return record;
    record.set_topic(topic);
    if (unique_) add_key_field(record, old_topic, topic);
    if (Struct* env_ptr = record.value.get_struct_if();
        env_ptr != nullptr && is_envelope(*env_ptr->schema())) {
      Struct& env = *env_ptr;
      const SchemaPtr in = env.schema();
      auto renamed =
          envelopes_.get(in, [&](const SchemaPtr& s) { return rename_envelope(*s, topic); });
      for (const char* side : {"before", "after"}) {
        const Field* f = in->field(side);
        if (Struct* row = env.values()[static_cast<std::size_t>(f->index)].get_struct_if()) {
          rebuild_struct(*row, renamed->field(side)->schema);
        }
      }
      rebuild_struct(env, renamed);
      record.value_schema = renamed;
    }
    return record;
  }

 private:
  std::string physical_id(const std::string& old_topic) const {
    std::string out;
    if (key_re_ && full_match_rewrite(*key_re_, key_rewrite_, old_topic, out)) return out;
    return old_topic;
  }

  void add_key_field(ConnectRecord& record, const std::string& old_topic,
                     const std::string& topic) {
    if (Struct* key = record.key.get_struct_if()) {
      auto out_schema = keys_.get(key->schema(), [&](const SchemaPtr& in) {
        auto b = copy_struct_header(*in);
        b.name(topic + ".Key");
        for (const auto& f : in->fields()) b.field(f.name, f.schema);
        b.field(key_field_, SchemaBuilder::string().build());
        return b.build();
      });
      Struct out(out_schema);
      out.values().back() = Value(physical_id(old_topic));
      rebuild_struct(*key, std::move(out));
      record.key_schema = out_schema;
    } else if (ValueMap* m = record.key.get_if<ValueMap>()) {
      set_entry(*m, key_field_, Value(physical_id(old_topic)));
    }
  }

  static SchemaPtr rename_envelope(const Schema& in, const std::string& topic) {
    const SchemaPtr& row = in.field("after")->schema;
    auto rb = copy_struct_header(*row);
    rb.name(topic + ".Value");
    for (const auto& f : row->fields()) rb.field(f.name, f.schema);
    SchemaPtr new_row = rb.build();
    auto eb = copy_struct_header(in);
    eb.name(topic + ".Envelope");
    for (const auto& f : in.fields()) {
      const bool is_row = f.name == "before" || f.name == "after";
      eb.field(f.name, is_row ? new_row : f.schema);
    }
    return eb.build();
  }

  std::unique_ptr<const RE2> topic_re_;
  std::string topic_rewrite_;
  bool unique_ = true;
  std::string key_field_;
  std::unique_ptr<const RE2> key_re_;
  std::string key_rewrite_;
  SchemaCache<SchemaPtr> keys_;
  SchemaCache<SchemaPtr> envelopes_;
};

}  // namespace

void register_debezium_transforms(PluginRegistrar& registrar) {
  add_plain_transform<ExtractNewRecordState>(
      registrar, kDebeziumPackage, "ExtractNewRecordState",
      "Replaces a Debezium change event by its row state (after, or before for rewritten "
      "deletes), with chosen envelope fields as fields or headers.");
  add_plain_transform<ByLogicalTableRouter>(
      registrar, kDebeziumPackage, "ByLogicalTableRouter",
      "Routes the change events of many physical tables into one logical topic, keeping keys "
      "unique.");
}

}  // namespace rmqc::transforms
