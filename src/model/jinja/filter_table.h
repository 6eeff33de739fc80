// Internal to the filters: the table the filter files fill, and helpers they share.
#pragma once

#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "model/jinja/value.h"

namespace helix::jinja {

class Interpreter;

using FilterFn = Result<Value> (*)(Interpreter&, const Value&, CallArgs&);
using FilterTable = std::unordered_map<std::string_view, FilterFn>;

void add_text_filters(FilterTable& table);      // filters_text.cpp
void add_sequence_filters(FilterTable& table);  // filters_sequence.cpp

// Jinja's attribute getter for map/sort/join/...: "a.b.0" walks items (then attributes) part by part.
Result<Value> attribute_of(Interpreter& in, const Value& item, const Value& attribute);

}  // namespace helix::jinja
